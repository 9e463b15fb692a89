import csv
import io

import pytest

from gradekit.harness.reports.csv_report import spreadsheet_text, write_csv


def test_one_row_per_submission_one_column_per_part(results):
    out = io.StringIO()
    write_csv(results, out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["submission", "assignment", "layers", "optim", "score", "max_score"]
    assert rows[1] == ["alice", "fc_nets", "4", "1.5", "5.5", "10"]
    assert rows[2] == ["bob", "fc_nets", "0", "", "0", "6"]  # bob never reached optim


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1:A9)", "\tx", "\rx", "\nx",
                                  "  =cmd|' /C calc'!A0", "\uff1dSUM(A1)", "\uff20x", "\uff0b1",
                                  "\uff0d1"])
def test_cells_a_spreadsheet_would_run_get_a_leading_quote(cell):
    assert spreadsheet_text(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["alice", "3-layer", "a=b", "'quoted", "", " x", "1.5"])
def test_other_cells_are_written_as_given(cell):
    assert spreadsheet_text(cell) == cell
