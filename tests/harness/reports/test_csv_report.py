import csv
import io

from gradekit.harness.reports.csv_report import write_csv


def test_one_row_per_submission_one_column_per_part(results):
    out = io.StringIO()
    write_csv(results, out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["submission", "assignment", "layers", "optim", "score", "max_score"]
    assert rows[1] == ["alice", "fc_nets", "4", "1.5", "5.5", "10"]
    assert rows[2] == ["bob", "fc_nets", "0", "", "0", "6"]  # bob never reached optim
