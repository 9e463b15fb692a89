"""``gradekit author new``: a new pack or a version of one, written so that it loads."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradekit.cli import main
from gradekit.course import find_course_root
from gradekit.packs import AssignmentPack

COURSE = find_course_root()


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A course with the reference and the fc_nets pack, where the scaffold may write."""
    assert COURSE is not None
    root = tmp_path / "course"
    shutil.copytree(COURSE / "reference", root / "reference",
                    ignore=shutil.ignore_patterns("notebooks", "__pycache__"))
    shutil.copytree(COURSE / "assignments" / "fc_nets", root / "assignments" / "fc_nets")
    (root / "hidden_tests" / "fc_nets").mkdir(parents=True)
    monkeypatch.setenv("GRADEKIT_COURSE", str(root))
    return root


def test_a_new_pack_loads_and_says_what_to_do_next(course):
    result = CliRunner().invoke(main, ["author", "new", "mylayers"])
    assert result.exit_code == 0, result.output
    assert "wrote hidden_tests/mylayers/test_hidden.py" in result.output
    assert "then 'gradekit author goldens mylayers'" in result.output
    pack = AssignmentPack.load(course / "assignments" / "mylayers")
    assert pack.part_points == {"layers": 10.0} and pack.extends is None
    assert (course / "reference" / "notebooks" / "mylayers").is_dir()


def test_a_new_version_extends_its_base_and_inherits_its_tests(course):
    result = CliRunner().invoke(main, ["author", "new", "fc_nets_2030", "--extends", "fc_nets"])
    assert result.exit_code == 0, result.output
    pack = AssignmentPack.load(course / "assignments" / "fc_nets_2030")
    assert pack.family == "fc_nets" and pack.modules == AssignmentPack.load(
        course / "assignments" / "fc_nets").modules
    assert pack.visible_tests == (course / "assignments" / "fc_nets" / "tests").resolve()
    assert pack.hidden_tests(course) == course / "hidden_tests" / "fc_nets"


def test_an_existing_pack_or_a_missing_base_is_refused(course):
    again = CliRunner().invoke(main, ["author", "new", "fc_nets"])
    assert again.exit_code != 0 and "already exists" in again.output
    orphan = CliRunner().invoke(main, ["author", "new", "v", "--extends", "nowhere"])
    assert orphan.exit_code != 0 and "nowhere" in orphan.output
    assert not (course / "assignments" / "v").exists()


def test_the_scaffolded_hidden_test_runs_and_grades(course):
    from gradekit.harness.session import run_tests
    from gradekit.plugin_manager import SUBMISSION_PREFIX, create_plugin_manager
    from gradekit.providers import ModuleProvider

    assert CliRunner().invoke(main, ["author", "new", "mylayers"]).exit_code == 0
    pm = create_plugin_manager(COURSE, entry_points=False)
    pm.register(ModuleProvider("cs231n", {"layers": "reference.cs231n.layers"}),
                name=SUBMISSION_PREFIX + "alice")  # the reference handed in as a submission
    result = run_tests([course / "hidden_tests" / "mylayers"], pm, part_points={"layers": 10})
    assert [(t.name, t.status) for t in result.tests] == [
        ("test_hidden.py::test_affine_forward_matches_reference", "passed")]
    assert result.score == 10
