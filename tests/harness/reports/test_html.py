"""The HTML feedback page: facts shown, untrusted text escaped, nothing external."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from gradekit.harness.reports import write_per_submission
from gradekit.harness.reports.html import render_html
from gradekit.harness.results import (
    Cause,
    CellFailure,
    NotebookReport,
    SubmissionResult,
    TestResult,
)
from gradekit.plugin_manager import get_plugin_manager

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


class Tags(HTMLParser):
    """Every start tag of a page, and the text of each ``<td>``."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.cells: list[str] = []
        self._in_td = False
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        self._in_td = tag == "td"
        if self._in_td:
            self.cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._in_td = False

    def handle_data(self, data: str) -> None:
        if self._in_td:
            self.cells[-1] += data


@pytest.fixture
def hostile() -> SubmissionResult:
    cell = CellFailure(index=11, execution_count=9, error=f"ValueError: {IMG}",
                       source=f"print('{SCRIPT}')", output=SCRIPT + IMG,
                       traceback=f"Traceback ...\nValueError: {SCRIPT}",
                       dependents=(f"test_acc{SCRIPT}",))
    notebook = NotebookReport("FullyConnectedNets.ipynb", "cell-errors", f"1 cell raised {IMG}",
                              cells_run=30, cells_total=41, failed_cells=(cell,),
                              executed="FullyConnectedNets.executed.ipynb")
    tests = [
        TestResult("test_layers.py::test_affine", "layers", 2.0, 2.0, "passed"),
        TestResult(f"test_layers.py::test_relu{IMG}", "layers", 0.0, 1.0, "failed",
                   f"relative error too large {SCRIPT}"),
        TestResult("test_accuracy.py::test_best_model", "accuracy", 0.565, 1.0, "partial",
                   "val accuracy 45.2%",
                   details={"accuracy": 0.452, "split": "held-out", "validation_accuracy": 0.44,
                            "rubric": "min(floor((X - 32%)) / 23%, 1)", "credit": 0.565,
                            "held_out": f"the first 1000 test images {SCRIPT}",
                            "images": 1000}),
    ]
    return SubmissionResult(f"eve{SCRIPT}", "fc_nets", tests, notebooks=[notebook])


def test_untrusted_text_is_escaped(hostile: SubmissionResult) -> None:
    page = render_html([hostile])
    assert {"script", "img"}.isdisjoint(Tags(page).tags)
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_page_is_self_contained(hostile: SubmissionResult) -> None:
    page = render_html([hostile])
    assert "http://" not in page and "https://" not in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "<link" not in page


def test_scores_accuracy_and_notebook_facts(hostile: SubmissionResult) -> None:
    page = render_html([hostile])
    cells = Tags(page).cells
    assert "2.56 / 4" in page                         # total, in the one number format
    assert "2 / 3" in cells and "1/2" in cells         # layers points, tests passed
    assert "45.2% (held-out)" in cells and "44.0%" in cells and "56.5%" in cells
    assert "images scored: the first 1000 test images &lt;script&gt;" in page
    assert "min(floor((X - 32%)) / 23%, 1)" in cells
    assert "cell 12 (In [9])" in page
    assert "30 / 41 cells run" in page
    assert 'href="FullyConnectedNets.executed.ipynb"' in page


def test_the_executed_notebook_link_can_only_be_a_relative_file(hostile) -> None:
    from dataclasses import replace

    notebook = replace(hostile.notebooks[0], executed='javascript:alert(1)" onclick="x')
    page = render_html([replace(hostile, notebooks=[notebook])])
    assert 'href="javascript%3Aalert%281%29%22%20onclick%3D%22x"' in page
    assert 'onclick="' not in page  # the quote is escaped in the link text too


def _missing(i: int, name: str) -> TestResult:
    summary = f"not implemented: layers.{name}"
    return TestResult(f"t.py::test_{i}", "layers", 0.0, 1.0, "failed", summary,
                      cause=Cause("not-implemented", f"layers.{name}", summary))


def test_not_implemented_failures_fold_into_one_line() -> None:
    tests = [_missing(i, name)
             for i, name in enumerate(["affine_forward", "affine_forward", "relu_forward"])]
    page = render_html([SubmissionResult("bob", "fc_nets", tests)])
    assert "−3</span> 3 checks: not implemented: layers.affine_forward, " \
           "layers.relu_forward" in page
    assert page.count("not implemented") == 1  # said once, above the checks it costs


