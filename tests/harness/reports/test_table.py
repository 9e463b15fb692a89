import io

from rich.console import Console

from gradekit.harness.reports.table import render, write_table


def rendered(results) -> str:
    console = Console(record=True, width=160)
    console.print(render(results))
    return console.export_text()


def test_overview_and_details_for_a_class(results):
    text = rendered(results)
    assert "Grades" in text  # the overview only appears for several submissions
    assert "alice · fc_nets · 5.5 / 10" in text
    assert "bob · fc_nets · 0 / 6" in text
    assert "not implemented: layers.affine_forward" in text
    assert "half the steps" in text
    assert "cell 12 raised ValueError" in text
    assert "  1 test " in text  # bob's not-implemented failures, folded into one line


def test_not_implemented_failures_are_folded_per_part(results):
    text = rendered(results[1:])
    assert "test_layers.py::test_affine" not in text
    assert "not implemented: layers.affine_forward" in text


def test_passing_tests_are_not_listed_and_markup_is_not_interpreted(results):
    text = rendered(results[:1])
    assert "Grades" not in text
    assert "test_affine" not in text
    assert "[bold]x[/bold]" in text


def test_writer_prints_to_a_stream(results):
    out = io.StringIO()
    write_table(results, out)
    assert "alice · fc_nets" in out.getvalue()


def test_a_part_name_with_brackets_is_a_literal_column_header(results):
    from dataclasses import replace

    from gradekit.harness.reports.table import overview
    from gradekit.harness.results import TestResult

    odd = TestResult("t.py::test_x", "[red]x[/red]", 1.0, 1.0, "passed")
    console = Console(record=True, width=160)
    console.print(overview([replace(results[0], tests=[*results[0].tests, odd]), results[1]]))
    assert "[red]x[/red]" in console.export_text()
