"""Grading one submission end to end, notebooks included."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from gradekit.authoring.release import build_starter
from gradekit.course import find_course_root
from gradekit.grading import GradingOptions, grade_submission
from gradekit.harness.results import SubmissionResult
from gradekit.packs import AssignmentPack
from gradekit.sandbox.launcher import bwrap_works

COURSE = find_course_root()
NOTEBOOK = "FullyConnectedNets.ipynb"


def quick_pack(tmp_path: Path) -> AssignmentPack:
    """The fc_nets pack with notebook limits of seconds instead of minutes."""
    assert COURSE is not None
    folder = shutil.copytree(COURSE / "assignments" / "fc_nets", tmp_path / "fc_nets")
    toml = folder / "assignment.toml"
    text = toml.read_text()
    for slow, quick in (("cell_timeout = 300", "cell_timeout = 2"),
                        ("timeout = 900", "timeout = 20")):
        assert slow in text
        text = text.replace(slow, quick)
    toml.write_text(text)
    return AssignmentPack.load(folder)


@pytest.mark.slow
def test_a_hostile_notebook_costs_only_the_accuracy_part(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    data = Path(os.environ.get("GRADEKIT_DATA", COURSE.parent / "shared" / "data"))
    if not (data / "cifar-10-subset").is_dir():
        pytest.skip(f"CIFAR-10 subset not found under {data}; set GRADEKIT_DATA to run this")
    monkeypatch.setenv("GRADEKIT_DATA", str(data))
    pack = quick_pack(tmp_path)
    submission = tmp_path / "submission"
    build_starter(pack, COURSE, submission, keep_solutions=True)
    nbformat.write(new_notebook(cells=[
        new_code_cell("while True:\n    pass"),
        new_code_cell("import os\nos.kill(os.getpid(), 9)"),
        new_code_cell("best_model = None"),
    ]), str(submission / NOTEBOOK))
    options = GradingOptions(course_root=COURSE,
                             sandbox="bwrap" if bwrap_works() else "subprocess")
    result, _ = grade_submission(submission, pack, options)

    by_part: dict[str, list] = {}
    for test in result.tests:
        by_part.setdefault(test.part, []).append(test)
    for part in ("layers", "fc_net", "optim", "normalization", "dropout"):
        lost = [(t.name, t.message) for t in by_part[part] if t.score < t.max_score]
        assert lost == [], part
    [accuracy] = by_part["accuracy"]
    assert accuracy.status != "passed" and accuracy.score == 0
    assert "FullyConnectedNets.ipynb stopped early: the kernel died in cell 2" in accuracy.message
    [report] = result.notebooks
    assert report.status == "kernel-died" and report.cells_run == 1
    assert report.message.startswith("the kernel died in cell 2")
    assert report.failed_cells[0].label == "cell 1 (In [1])"
    assert report.failed_cells[0].error.startswith("CellTimeoutError")


# Every function and method of the cheat: rewrite everything it is handed (arrays zeroed,
# dicts emptied of their arrays and switched to test mode, lists extended), then answer with
# what it was handed, now all zeros, so that a reference fed the same objects would agree.
CHEAT_HELPERS = '''
import numpy as np


def _rewrite(value, depth=0):
    if isinstance(value, np.ndarray) and value.flags.writeable:
        value[...] = 0
    elif depth < 4 and isinstance(value, (list, tuple)):
        for item in value:
            _rewrite(item, depth + 1)
        if isinstance(value, list) and not any(isinstance(v, dict) for v in value):
            value.append(1)
    elif depth < 4 and isinstance(value, dict):
        for item in value.values():
            _rewrite(item, depth + 1)
        value["mode"] = "test"


def _cheat(name, args, kwargs):
    _rewrite(list(args) + list(kwargs.values()))
    arrays = [a for a in list(args) + list(kwargs.values()) if isinstance(a, np.ndarray)]
    first = arrays[0] if arrays else np.zeros(1)
    if name.endswith("_forward"):
        return first, (first,) * 4
    if name.endswith("_backward"):
        return first, first, first
    if name.endswith("_loss"):
        return 0.0, first
    return first, (kwargs.get("config") or (args[2] if len(args) > 2 else {}))


class _Cheat:
    def __init__(self, *args, **kwargs):
        _rewrite(list(args) + list(kwargs.values()))
        self.params = {}

    def loss(self, X, y=None):
        _rewrite([X, y, self.params])
        return np.zeros((len(X), 10)) if y is None else (0.0, {})
'''


def write_cheat(package: Path, modules: dict[str, str]) -> None:
    """Replace each module of ``package`` by the cheat, keeping its public names."""
    import ast

    for relative in modules.values():
        path = package / relative
        names = ast.parse(path.read_text()).body
        lines = [CHEAT_HELPERS]
        for node in names:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                lines.append(f"def {node.name}(*args, **kwargs):\n"
                             f"    return _cheat({node.name!r}, args, kwargs)\n")
            elif isinstance(node, ast.ClassDef):
                lines.append(f"class {node.name}(_Cheat):\n    pass\n")
        path.write_text("\n".join(lines))


@pytest.mark.slow
def test_rewriting_every_argument_earns_no_more_than_the_starter(tmp_path: Path) -> None:
    pack = AssignmentPack.load(COURSE / "assignments" / "fc_nets")
    options = GradingOptions(course_root=COURSE, notebooks=False,
                             sandbox="bwrap" if bwrap_works() else "subprocess")
    scores = {}
    for name in ("starter", "cheat"):
        submission = tmp_path / name
        build_starter(pack, COURSE, submission)
        if name == "cheat":
            write_cheat(submission / pack.package, pack.modules)
        result, _ = grade_submission(submission, pack, options)
        scores[name] = result
    passed = {name: sorted(t.name for t in r.tests if t.status == "passed")
              for name, r in scores.items()}
    assert scores["cheat"].score <= scores["starter"].score, passed["cheat"]
    assert set(passed["cheat"]) <= set(passed["starter"])


def graded_solution(folder: Path, edits: dict[str, tuple[str, str]],
                    drop: tuple[str, ...] = ()) -> SubmissionResult:
    """The reference solution with ``edits`` (module -> (text, replacement); an empty text
    prepends) and without the package's files ``drop``, graded without notebooks."""
    pack = AssignmentPack.load(COURSE / "assignments" / "fc_nets")
    build_starter(pack, COURSE, folder, keep_solutions=True)
    for rel in drop:
        (folder / pack.package / rel).unlink()
    for module, (old, new) in edits.items():
        path = folder / pack.package / pack.modules[module]
        text = path.read_text()
        assert old in text, f"{old!r} is not in {path}"
        path.write_text(text.replace(old, new, 1) if old else new + text)
    options = GradingOptions(course_root=COURSE, notebooks=False,
                             sandbox="bwrap" if bwrap_works() else "subprocess")
    return grade_submission(folder, pack, options)[0]


