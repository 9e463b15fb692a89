"""The installable wheel carries gradekit and nothing of the instructor's material."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory) -> list[str]:
    """Build a wheel from a copy of the tracked sources and list its members."""
    work = tmp_path_factory.mktemp("wheel")
    tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout.split()
    src = work / "src"
    for rel in tracked:
        if (REPO / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, src / rel)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(work / "dist"), str(src)], check=True)
    (wheel,) = (work / "dist").glob("gradekit-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


@pytest.mark.slow
def test_wheel_contains_the_toolkit(wheel_files):
    assert "gradekit/__init__.py" in wheel_files
    assert "gradekit/hookspecs.py" in wheel_files
    assert any(name.startswith("gradekit/fast_layers/_kernels") and name.endswith(".so")
               for name in wheel_files), "the compiled fast layers are missing from the wheel"


@pytest.mark.slow
@pytest.mark.parametrize("folder", ["reference", "hidden_tests", "assignments", "tests"])
def test_wheel_leaves_out_instructor_material(wheel_files, folder):
    assert [name for name in wheel_files if name.split("/")[0] == folder] == []
