"""Mutants as edits of the correct submission: generated ones, and a pack's named ones."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from gradekit.authoring.release import write_solution
from gradekit.authoring.validate.mutants import (
    MUTANTS_FILE,
    _edit,
    generated_mutants,
    graded_definitions,
    graded_names,
    importers,
    named_mutants,
    sample,
)
from gradekit.course import find_course_root
from gradekit.packs import PackError, get_pack

COURSE = find_course_root()
#: what the fc_nets tests ask the submission for, as a reference run records it
TESTED = {"layers.affine_forward", "layers.batchnorm_backward_alt", "optim.adam",
          "classifiers.fc_net.FullyConnectedNet"}


@pytest.fixture(scope="module")
def solution(tmp_path_factory):
    top = tmp_path_factory.mktemp("solution")
    write_solution(get_pack("fc_nets"), COURSE, top)
    return top


def test_an_edit_grows_its_context_until_it_occurs_once():
    before = "a = 1\nb = x + y\nc = 2\nb = x + y\n"
    after = before.replace("b = x + y\nc", "b = x - y\nc")
    old, new = _edit(before, after, before)
    assert before.count(old) == 1 and before.replace(old, new) == after


def test_an_edit_never_spans_a_solution_marker():
    before = "    ### BEGIN SOLUTION\n    x = 1\n    ### END SOLUTION\n    x = 1\n"
    after = before.replace("x = 1\n    ###", "x = 2\n    ###", 1)
    assert _edit(before, after, "    x = 1\n    x = 1\n") is None  # cannot be made unique


def test_private_helpers_of_a_tested_definition_are_graded_too():
    source = ("def _helper(x):\n    return x\n\n\ndef _unused(x):\n    return x\n\n\n"
              "def tested(x):\n    return _helper(x)\n\n\ndef untested(x):\n    return x\n")
    assert graded_definitions("layers", source, {"layers.tested"}) == ["_helper", "tested"]


def test_generated_mutants_apply_to_the_correct_submission(solution):
    mutants = generated_mutants(get_pack("fc_nets"), COURSE, solution, TESTED)
    assert {m.component for m in mutants} >= TESTED | {"layers._normalise_backward"}
    assert {m.component for m in mutants} <= TESTED | {"layers._normalise_backward"}
    assert len({m.name for m in mutants}) == len(mutants)
    for mutant in mutants[:40]:
        text = (solution / mutant.file).read_text(encoding="utf-8")
        assert mutant.mutated(text) != text
        assert mutant.diff(solution).count("\n+") >= 1


def test_a_sample_is_the_same_every_run_and_reaches_every_component(solution):
    mutants = generated_mutants(get_pack("fc_nets"), COURSE, solution, TESTED)
    picked = sample(mutants, 5, seed="fc_nets")
    assert picked == sample(mutants, 5, seed="fc_nets")
    assert len(picked) == 5 and len({m.component for m in picked}) == 5
    assert sample(mutants, None, seed="x") == mutants


def test_named_mutants_gather_along_the_lineage_and_cost_nothing_where_not_graded(tmp_path):
    pack = get_pack("conv_nets")
    write_solution(pack, COURSE, tmp_path)
    mutants = {m.name: m for m in named_mutants(pack, tmp_path)[0]}
    assert mutants["conv-ignores-stride"].costs == {"conv"}        # its own
    assert mutants["svm-counts-the-correct-class-margin"].costs == set()  # absent here
    assert mutants["softmax-without-max-shift"].costs == set()     # given here
    assert mutants["bn-never-in-test-mode"].source.startswith("batch normalization is not")
    assert mutants["relu-backward-in-place"].component == "layers.relu_backward"


def test_a_bases_mutant_whose_text_this_version_lacks_does_not_apply(tmp_path):
    pack = get_pack("cs231n_2016")
    write_solution(pack, COURSE, tmp_path)
    mutants, skipped = named_mutants(pack, tmp_path)
    assert skipped == ["adam-t-from-0"]
    assert Counter(m.name for m in mutants)["bn-never-in-test-mode"] == 1


def test_a_packs_own_mutant_that_no_longer_matches_is_an_error(tmp_path):
    base = get_pack("fc_nets")
    folder = tmp_path / "pack"
    folder.mkdir()
    (folder / MUTANTS_FILE).write_text(
        '[[mutant]]\nname = "stale"\nmodule = "layers"\nedits = [["no such text", "x"]]\n'
        'costs = ["layers"]\n', encoding="utf-8")
    pack = dataclasses.replace(base, path=folder, lineage=((base.name, folder),))
    write_solution(base, COURSE, tmp_path / "solution")
    with pytest.raises(PackError, match=r"stale.*not in the reference exactly once"):
        named_mutants(pack, tmp_path / "solution")


def test_a_mutant_entry_with_unknown_keys_is_refused(tmp_path):
    base = get_pack("fc_nets")
    (tmp_path / MUTANTS_FILE).write_text(
        '[[mutant]]\nname = "x"\nmodule = "layers"\nedits = []\ncost = ["layers"]\n',
        encoding="utf-8")
    pack = dataclasses.replace(base, path=tmp_path, lineage=((base.name, tmp_path),))
    with pytest.raises(PackError, match="unknown keys cost; no costs"):
        named_mutants(pack, tmp_path)


def test_what_the_modules_import_from_other_student_files_is_graded_through_them():
    graded = graded_names(get_pack("conv_nets"), COURSE, {"layers.affine_forward"})
    assert graded == {"layers.affine_forward", "classifiers.regularization.l2_penalty"}


def test_a_module_is_run_by_those_importing_it_directly_or_through_another():
    reach = importers(get_pack("fc_nets"), COURSE)
    assert reach["layers"] >= {"layers", "layer_utils", "classifiers.fc_net"}
    assert "optim" not in reach["layers"] and reach["optim"] == {"optim", "solver"}
    assert reach["classifiers.regularization"] == {"classifiers.regularization",
                                                   "classifiers.fc_net"}


def test_a_version_can_take_its_own_named_mutants_only(tmp_path):
    pack = get_pack("cs231n_2017")
    write_solution(pack, COURSE, tmp_path)
    assert [m.name for m in named_mutants(pack, tmp_path, inherited=False)[0]] == [
        "adam-t-from-0"]
