"""``gradekit.check("layers")`` in a notebook cell: the verdicts of ``gradekit check``, on the
files as saved on disk, whatever the kernel has imported."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

import gradekit
from gradekit import checking
from gradekit.authoring.release import build_release, build_starter
from gradekit.cli import main
from gradekit.course import find_course_root
from gradekit.packs import get_pack

COURSE = find_course_root()


@pytest.fixture(scope="module")
def half_done(tmp_path_factory):
    """The fc_nets release with the correct layers.py and optim.py: the layers and optim
    tests pass, the others meet stubs (mixed verdicts to compare)."""
    if COURSE is None:
        pytest.skip("needs the course repository")
    pack = get_pack("fc_nets")
    root = tmp_path_factory.mktemp("check")
    release = build_release(pack, COURSE, root / "release")
    build_starter(pack, COURSE, root / "correct", keep_solutions=True)
    shutil.copy(release / "cs231n" / "layers.py", root / "release_layers_stub.py")
    for name in ("layers.py", "optim.py"):
        shutil.copy(root / "correct" / "cs231n" / name, release / "cs231n" / name)
    return release, root / "correct"


def _verdicts(result) -> dict[str, tuple[str, float]]:
    return {t.name: (t.status, t.score) for t in result.tests}


def test_check_in_a_cell_gives_the_verdicts_of_the_command(half_done, monkeypatch):
    release, _ = half_done
    monkeypatch.chdir(release)
    shown = []
    monkeypatch.setattr(checking, "show", lambda result, console=None: shown.append(result))
    command = CliRunner().invoke(main, ["check"])
    assert command.exit_code == 1, command.output  # the net's tests still fail
    (everything,) = shown

    in_cell = gradekit.check("layers", "optim")
    parts = {"layers", "optim"}
    expected = {name: verdict for name, verdict in _verdicts(everything).items()
                if next(t.part for t in everything.tests if t.name == name) in parts}
    assert _verdicts(in_cell.result) == expected
    assert expected and all(status == "passed" for status, _ in expected.values())
    assert {t.part for t in everything.tests} > parts  # the rest ran and was left out
    assert in_cell.passed and in_cell.score == sum(everything.parts[p].score for p in parts)
    assert repr(in_cell).startswith(f"<visible checks of fc_nets: {len(expected)}/")

    command_parts = CliRunner().invoke(main, ["check", "--part", "layers", "-p", "optim"])
    assert command_parts.exit_code == 0, command_parts.output
    assert _verdicts(shown[-1]) == expected


def test_unknown_parts_and_the_in_process_sandbox_are_refused(half_done, monkeypatch):
    release, _ = half_done
    monkeypatch.chdir(release)
    with pytest.raises(checking.CheckUsageError, match="no part 'layer'; its parts are layers"):
        gradekit.check("layer")
    with pytest.raises(checking.CheckUsageError, match="already imported"):
        gradekit.check(sandbox="none")
    wrong = CliRunner().invoke(main, ["check", "--part", "layer"])
    assert wrong.exit_code == 2 and "no part 'layer'" in wrong.output


def test_a_kernel_that_imported_the_stubs_still_checks_the_saved_files(half_done):
    """As in a notebook: the kernel imported the starter's stubbed ``layers``, then the
    student saved the finished file; the check grades the file. Importing gradekit imports
    nothing else, and importing its ``checking`` module does not hide ``gradekit.check``."""
    release, correct = half_done
    layers = release / "cs231n" / "layers.py"
    finished = layers.read_text(encoding="utf-8")
    (release / "layers_done.py").write_text(finished, encoding="utf-8")
    layers.write_text((correct.parent / "release_layers_stub.py").read_text(encoding="utf-8"),
                      encoding="utf-8")
    cell = textwrap.dedent("""
        import json, shutil, sys
        import gradekit
        assert [m for m in sys.modules if m.startswith("gradekit.")] == []
        import cs231n.layers
        try:
            cs231n.layers.affine_forward(None, None, None)
        except NotImplementedError:
            pass
        else:
            raise SystemExit("the kernel should hold the stubbed layers")
        shutil.copy("layers_done.py", "cs231n/layers.py")
        import gradekit.checking
        result = gradekit.check("layers")
        print(json.dumps({t.name: t.status for t in result.tests}))
    """)
    try:
        done = subprocess.run([sys.executable, "-c", cell], cwd=release, capture_output=True,
                              text=True, timeout=120)
    finally:
        layers.write_text(finished, encoding="utf-8")
        (release / "layers_done.py").unlink()
    assert done.returncode == 0, done.stderr
    statuses = json.loads(done.stdout.strip().splitlines()[-1])
    assert statuses and set(statuses.values()) == {"passed"}, statuses