def test_failures_group_by_their_cause_fields_not_their_words() -> None:
    broken = "cs231n/layers.py failed to import: SyntaxError: invalid syntax (layers.py, line 3)"
    other = "cs231n/optim.py failed to import: NameError: name np is not defined"
    tests = [TestResult(f"t.py::test_{i}", "layers", 0.0, 1.0, "failed", why,
                        cause=Cause("import-failed", f"layers.f{i}", why))
             for i, why in enumerate([broken, broken, other])]
    tests.append(TestResult("t.py::test_words", "layers", 0.0, 1.0, "failed",
                            "not implemented: looks like a stub", cause=Cause("wrong-result")))
    page = render_html([SubmissionResult("carol", "fc_nets", tests)])
    assert f"2 checks: {broken}" in page and f"1 check: {other}" in page
    assert "checks: not implemented" not in page  # a message alone groups nothing
    assert page.count(broken) == 1


def test_what_the_code_printed_is_shown_beside_its_check() -> None:
    printed = TestResult("t.py::test_loud", "layers", 0.0, 1.0, "failed", "wrong",
                         cause=Cause("wrong-result"), output="debug: x.shape=(2, 3) <b>")
    page = render_html([SubmissionResult("dan", "fc_nets", [printed])])
    assert "what your code printed" in page
    assert "debug: x.shape=(2, 3) &lt;b&gt;" in page


def test_feedback_shows_titles_descriptions_lost_points_and_folds_passed_checks() -> None:
    tests = [TestResult("test_layers.py::test_affine_forward_matches_reference[shape0]",
                        "layers", 1.0, 1.0, "passed"),
             TestResult("test_layers.py::test_relu_backward", "layers", 0.0, 1.0, "failed",
                        "relative error 1.0", "hidden"),
             TestResult("test_accuracy.py::test_best_model", "accuracy", 0.5, 1.0, "partial")]
    result = SubmissionResult("carol.zip", "fc_nets", tests,
                              part_points={"layers": 20.0, "accuracy": 10.0},
                              part_titles={"layers": "Affine and ReLU layers"},
                              graded_at="2026-12-05T10:00:00+00:00")
    page = render_html([result])
    cells = Tags(page).cells
    assert "Affine and ReLU layers" in cells and "accuracy" in cells  # no title: its name
    assert "10 / 20" in cells and "5 / 10" in cells
    assert "graded 2026-12-05T10:00:00+00:00" in page
    assert "−10</span>" in page and "relu backward" in page  # 1 of 2 layers points = 10
    assert '<span class="tag">hidden</span>' in page
    assert "<details><summary>1 check passed</summary>" in page
    assert "affine forward matches reference (shape0)" in page


def test_clean_result_renders_without_feedback_sections() -> None:
    result = SubmissionResult("alice", "fc_nets",
                              [TestResult("t.py::test_a", "layers", 2.0, 2.0, "passed")])
    page = render_html([result])
    assert "2 / 2" in page
    for heading in ("What lost points", "Notebooks", "Accuracy", "Findings"):
        assert heading not in page


def test_batch_renders_one_section_per_submission(results: list[SubmissionResult]) -> None:
    assert Tags(render_html(results)).tags.count("section") == len(results)


def test_per_submission_folders_get_feedback_html(hostile: SubmissionResult,
                                                  results: list[SubmissionResult],
                                                  tmp_path) -> None:
    written = write_per_submission(get_plugin_manager(), "html", [hostile, *results], tmp_path)
    assert [p.name for p in written] == ["feedback.html"] * 3
    assert "&lt;script&gt;" in written[0].read_text(encoding="utf-8")
    assert "alice" in written[1].read_text(encoding="utf-8")


def test_a_part_the_version_lacks_says_so_and_costs_nothing() -> None:
    result = SubmissionResult("dan", "conv_nets", [_missing(0, "affine_forward")],
                              part_points={"layers": 15.0, "dropout": 0.0},
                              not_applicable={"dropout": "Dropout is part 2 of this course"})
    page = render_html([result])
    assert "not applicable in this version: Dropout is part 2 of this course" in page
    assert "−0" not in page  # not listed as a lost check