@pytest.mark.slow
def test_a_constructor_that_extends_hidden_dims_loses_only_the_side_effect_check(
        tmp_path: Path) -> None:
    result = graded_solution(tmp_path / "appends", {"classifiers.fc_net": (
        "        dims = [input_dim, *hidden_dims, num_classes]\n",
        "        hidden_dims.append(num_classes)\n        dims = [input_dim, *hidden_dims]\n")})
    lost = [(t.name, t.message) for t in result.tests
            if t.score < t.max_score and t.part != "accuracy"]
    assert [name for name, _ in lost] == [
        "test_side_effects.py::test_the_net_leaves_its_constructor_arguments_alone"], lost
    assert "hidden_dims changed length from 2 to 3" in lost[0][1]


@pytest.mark.slow
def test_failures_say_what_happened_once_and_keep_what_the_code_printed(
        tmp_path: Path) -> None:
    body = '    """Elementwise ``max(0, x)``."""\n'
    result = graded_solution(tmp_path / "faults", {
        "classifiers.fc_net": ("", "from cs231n.im2col_cython import col2im_cython\n"),
        "optim": ("", "def broken(:\n    pass\n"),
        "layers": (body, body + "    print('relu sees', x.shape)\n"),
    })

    by_part: dict[str, list] = {}
    for test in result.tests:
        by_part.setdefault(test.part, []).append(test)
    missing = ("cs231n/classifiers/fc_net.py failed to import: ModuleNotFoundError: "
               "No module named 'cs231n.im2col_cython'")
    assert {(t.status, t.message, t.cause.kind) for t in by_part["fc_net"]} == {
        ("failed", missing, "import-failed")}
    optim_messages = {t.message for t in by_part["optim"]}
    assert len(optim_messages) == 1
    [said] = optim_messages
    assert said.startswith("cs231n/optim.py failed to import: SyntaxError: ")
    assert "line " in said and "Traceback" not in said
    kinds = [f.kind for f in result.findings]
    assert kinds.count("syntax-error") == 1 and kinds.count("import-failed") == 1
    [imported] = [f for f in result.findings if f.kind == "import-failed"]
    assert imported.message.startswith(missing)

    relu = [t for t in result.tests if "relu" in t.name and t.part == "layers"]
    assert relu and all(t.status == "passed" for t in relu)
    assert all("relu sees (" in t.output for t in relu)
    assert not any(t.output for t in result.tests if t.part == "optim")


