"""``gradekit grade`` takes instructor material from trusted places only.

A hostile submission carries its own ``assignment.toml``, ``tests/conftest.py`` and test
module; the working directory may hold a pack-named folder, a ``conftest.py``, a
``pytest.ini`` and a ``numpy.py``; the environment may name pytest plugins and options.
Whatever of it the grader imported would leave a marker file behind and make every test
pass. None may: the hostile submission earns what its starter code earns, and the honest
submission next to it in a batch is graded as if alone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradekit.authoring.release import build_starter
from gradekit.cli import main
from gradekit.course import find_course_root
from gradekit.packs import PACK_FILE, get_pack

#: imported, it reads the grader's environment and makes every test pass without running
PLANTED = """
import os
import pathlib

pathlib.Path({marker!r}).write_text(repr(sorted(os.environ)))


def pytest_collection_modifyitems(items):
    for item in items:
        item.setup = item.runtest = lambda: None
"""

FREE_POINTS = """
import pathlib

pathlib.Path({marker!r}).write_text("imported")


def test_free_points():
    pass
"""


def plant_pack(folder: Path, markers: Path, label: str) -> None:
    """A copy of the real pack file plus a conftest and a test module of the attacker's."""
    (folder / "tests").mkdir(parents=True)
    shutil.copy(get_pack("fc_nets").path / PACK_FILE, folder / PACK_FILE)
    (folder / "tests" / "conftest.py").write_text(
        PLANTED.format(marker=str(markers / f"{label}-conftest")))
    (folder / "tests" / "test_x.py").write_text(
        FREE_POINTS.format(marker=str(markers / f"{label}-test")))


def grade(*args: str, cwd: Path, env: dict[str, str] | None = None) -> dict[str, dict]:
    """Run ``python -m gradekit grade ... --no-notebooks`` as staff would; rows by name."""
    done = subprocess.run(
        [sys.executable, "-m", "gradekit", "grade", *args, "--no-notebooks", "--format", "json"],
        cwd=cwd, capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})})
    assert done.returncode == 0, done.stderr
    return {row["submission"]: row for row in json.loads(done.stdout)}


def outcomes(row: dict) -> dict[str, tuple[str, float]]:
    return {t["name"]: (t["status"], t["score"]) for t in row["tests"]}


@pytest.fixture(scope="module")
def starter(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("starter") / "starter"
    build_starter(get_pack("fc_nets"), find_course_root(), folder)
    return folder


@pytest.fixture(scope="module")
def baseline(starter, tmp_path_factory) -> dict:
    """The starter code graded alone: what the hostile submission's real code earns."""
    (row,) = grade(str(starter), cwd=tmp_path_factory.mktemp("neutral")).values()
    assert row["tests"] and not row["findings"], row["findings"]
    return row


@pytest.fixture
def markers(tmp_path) -> Path:
    folder = tmp_path / "markers"
    folder.mkdir()
    return folder


@pytest.fixture
def hostile(starter, tmp_path, markers) -> Path:
    folder = tmp_path / "batch" / "hostile"
    shutil.copytree(starter, folder)
    plant_pack(folder, markers, "submission")
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("named", [False, True], ids=["without-a", "with-a-fc_nets"])
def test_a_submission_bringing_its_own_pack_earns_only_what_its_code_does(
    hostile, baseline, markers, tmp_path, named
):
    rows = grade(str(hostile), *(["-a", "fc_nets"] if named else []), cwd=tmp_path)
    assert sorted(p.name for p in markers.iterdir()) == []
    assert outcomes(rows["hostile"]) == outcomes(baseline)
    assert rows["hostile"]["score"] == baseline["score"]


@pytest.mark.slow
def test_a_pack_named_folder_and_pytest_files_in_the_working_directory_change_nothing(
    hostile, baseline, markers, tmp_path
):
    here, plugins = tmp_path / "here", tmp_path / "plugins"
    plant_pack(here / "fc_nets", markers, "cwd-pack")
    (here / "conftest.py").write_text(PLANTED.format(marker=str(markers / "cwd-conftest")))
    (here / "pytest.ini").write_text("[pytest]\naddopts = -p cwd_plugin\n")
    (here / "cwd_plugin.py").write_text(PLANTED.format(marker=str(markers / "cwd-plugin")))
    for shadow in ("numpy", "pluggy", "click"):  # what the grader imports first
        (here / f"{shadow}.py").write_text(PLANTED.format(marker=str(markers / f"cwd-{shadow}")))
    plugins.mkdir()
    (plugins / "env_plugin.py").write_text(PLANTED.format(marker=str(markers / "env-plugin")))
    env = {"PYTHONPATH": str(plugins), "PYTEST_ADDOPTS": "-p env_plugin",
           "PYTEST_PLUGINS": "env_plugin"}
    rows = grade(str(hostile), "-a", "fc_nets", cwd=here, env=env)
    assert sorted(p.name for p in markers.iterdir()) == []
    assert outcomes(rows["hostile"]) == outcomes(baseline)


@pytest.mark.slow
def test_in_a_parallel_batch_a_hostile_submission_sets_no_one_elses_grade(
    hostile, starter, baseline, markers, tmp_path
):
    honest = hostile.parent / "honest"
    shutil.copytree(starter, honest)
    # as `gradekit grade batch/*` passes them, with the hostile one first
    rows = grade(str(hostile), str(honest), "-j", "2", cwd=tmp_path)
    assert sorted(p.name for p in markers.iterdir()) == []
    assert sorted(rows) == ["honest", "hostile"]
    for row in rows.values():
        assert outcomes(row) == outcomes(baseline)
        assert row["score"] == baseline["score"]


# -- choosing the pack: usage errors, never a guess -------------------------------------

def test_a_submission_fitting_no_pack_is_a_usage_error(tmp_path):
    notebook = tmp_path / "essay.ipynb"  # only a notebook: no module file of any pack
    notebook.write_text("{}")
    result = CliRunner().invoke(main, ["grade", str(notebook)])
    assert result.exit_code == 2
    assert "Pass --assignment NAME" in result.output
    assert "fc_nets: layers.py" in result.output


def test_an_unknown_pack_is_a_usage_error_that_lists_the_known_ones(tmp_path):
    result = CliRunner().invoke(main, ["grade", str(tmp_path), "-a", "no_such_pack"])
    assert result.exit_code == 2
    assert "available: " in result.output and "fc_nets" in result.output


def test_a_pack_folder_inside_a_graded_submission_is_refused(hostile, markers):
    result = CliRunner().invoke(main, ["grade", str(hostile), "-a", str(hostile)])
    assert result.exit_code == 2
    assert "lies inside" in result.output and "graded as student work" in result.output
    assert list(markers.iterdir()) == []


def test_a_course_reference_found_inside_the_submission_is_refused(starter, tmp_path):
    # run from inside the upload, the course search would find the student's reference/
    upload, marker = tmp_path / "upload", tmp_path / "reference-imported"
    shutil.copytree(starter, upload)
    (upload / "reference").mkdir()
    (upload / "reference" / "__init__.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('imported')\n")
    env = {k: v for k, v in os.environ.items() if k != "GRADEKIT_COURSE"}
    done = subprocess.run([sys.executable, "-m", "gradekit", "grade", ".", "--no-notebooks"],
                          cwd=upload, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 2, done.stderr
    assert "the course repository" in done.stderr and "lies inside" in done.stderr
    assert not marker.exists()
