"""Escape sequences, control characters, bidi overrides and markup a student plants in any
field come out of every report format as text."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hostile_text import MARKUP, PAYLOADS, assert_inert, hostile_result
from rich.console import Console

from gradekit.grading import GradingOptions, grade_submission
from gradekit.harness.reports import FILE_NAMES, write_per_submission, write_report
from gradekit.harness.reports.table import render
from gradekit.packs import AssignmentPack
from gradekit.plugin_manager import get_plugin_manager

FORMATS = ("table", "json", "csv", "gradescope", "html")
#: colours rich itself writes on a terminal: the only sequences a table may hold there
RICH_SGR = re.compile(r"\x1b\[[0-9;]*m")


def strings(document: Any) -> list[str]:
    """Every string of a decoded JSON document, keys included."""
    if isinstance(document, str):
        return [document]
    if isinstance(document, dict):
        return [s for k, v in document.items() for s in (*strings(k), *strings(v))]
    if isinstance(document, list):
        return [s for item in document for s in strings(item)]
    return []


def assert_report_inert(fmt: str, text: str) -> None:
    """The written text, and for JSON every decoded string (``\\u001b`` decodes to ESC)."""
    assert_inert(text, fmt)
    if fmt in ("json", "gradescope"):
        for value in strings(json.loads(text)):
            assert_inert(value, f"a {fmt} string")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_shows_planted_sequences_as_text(fmt: str) -> None:
    out = io.StringIO()
    results = [hostile_result()] if fmt == "gradescope" else [hostile_result(), hostile_result()]
    write_report(get_plugin_manager(), fmt, results, out)
    assert_report_inert(fmt, out.getvalue())
    assert "Score: 100/100" in out.getvalue()  # the student's words are still there


def test_every_file_of_an_output_folder_is_inert(tmp_path: Path) -> None:
    pm, results = get_plugin_manager(), [hostile_result()]
    written = [path for fmt in ("json", "gradescope", "table", "html")
               for path in write_per_submission(pm, fmt, results, tmp_path)]
    write_report(pm, "csv", results, tmp_path / "grades.csv")
    assert {p.name for p in written} == {"result.json", "results.json", "report.txt",
                                         "feedback.html"}
    for path in [*written, tmp_path / "grades.csv"]:
        fmt = next(f for f, name in FILE_NAMES.items() if name == path.name)
        assert_report_inert(fmt, path.read_text(encoding="utf-8"))


def test_on_a_terminal_only_the_tables_own_colours_are_sequences() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, color_system="truecolor",
                      width=400)
    console.print(render([hostile_result()]))
    text = console.file.getvalue()
    assert RICH_SGR.search(text), "the terminal got no colours at all: nothing was tested"
    assert_inert(RICH_SGR.sub("", text), "the table on a terminal")
    assert PAYLOADS["fake green score"] not in text


def test_the_table_shows_controls_visibly_and_markup_literally() -> None:
    console = Console(record=True, width=400)
    console.print(render([hostile_result()]))
    text = console.export_text()
    assert MARKUP in text  # not bold, not green: the brackets are shown
    assert "0/100\\rScore: 100/100" in text and "\\u202etxt.exe\\u202c" in text
    assert "[notebook] FullyConnectedNets.ipynb" in text and "[output]" in text


def test_gradescope_shows_every_field_as_plain_text() -> None:
    out = io.StringIO()
    write_report(get_plugin_manager(), "gradescope", [hostile_result()], out)
    document = json.loads(out.getvalue())
    assert (document["output_format"], document["test_output_format"],
            document["test_name_format"]) == ("text", "text", "text")
    assert all(test.get("output_format", "text") == "text" for test in document["tests"])


def test_a_csv_formula_in_the_submission_name_is_text_and_scores_stay_numbers() -> None:
    out = io.StringIO()
    write_report(get_plugin_manager(), "csv", [hostile_result()], out)
    header, row = csv.reader(io.StringIO(out.getvalue()))
    assert header == ["submission", "assignment", "layers", "score", "max_score"]
    assert row[0].startswith("'=HYPERLINK(")
    assert [float(cell) for cell in row[2:]] == [5.0, 5.0, 10.0]  # 2 of 4 raw points


PACK = """
title = "inert"
api = "cs231n"
package = "cs231n"
[modules]
layers = "layers.py"
[[parts]]
name = "layers"
points = 10
"""
STUDENT = '''
print("\\x1b]52;c;cm0gLXJmIH4=\\x07\\x1b[2Jprinted at import")

def affine_forward(x, w, b):
    raise ValueError("\\x1b[2J\\x1b[32mScore: 100/100\\x1b[0m")
'''


def test_graded_submissions_reach_the_table_and_csv_as_text(tmp_path: Path) -> None:
    """A student exception and print, and an upload whose file name is a formula with an
    escape sequence (not a submission, so its row keeps the name as given)."""
    pack_dir = tmp_path / "pack"
    (pack_dir / "tests").mkdir(parents=True)
    (pack_dir / "assignment.toml").write_text(PACK)
    (pack_dir / "tests" / "test_layers.py").write_text(
        "def test_affine(impl):\n    impl.layers.affine_forward(1, 2, 3)\n")
    student = tmp_path / "student"
    (student / "cs231n").mkdir(parents=True)
    (student / "cs231n" / "layers.py").write_text(STUDENT)
    upload = tmp_path / '=HYPERLINK("evil.invalid","\x1b[2Jopen").txt'
    upload.write_bytes(b"not a zip")

    pack = AssignmentPack.load(pack_dir)
    options = GradingOptions(sandbox="subprocess", notebooks=False)
    results = [grade_submission(path, pack, options)[0] for path in (student, upload)]
    [test] = results[0].tests
    assert (test.status, test.message) == ("error", "ValueError: Score: 100/100")
    assert any("printed at import" in f.message for f in results[0].findings)
    assert [f.kind for f in results[1].findings] == ["unreadable"]
    pm = get_plugin_manager()
    table, gradebook = io.StringIO(), io.StringIO()
    write_report(pm, "table", results, table)
    write_report(pm, "csv", results, gradebook)
    assert "Score: 100/100" in table.getvalue() and "printed at import" in table.getvalue()
    for text in (table.getvalue(), gradebook.getvalue()):
        assert "\x1b" not in text
    _, graded, unreadable = csv.reader(io.StringIO(gradebook.getvalue()))
    assert graded[0] == "student" and [float(c) for c in graded[2:]] == [0.0, 0.0, 10.0]
    assert unreadable[0] == "'=HYPERLINK(\"evil.invalid\",\"open\").txt"
    assert [float(c) for c in unreadable[2:]] == [0.0, 0.0, 10.0]
