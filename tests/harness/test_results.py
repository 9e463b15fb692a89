from gradekit.harness.results import Finding, SubmissionResult, TestResult


def test_totals_failures_and_dict_shape():
    tests = [
        TestResult("t.py::a", "layers", 2.0, 2.0, "passed"),
        TestResult("t.py::b", "layers", 0.5, 1.0, "partial", "half"),
        TestResult("t.py::c", "optim", 0.0, 1.0, "skipped", "no data"),
        TestResult("t.py::d", "optim", 0.0, 3.0, "error", "boom", "hidden"),
    ]
    result = SubmissionResult("alice", "fc_nets", tests, [Finding("sandbox", "no bwrap")])
    assert (result.score, result.max_score) == (2.5, 7.0)
    assert [t.name for t in result.failures()] == ["t.py::b", "t.py::d"]
    document = result.to_dict()
    assert list(document) == ["submission", "assignment", "score", "max_score", "duration",
                              "parts", "tests", "findings", "notebooks"]
    assert document["parts"]["optim"] == {"score": 0.0, "max_score": 4.0, "passed": 0,
                                          "tests": 2, "declared": False}
    assert document["tests"][3]["visibility"] == "hidden"
    assert SubmissionResult.from_dict(document) == result
