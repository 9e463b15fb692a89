"""``gradekit grade`` and ``gradekit check`` end to end, on the generated example submissions."""

from __future__ import annotations

import csv
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradekit.cli import main
from gradekit.course import find_course_root
from gradekit.sandbox.launcher import bwrap_works

_spec = importlib.util.spec_from_file_location(
    "example_submissions", Path(__file__).resolve().parents[2] / "examples" / "submissions.py")
EXAMPLES = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(EXAMPLES)

pytestmark = pytest.mark.slow

#: the part each example bug must cost points in (and no other part); the buggy layers also
#: train a different best model, whose accuracy earns its own credit
BUGGY_PARTS = {"layers", "fc_net", "optim", "dropout", "accuracy"}
RUBRIC = "min(floor((X - 32%)) / 23%, 1)"


@pytest.fixture(scope="module")
def examples(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("examples")
    EXAMPLES.write_examples(folder)
    return folder


@pytest.fixture(scope="module")
def graded(examples, tmp_path_factory) -> tuple[dict, Path]:
    """The examples graded as course staff grade a class: a real process, two at a time
    (the pool's workers must not inherit pytest's state)."""
    out = tmp_path_factory.mktemp("out")
    result = subprocess.run([sys.executable, "-m", "gradekit", "grade", str(examples),
                             "--format", "json", "--out", str(out), "-j", "2"],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    return {row["submission"]: row for row in rows}, out


def accuracy_test(row: dict) -> dict:
    (test,) = [t for t in row["tests"] if t["part"] == "accuracy"]
    return test


def test_the_correct_submission_gets_every_point_and_accuracy_by_the_rubric(graded):
    correct = graded[0]["correct"]
    failures = [(t["name"], t["message"]) for t in correct["tests"]
                if t["status"] != "passed" and t["part"] != "accuracy"]
    assert failures == []
    (notebook,) = correct["notebooks"]
    assert (notebook["status"], notebook["failed_cells"]) == ("completed", [])
    details = accuracy_test(correct)["details"]
    credit = min(int(details["accuracy"] * 100 - 32) / 23, 1)  # 45.1% -> floor(13.1)/23
    print(f"correct: validation accuracy X = {details['accuracy']:.1%}, credit {credit:.4f}")
    assert details["accuracy"] > 0.40 and details["rubric"] == RUBRIC
    assert details["credit"] == pytest.approx(credit)
    assert correct["parts"]["accuracy"]["score"] == pytest.approx(10 * credit)
    assert correct["score"] == pytest.approx(90 + 10 * credit) and correct["max_score"] == 100


def test_the_starter_code_gets_zero_and_says_not_implemented(graded):
    starter = graded[0]["starter"]
    assert starter["score"] == 0
    assert {t["status"] for t in starter["tests"]} == {"failed"}
    assert all(t["message"].startswith("not implemented: ") for t in starter["tests"]
               if t["part"] != "accuracy")
    assert accuracy_test(starter)["message"].startswith("best_model is None")
    (notebook,) = starter["notebooks"]
    assert notebook["status"] == "cell-errors"
    assert "NotImplementedError" in notebook["failed_cells"][0]["error"]


def test_exactly_the_bugged_parts_lose_points(graded):
    buggy = graded[0]["buggy"]
    lost = {name for name, part in buggy["parts"].items() if part["score"] < part["max_score"]}
    bugs = len(EXAMPLES.FC_NETS_BUGS)
    assert lost == BUGGY_PARTS, f"{bugs} bugs should cost points in {BUGGY_PARTS}"
    for test in buggy["tests"]:
        if test["status"] != "passed":
            assert test["message"], f"{test['name']} failed without saying why"


def test_a_less_trained_model_earns_proportionally_less(examples, graded, tmp_path):
    weaker = tmp_path / "weaker"
    shutil.copytree(examples / "correct", weaker)
    notebook = weaker / "FullyConnectedNets.ipynb"
    source = notebook.read_text()
    assert "num_epochs=25" in source
    notebook.write_text(source.replace("num_epochs=25", "num_epochs=1"))
    result = CliRunner().invoke(main, ["grade", str(weaker), "--format", "json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    mine, best = accuracy_test(row)["details"], accuracy_test(graded[0]["correct"])["details"]
    credit = max(min(int(mine["accuracy"] * 100 - 32) / 23, 1), 0)
    print(f"weaker: validation accuracy X = {mine['accuracy']:.1%}, credit {credit:.4f}")
    assert mine["accuracy"] < best["accuracy"] and mine["credit"] < best["credit"]
    assert mine["credit"] == pytest.approx(credit)
    assert row["parts"]["accuracy"]["score"] == pytest.approx(10 * credit)
    assert row["score"] == pytest.approx(90 + 10 * credit)


def test_without_the_data_set_the_accuracy_part_says_so(examples, tmp_path, monkeypatch):
    monkeypatch.setenv("GRADEKIT_DATA", str(tmp_path / "no-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    # the notebooks run (and fail where they load the data): the accuracy test asks for
    # best_model before it loads the held-out images, which are missing
    result = CliRunner().invoke(main, ["grade", str(examples / "correct"), "--format", "json"])
    assert result.exit_code == 1  # not a silent zero: staff are told what was not graded
    (row,) = json.loads(result.stdout)
    test = accuracy_test(row)
    assert test["status"] == "error" and test["message"].startswith("data missing: CIFAR-10")
    assert "gradekit data fetch cifar10" in test["message"]
    assert [f["kind"] for f in row["findings"]] == ["data-missing"]
    assert "warning: data missing" in result.stderr
    assert row["score"] == 90


def test_executed_notebooks_and_feedback_pages_are_written(graded):
    rows, out = graded
    for name, row in rows.items():
        assert (out / name / "FullyConnectedNets.ipynb").is_file()
        assert row["notebooks"][0]["executed"] == "FullyConnectedNets.ipynb"
        page = (out / name / "feedback.html").read_text()
        assert f"{row['score']:.4g}" in page
    page = (out / "correct" / "feedback.html").read_text()
    assert RUBRIC in page
    assert f"{accuracy_test(rows['correct'])['details']['accuracy']:.1%}" in page


def test_every_format_reports_the_same_scores(graded):
    rows, out = graded
    with (out / "grades.csv").open(newline="") as handle:
        gradebook = {row["submission"]: row for row in csv.DictReader(handle)}
    for name, row in rows.items():
        folder = out / name
        (document,) = json.loads((folder / "result.json").read_text())
        assert document["score"] == row["score"]
        gradescope = json.loads((folder / "results.json").read_text())
        assert gradescope["score"] == pytest.approx(row["score"])
        assert len(gradescope["tests"]) == len(row["tests"])
        assert float(gradebook[name]["score"]) == pytest.approx(row["score"], abs=0.01)
        for part, total in row["parts"].items():
            assert float(gradebook[name][part]) == pytest.approx(total["score"], abs=0.01)


CHEAT = '''
from pathlib import Path

COURSE = Path({root!r})


def affine_forward(x, w, b):
    """Borrow the answer from the reference or peek at the hidden tests, if they can be read."""
    source = (COURSE / "reference" / "cs231n" / "layers.py").read_text()
    hidden = (COURSE / "hidden_tests" / "fc_nets" / "test_layers.py").read_text()
    namespace = {{}}
    exec(source.replace("### ", "# "), namespace)
    return namespace["affine_forward"](x, w, b)
'''


@pytest.mark.skipif(not bwrap_works(), reason="needs bubblewrap (CI installs it)")
def test_the_reference_and_hidden_tests_are_out_of_reach_through_the_cli(examples, tmp_path):
    cheat = tmp_path / "cheat"
    shutil.copytree(examples / "starter", cheat)
    layers = cheat / "cs231n" / "layers.py"
    layers.write_text(layers.read_text() + CHEAT.format(root=str(find_course_root())))
    result = CliRunner().invoke(main, ["grade", str(cheat), "--format", "json",
                                       "--sandbox", "bwrap"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    affine = [t for t in row["tests"] if "affine_forward" in t["name"]]
    assert affine and all(t["status"] != "passed" for t in affine)
    assert all("No such file or directory" in t["message"] for t in affine), affine[0]


def test_a_student_release_checks_itself(tmp_path, examples, monkeypatch):
    bundle = tmp_path / "release"
    runner = CliRunner()
    made = runner.invoke(main, ["author", "release", "fc_nets", "--out", str(bundle)])
    assert made.exit_code == 0, made.output
    assert not list(bundle.rglob("hidden_tests")) and not (bundle / "reference").exists()
    assert "### BEGIN SOLUTION" not in "".join(p.read_text() for p in bundle.rglob("*.py"))

    monkeypatch.chdir(bundle)
    unfinished = runner.invoke(main, ["check"])
    assert unfinished.exit_code == 1
    assert "not implemented" in unfinished.output

    shutil.rmtree(bundle / "cs231n")
    shutil.copytree(examples / "correct" / "cs231n", bundle / "cs231n")
    finished = runner.invoke(main, ["check"])
    assert finished.exit_code == 0, finished.output
    assert "visible points" in finished.output


def test_one_at_a_time_in_the_plain_subprocess_gives_the_parallel_sandboxed_verdicts(
        examples, graded):
    """Neither the pool nor the isolation changes a verdict on honest code: the examples
    graded one at a time in the plain subprocess get the parallel (bubblewrap) run's
    verdicts (without notebooks, which the parallel run already trained)."""
    result = CliRunner().invoke(main, ["grade", str(examples), "--format", "json",
                                       "--sandbox", "subprocess", "--no-notebooks"])
    assert result.exit_code == 0, result.output

    def verdicts(row: dict) -> dict:
        return {t["name"]: (t["status"], t["score"]) for t in row["tests"]
                if t["part"] != "accuracy"}

    plain = {row["submission"]: verdicts(row) for row in json.loads(result.stdout)}
    assert plain == {name: verdicts(row) for name, row in graded[0].items()}


def test_an_unreadable_upload_still_gets_a_zero_row(tmp_path):
    upload = tmp_path / "essay.txt"
    upload.write_text("not a submission")
    result = CliRunner().invoke(main, ["grade", str(upload), "-a", "fc_nets", "--format", "json"])
    assert result.exit_code == 1, result.output  # staff must look at it
    (row,) = json.loads(result.stdout)
    assert (row["submission"], row["score"], row["max_score"]) == ("essay.txt", 0, 100)
    assert row["findings"][0]["kind"] == "unreadable"