LOG_SUM_EXP = """    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[rows, y].sum() / N
    dx = np.exp(log_probs)
"""


@pytest.mark.slow
@pytest.mark.parametrize(("shift", "lost"), [
    ("x - x.max(axis=1, keepdims=True)", []),  # the notebook's classic form, correct
    ("x", ["test_layers.py::test_losses_match_reference_including_extreme_scores"
           "[offset 1000-softmax_loss]"]),  # no max shift: overflows
])
def test_a_classic_softmax_is_judged_by_its_max_shift(tmp_path: Path, shift: str,
                                                     lost: list[str]) -> None:
    classic = (f"    probs = np.exp({shift})\n"
               "    probs /= probs.sum(axis=1, keepdims=True)\n"
               "    loss = -np.log(probs[rows, y]).sum() / N\n"
               "    dx = probs.copy()\n")
    result = graded_solution(tmp_path / "classic", {"layers": (LOG_SUM_EXP, classic)})
    failed = [t.name for t in result.tests if t.score < t.max_score and t.part == "layers"]
    assert failed == lost


@pytest.mark.slow
def test_a_submission_of_another_version_gets_the_hint_and_its_own_version_full_marks(
        tmp_path: Path) -> None:
    from gradekit.authoring.release import write_solution
    from gradekit.packs import find_packs

    packs = find_packs()
    options = GradingOptions(course_root=COURSE, notebooks=False,
                             sandbox="bwrap" if bwrap_works() else "subprocess")
    write_solution(packs["cs231n_2017"], COURSE, tmp_path / "of2017")
    result, _ = grade_submission(tmp_path / "of2017", packs["fc_nets"], options)
    [hint] = [f for f in result.findings if f.kind == "other-version"]
    assert "looks written for cs231n_2016 or cs231n_2017, not fc_nets" in hint.message
    assert "'use_batchnorm'" in hint.message and "--assignment cs231n_2016" in hint.message

    write_solution(packs["ucla_hw4"], COURSE, tmp_path / "ucla")  # nndl/fc_net.py
    result, _ = grade_submission(tmp_path / "ucla", packs["ucla_hw4"], options)
    assert not [f for f in result.findings if f.kind == "other-version"]
    for name, total in result.parts.items():
        if name != "accuracy":
            assert total.score == pytest.approx(total.max_score), name
    assert result.parts["optim"].max_score == 30


@pytest.mark.slow
def test_a_layer_bug_costs_the_layers_tests_not_the_nets_built_on_it(tmp_path: Path) -> None:
    result = graded_solution(tmp_path / "bn", {"layers": (  # the nets use the alt form
        "    return _normalise_backward(dout * gamma, x_hat, std), dgamma, dbeta\n",
        "    return _normalise_backward(dout * gamma, x_hat, 2 * std), dgamma, dbeta\n")})
    lost = {(t.part, t.name.split("::")[0]) for t in result.tests
            if t.score < t.max_score and t.part != "accuracy"}
    assert ("normalization", "test_normalization.py") in lost
    # the hidden net tests ran the student's net on the reference's layers: nothing lost
    assert {name for part, name in lost if part == "fc_net"} == {"test_visible.py"}
    hidden_nets = [t for t in result.tests if t.name.startswith("test_fc_net.py")]
    assert hidden_nets and all(t.status == "passed" for t in hidden_nets if t.max_score)
    assert result.parts["fc_net"].score >= 0.9 * result.parts["fc_net"].max_score


