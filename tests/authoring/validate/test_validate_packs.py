"""``gradekit author validate`` end to end, through the sandbox: every shipped pack holds, and
a hidden test weakened on purpose is caught by the bug it now lets through."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gradekit.authoring.validate.run import validate_pack
from gradekit.course import find_course_root
from gradekit.packs import AssignmentPack, find_packs, get_pack

COURSE = find_course_root()
PACKS = sorted(find_packs())
#: generated mutants per pack in CI, beside the whole named catalogue, each entry in the
#: pack that declares it (a version re-checks its base's entries in a full run)
SAMPLE = 2

pytestmark = pytest.mark.slow


def _explained(found) -> str:
    lines = [*found.failures]
    lines += [f"{p.test}: {p.message}" for p in (*found.reference, *found.starter)]
    lines += [f"{v.status} {v.mutant.name}: {v.message}\n{v.diff}" for v in found.verdicts
              if v.status in ("survived", "misgraded", "error")]
    return "\n".join(lines)


@pytest.mark.parametrize("name", PACKS)
def test_every_shipped_pack_holds(name):
    assert COURSE is not None
    found = validate_pack(get_pack(name), COURSE, mutants=SAMPLE, jobs=2, inherited=False)
    assert not found.failures, _explained(found)
    assert all(v.status in ("killed", "as-expected") for v in found.verdicts
               if v.mutant.named)
    assert not found.reference and not found.starter
    assert len([v for v in found.verdicts if not v.mutant.named]) == SAMPLE


#: a gradient 0.1 % off: what only a tight tolerance sees
SLIGHTLY_OFF = '''
[[mutant]]
name = "dropout-gradient-slightly-off"
module = "layers"
edits = [["        return dout * mask\\n", "        return dout * mask * 1.001\\n"]]
costs = ["dropout"]
'''
CHECK = "assert np.allclose(dx, dout * out / x)"


@pytest.fixture
def course_copy(tmp_path: Path) -> Path:
    assert COURSE is not None
    copy = tmp_path / "course"
    for folder in ("reference", "assignments", "hidden_tests"):
        shutil.copytree(COURSE / folder, copy / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    with (copy / "assignments" / "fc_nets" / "mutants.toml").open("a") as file:
        file.write(SLIGHTLY_OFF)
    return copy


def test_a_hidden_test_loosened_to_1e_1_lets_a_bug_through_and_validate_fails(course_copy,
                                                                              tmp_path):
    component = "layers.dropout_backward"  # asked for by test_dropout.py alone
    pack = AssignmentPack.load(course_copy / "assignments" / "fc_nets")
    with_tight_test = validate_pack(pack, course_copy, jobs=2, components=[component])
    verdicts = {v.mutant.name: v for v in with_tight_test.verdicts}
    assert verdicts["dropout-gradient-slightly-off"].status == "killed"
    assert not with_tight_test.failures, _explained(with_tight_test)

    test = course_copy / "hidden_tests" / "fc_nets" / "test_dropout.py"
    text = test.read_text(encoding="utf-8")
    assert text.count(CHECK) == 1
    test.write_text(text.replace(CHECK, "assert np.allclose(dx, dout * out / x, rtol=1e-1)"),
                    encoding="utf-8")
    report = tmp_path / "report"
    run = subprocess.run(
        [sys.executable, "-m", "gradekit", "author", "validate", "fc_nets", "-j", "2",
         "--component", component, "--report", str(report)],
        capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "GRADEKIT_COURSE": str(course_copy)}, timeout=600)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "named mutant(s) cost other parts than their entries say" in run.stdout
    assert "dropout-gradient-slightly-off" in run.stdout
    data = json.loads(report.with_suffix(".json").read_text(encoding="utf-8"))
    [let_through] = [m for m in data["mutants"] if m["name"] == "dropout-gradient-slightly-off"]
    assert let_through["status"] == "misgraded" and let_through["lost"] == {}
    assert let_through["message"].startswith("costs nothing; its entry says dropout")
    assert "dropout-gradient-slightly-off" in report.with_suffix(".html").read_text()
