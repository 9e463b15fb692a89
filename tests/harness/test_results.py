from gradekit.harness.results import Finding, SubmissionResult, TestResult


def test_totals_failures_and_dict_shape():
    tests = [
        TestResult("t.py::a", "layers", 2.0, 2.0, "passed"),
        TestResult("t.py::b", "layers", 0.5, 1.0, "partial", "half"),
        TestResult("t.py::c", "optim", 0.0, 1.0, "skipped", "no data"),
        TestResult("t.py::d", "optim", 0.0, 3.0, "error", "boom", "hidden"),
    ]
    result = SubmissionResult("alice", "fc_nets", tests, [Finding("sandbox", "no bwrap")],
                              part_points={"layers": 6.0}, part_titles={"layers": "Layers"})
    assert (result.score, result.max_score) == (5.0 + 0.0, 10.0)
    assert [t.name for t in result.failures()] == ["t.py::b", "t.py::d"]
    document = result.to_dict()
    assert list(document) == ["submission", "assignment", "score", "max_score", "duration",
                              "graded_at", "parts", "tests", "findings", "notebooks"]
    assert document["parts"]["optim"] == {"score": 0.0, "max_score": 4.0, "passed": 0,
                                          "tests": 2, "declared": False, "scale": 1.0}
    assert document["parts"]["layers"]["scale"] == 2.0  # 3 points of tests make 6
    assert document["parts"]["layers"]["title"] == "Layers"
    assert document["tests"][3]["visibility"] == "hidden"
    assert SubmissionResult.from_dict(document) == result


def test_every_text_field_is_inert_from_construction():
    from dataclasses import replace

    from gradekit.harness.results import CellFailure, NotebookReport

    dirty = "\x1b[2J\x1b[32mok\x1b[0m\r\u202e"
    shown = "ok\\r\\u202e"
    test = TestResult(f"t.py::a{dirty}", "layers", 0.0, 1.0, "failed", dirty,
                      details={"reason": dirty, "credit": 0.0})
    assert (test.name, test.message, test.details) == (f"t.py::a{shown}", shown,
                                                       {"reason": shown, "credit": 0.0})
    assert Finding("output", dirty).message == shown
    cell = CellFailure(0, 1, dirty, source=dirty, output=dirty, traceback=dirty,
                       dependents=(dirty,))
    assert {cell.error, cell.source, cell.output, cell.traceback, *cell.dependents} == {shown}
    report = NotebookReport(dirty, "cell-errors", dirty, failed_cells=(cell,), executed=dirty)
    assert {report.name, report.message, report.executed} == {shown}
    assert replace(test, message=dirty).message == shown
    result = SubmissionResult(dirty, "fc_nets", [test])
    assert result.submission == shown
    result.submission = f"again{dirty}"
    assert result.submission == f"again{shown}"
    assert SubmissionResult.from_dict(result.to_dict()) == result


def test_clean_values_keep_their_identity():
    details = {"accuracy": 0.5, "split": "val"}
    tests = [TestResult("t.py::a", "layers", 1.0, 1.0, "passed", details=details)]
    assert tests[0].details is details
    assert SubmissionResult("alice", "fc_nets", tests).tests is tests
