"""Verdicts on mutants and what makes validate fail, from graded results."""

from __future__ import annotations

import pytest

from gradekit.authoring.validate.mutants import Mutant
from gradekit.authoring.validate.run import (
    Problem,
    Validation,
    Verdict,
    _reference_problems,
    _starter_problems,
    _verdict,
    part_of,
    unchanged,
)
from gradekit.harness.results import Cause, Finding, SubmissionResult, TestResult
from gradekit.packs import get_pack


def test_(name: str, part: str, score: float = 1.0, components=(), isolated=False,
          cause=None) -> TestResult:
    return TestResult(name=name, part=part, score=score, max_score=1.0,
                      status="passed" if score == 1.0 else "failed", message=f"{name} said",
                      components=tuple(components), isolated=isolated, cause=cause)


test_.__test__ = False  # a builder, not a test

REFERENCE = [
    test_("test_layers.py::relu", "layers", components=["layers.relu_forward"]),
    test_("test_layers.py::affine", "layers", components=["layers.affine_forward"]),
    test_("test_fc_net.py::loss", "fc_net", components=["classifiers.fc_net.TwoLayerNet"]),
    test_("test_training.py::overfit", "fc_net", components=["classifiers.fc_net.TwoLayerNet"],
          isolated=True),
]


def mutant(component: str, costs=None) -> Mutant:
    return Mutant(name="m", file="cs231n/layers.py", component=component,
                  edits=(("a", "b"),), what="a bug", costs=costs)


def graded(*tests: TestResult, findings=()) -> SubmissionResult:
    return SubmissionResult(submission="m", assignment="fc_nets", tests=list(tests),
                            findings=list(findings))


def test_a_mutant_is_counted_in_the_part_of_the_tests_that_ask_for_its_component():
    assert part_of("layers.relu_forward", REFERENCE) == "layers"
    assert part_of("classifiers.fc_net.TwoLayerNet", REFERENCE) == "fc_net"
    assert part_of("layers._helper", REFERENCE) == "layers"  # by its module's tests


REACH = {"layers": {"layers", "layer_utils", "classifiers.fc_net"}, "optim": {"optim"},
         "layer_utils": {"layer_utils", "classifiers.fc_net"},
         "classifiers.fc_net": {"classifiers.fc_net"},
         "classifiers.regularization": {"classifiers.regularization", "classifiers.fc_net"}}


def test_a_layer_mutant_need_not_run_the_isolated_tests_of_the_nets():
    pack = get_pack("fc_nets")
    assert unchanged(pack, mutant("layers.relu_forward"), REFERENCE, REACH) == [
        "test_training.py::overfit"]
    assert unchanged(pack, mutant("classifiers.fc_net.TwoLayerNet"), REFERENCE, REACH) == [
        "test_layers.py::relu", "test_layers.py::affine"]  # the layers never run the net
    # a helper module the nets import is never stood in for: the net tests all run
    assert unchanged(pack, mutant("classifiers.regularization.l2_penalty"), REFERENCE,
                     REACH) == ["test_layers.py::relu", "test_layers.py::affine"]


def test_a_mutant_need_not_run_the_tests_of_modules_that_never_run_its_own():
    optim = [test_("test_optim.py::adam", "optim", components=["optim.adam"])]
    assert unchanged(get_pack("fc_nets"), mutant("layers.relu_forward"), optim, REACH) == [
        "test_optim.py::adam"]


def test_a_generated_mutant_losing_any_point_is_killed_else_it_survives():
    killed = _verdict(mutant("layers.relu_forward"),
                      graded(test_("test_layers.py::relu", "layers", 0.0)), REFERENCE, "diff")
    assert (killed.status, killed.by, killed.lost) == ("killed", "test_layers.py::relu",
                                                       {"layers": 1.0})
    survived = _verdict(mutant("layers.relu_forward"), graded(*REFERENCE), REFERENCE, "")
    assert survived.status == "survived"


def test_a_named_mutant_must_cost_exactly_the_parts_its_entry_names():
    both = graded(test_("a", "layers", 0.0), test_("b", "fc_net", 0.0))
    charged_twice = _verdict(mutant("layers.relu_forward", frozenset({"layers"})), both,
                             REFERENCE, "")
    assert charged_twice.status == "misgraded"
    assert charged_twice.message.startswith("costs fc_net, layers; its entry says layers")
    alternative = _verdict(mutant("layers.relu_backward", frozenset()), graded(*REFERENCE),
                           REFERENCE, "")
    assert alternative.status == "as-expected"


def test_a_helper_no_test_asks_for_is_counted_where_its_bug_shows():
    killed = _verdict(mutant("classifiers.regularization.l2_penalty"),
                      graded(test_("test_fc_net.py::loss", "fc_net", 0.0)), REFERENCE, "")
    assert (killed.status, killed.part) == ("killed", "fc_net")


def test_a_grader_error_is_no_verdict_on_the_tests():
    crashed = graded(findings=[Finding("grader-error", "grading process died")])
    assert _verdict(mutant("layers.relu_forward"), crashed, REFERENCE, "").status == "error"


def test_the_reference_losing_points_is_a_problem_unless_it_needs_the_notebooks():
    pack = get_pack("fc_nets")
    artifact = Cause("missing-artifact", "best_model", "notebooks were not run")
    problems, unchecked = _reference_problems(pack, graded(
        test_("ok", "layers"), test_("broken", "layers", 0.0),
        test_("accuracy", "accuracy", 0.0, cause=artifact)))
    assert [p.test for p in problems] == ["broken"] and unchecked == ["accuracy"]


def test_the_starter_must_earn_nothing_and_read_not_implemented():
    pack = get_pack("fc_nets")
    stub = Cause("not-implemented", "layers.relu_forward", "not implemented: relu_forward")
    problems = _starter_problems(pack, graded(
        test_("stub", "layers", 0.0, cause=stub),
        test_("checks nothing", "layers", 1.0),
        test_("crashes", "layers", 0.0, cause=Cause("student-error"))))
    assert [p.test for p in problems] == ["checks nothing", "crashes"]
    assert "earns 1 of 1 points" in problems[0].message


@pytest.mark.parametrize(("statuses", "minimum", "fails"), [
    (["killed"] * 19 + ["survived"], 0.95, False),
    (["killed"] * 18 + ["survived"] * 2, 0.95, True),
    (["killed", "equivalent", "as-expected"], 0.95, False),  # neither counts
])
def test_validate_fails_below_the_minimum_score(statuses, minimum, fails):
    found = Validation("fc_nets", minimum, verdicts=[
        Verdict(mutant("layers.relu_forward"), status, "layers") for status in statuses])
    assert bool(found.failures) is fails
    assert found.to_dict()["passed"] is not fails


def test_a_misjudged_reference_or_starter_fails_validate_whatever_the_score():
    found = Validation("fc_nets", 0.95, reference=[Problem("t", "layers", "broken")])
    assert found.failures == ["the reference loses points in 1 test(s)"]
