"""What a version's translation does with particular submissions: the other reading of
dropout, waived and accepted bugs, parts a version leaves out.

Every version's correct submission getting full marks, and each named mutant costing exactly
its parts, is what ``gradekit author validate`` proves through the sandbox
(tests/authoring/validate/test_validate_packs.py). These cases are graded in-process with the
version's pack, visible and hidden tests; the accuracy part needs the notebooks and the conv
nets' training checks the sandbox, so both are left to the end-to-end tests.
"""

from __future__ import annotations

import itertools
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from examples.versions import READINGS
from gradekit.authoring.release import write_solution
from gradekit.authoring.validate.equivalence import without_end_to_end
from gradekit.authoring.validate.mutants import Mutant, named_mutants
from gradekit.course import find_course_root
from gradekit.harness.results import SubmissionResult
from gradekit.harness.session import run_tests
from gradekit.packs import AssignmentPack, find_packs
from gradekit.plugin_manager import SUBMISSION_PREFIX, create_plugin_manager
from gradekit.providers import ModuleProvider
from gradekit.submission.package import dotted
from gradekit.versions import Version

COURSE = find_course_root()
PACKS = find_packs()
GRADED = ("layers", "fc_net", "optim", "normalization", "dropout", "conv", "cnn")
_unique = itertools.count()

pytestmark = pytest.mark.slow


_graded: dict[tuple[str, str, str | None], SubmissionResult] = {}


def grade(pack: AssignmentPack, tmp_path: Path, mutant: Mutant | None = None,
          reading: str | None = None) -> SubmissionResult:
    """Grade a generated submission to ``pack`` (with ``mutant`` applied) in-process, once
    per case for the whole module."""
    key = (pack.name, mutant.name if mutant else "", reading)
    if key not in _graded:
        _graded[key] = _grade(pack, tmp_path, mutant, reading)
    return _graded[key]


def _grade(pack: AssignmentPack, tmp_path: Path, mutant: Mutant | None,
           reading: str | None) -> SubmissionResult:
    assert COURSE is not None
    top = tmp_path / f"submission_{next(_unique)}"
    package = write_solution(pack, COURSE, top, reading)
    if mutant is not None:
        mutant.apply(top)
    name = f"student_{next(_unique)}_{pack.package}"  # unique: nothing cached across cases
    package = package.rename(top / name)
    sys.path.insert(0, str(top))
    try:
        pm = create_plugin_manager(COURSE, entry_points=False)
        modules = {prefix: f"{name}.{dotted(rel)}" for prefix, rel in pack.modules.items()}
        pm.register(ModuleProvider(pack.api, modules), name=SUBMISSION_PREFIX + name)
        tests = [*pack.visible_test_paths(), *without_end_to_end(pack.hidden_test_paths(COURSE))]
        return run_tests(tests, pm,
                         part_points=pack.part_points, version=Version.of(pack),
                         assignment=pack.name)
    finally:
        sys.path.remove(str(top))
        shutil.rmtree(top, ignore_errors=True)


def named(pack: AssignmentPack, tmp_path: Path, name: str) -> Mutant:
    """The pack's named mutant ``name`` (its ``mutants.toml``)."""
    assert COURSE is not None
    write_solution(pack, COURSE, tmp_path / "named")
    [mutant] = [m for m in named_mutants(pack, tmp_path / "named")[0] if m.name == name]
    return mutant


def lost(result: SubmissionResult) -> dict[str, list[tuple[str, str]]]:
    """Part -> the tests that lost points there, with their messages."""
    out: dict[str, list[tuple[str, str]]] = {}
    for test in result.tests:
        if test.part in GRADED and test.score < test.max_score:
            out.setdefault(test.part, []).append((test.name, test.message))
    return out


@pytest.mark.parametrize(("name", "reading"), READINGS)
def test_either_reading_of_dropout_gets_full_marks_where_the_course_says_both(
        name, reading, tmp_path):
    result = grade(PACKS[name], tmp_path, reading=reading)
    assert lost(result) == {}


def test_what_a_version_does_not_grade_is_left_out(tmp_path):
    result = grade(PACKS["ucla_hw4"], tmp_path)
    assert not [t.name for t in result.tests if "layernorm" in t.name]
    nesterov = [t for t in result.tests if "nesterov" in t.name]
    assert nesterov and all(t.status == "passed" and t.max_score > 0 for t in nesterov)
    assert all(t.max_score > 0 for t in result.tests
               if t.part != "layers" and "not charged" not in t.message)


def test_a_waived_test_runs_and_says_why_it_costs_nothing(tmp_path):
    result = grade(PACKS["cs231n_2016"], tmp_path, named(PACKS["cs231n_2016"], tmp_path,
                                                         "bn-never-in-test-mode"))
    [waived] = [t for t in result.tests if "test_mode_batchnorm" in t.name]
    assert waived.status == "failed" and waived.max_score == 0
    assert "not charged: the course's starter sets bn_param[mode]" in waived.message


def test_the_ucla_example_answers_the_seed_adam_check_in_its_own_keys(tmp_path):
    """The generated UCLA student matches seed 000's printed Adam arrays, keyed 'v'/'a'."""
    assert COURSE is not None
    package = write_solution(PACKS["ucla_hw4"], COURSE, tmp_path)
    sys.path.insert(0, str(tmp_path))
    try:
        import importlib

        optim = importlib.import_module(f"{package.name}.optim")
        N, D = 4, 5
        w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
        dw = np.linspace(-0.6, 0.4, num=N * D).reshape(N, D)
        v = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
        a = np.linspace(0.7, 0.5, num=N * D).reshape(N, D)
        next_w, config = optim.adam(w, dw, {"learning_rate": 1e-2, "v": v, "a": a, "t": 5})
    finally:
        sys.path.remove(str(tmp_path))
        for module in [m for m in sys.modules if m == "nndl" or m.startswith("nndl.")]:
            del sys.modules[module]
    assert set(config) >= {"v", "a", "t"} and "m" not in config
    assert config["v"][0, 0] == pytest.approx(0.48)       # first moment
    assert config["a"][0, 0] == pytest.approx(0.69966)    # second moment
    assert next_w[0, 0] == pytest.approx(-0.40094747)


def test_an_accepted_keepdims_shape_is_named_in_the_feedback(tmp_path):
    pack = PACKS["cs231n_2018"]
    result = grade(pack, tmp_path, named(pack, tmp_path, "keepdims-on-dgamma-and-dbeta"))
    noted = [t.message for t in result.tests if "expected (" in t.message]
    assert any("dgamma has shape (1, 5), expected (5,): accepted" in m for m in noted), noted