@pytest.mark.slow
def test_the_ucla_notebooks_run_in_the_sandbox_and_reproduce_the_seed_checks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    from gradekit.authoring.release import write_solution
    from gradekit.packs import find_packs

    data = Path(os.environ.get("GRADEKIT_DATA", COURSE.parent / "shared" / "data"))
    if not (data / "cifar-10-subset").is_dir():
        pytest.skip(f"CIFAR-10 subset not found under {data}; set GRADEKIT_DATA to run this")
    monkeypatch.setenv("GRADEKIT_DATA", str(data))
    pack = find_packs()["ucla_hw4"]
    write_solution(pack, COURSE, tmp_path / "ucla")
    options = GradingOptions(course_root=COURSE, output_dir=tmp_path / "out",
                             sandbox="bwrap" if bwrap_works() else "subprocess")
    result, _ = grade_submission(tmp_path / "ucla", pack, options)
    assert [(n.name, n.status) for n in result.notebooks] == [
        ("Optimization.ipynb", "completed"), ("BatchNormalization.ipynb", "completed"),
        ("Dropout.ipynb", "completed")]
    [accuracy] = [t for t in result.tests if t.part == "accuracy"]
    assert "rubric: min(floor((X - 32%)) / 23%, 1)" in accuracy.message
    executed = nbformat.read(next((tmp_path / "out").rglob("Optimization.ipynb")), 4)
    printed = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code"
                      for o in c.outputs)
    errors = re.findall(r"^(next_w|velocity|cache|a|v) error: (\S+)$", printed, re.M)
    assert [name for name, _ in errors] == [  # momentum, Nesterov, RMSProp, Adam
        "next_w", "velocity", "next_w", "velocity", "next_w", "cache", "next_w", "a", "v"]
    assert max(float(value) for _, value in errors) < 2e-7  # seed 000's arrays, UCLA's keys


@pytest.mark.slow
def test_files_the_course_gave_are_supplied_when_a_repository_lacks_them(
        tmp_path: Path) -> None:
    result = graded_solution(tmp_path / "edited-only", {
        "layer_utils": ("", "from cs231n.fast_layers import conv_forward_fast\n")},
        drop=("fast_layers.py", "solver.py"))
    [supplied] = [f for f in result.findings if f.kind == "supplied"]
    assert supplied.message == ("files the course gave, used from the course's copy: "
                                "cs231n/fast_layers.py")  # solver.py too, unasked for: unsaid
    assert all(t.status == "passed" for t in result.tests if t.part == "layers")


@pytest.mark.slow
def test_a_given_file_the_submission_broke_is_replaced_and_said_so(tmp_path: Path) -> None:
    folder = tmp_path / "broken-solver"
    result = graded_solution(folder, {"layer_utils": ("", "from cs231n import solver\n")})
    assert not [f for f in result.findings if f.kind == "supplied"]
    (folder / "cs231n" / "solver.py").write_text("def train(:\n")
    pack = AssignmentPack.load(COURSE / "assignments" / "fc_nets")
    options = GradingOptions(course_root=COURSE, notebooks=False,
                             sandbox="bwrap" if bwrap_works() else "subprocess")
    result = grade_submission(folder, pack, options)[0]
    [supplied] = [f for f in result.findings if f.kind == "supplied"]
    assert supplied.message.endswith("cs231n/solver.py (its copy does not parse (line 1))")
    assert not [f for f in result.findings if f.kind == "syntax-error"]
    assert all(t.status == "passed" for t in result.tests if t.part == "layers")


@pytest.mark.slow
def test_a_student_exception_named_like_the_versions_cannot_drop_a_test(tmp_path: Path) -> None:
    """Only the grader's own NotInVersion leaves a test out; the student's is an error."""
    body = '    """Compute ``x.reshape(N, D) @ w + b`` for x of shape (N, d_1, ..., d_k)."""\n'
    result = graded_solution(tmp_path / "dodge", {"layers": (
        body, body + "    class NotInVersion(LookupError):\n        pass\n\n"
                     "    raise NotInVersion('not part of this version')\n")})
    affine = [t for t in result.tests if t.name.startswith("test_layers.py::test_affine_forward")]
    assert affine and all(t.status != "passed" and t.max_score > 0 for t in affine)
