import io
import json
from importlib import resources

import jsonschema
import pytest

from gradekit.harness.reports.gradescope import write_gradescope


def gradescope_schema() -> dict:
    schema = resources.files("gradekit.harness.reports") / "schemas/gradescope-results.schema.json"
    return json.loads(schema.read_text())


@pytest.fixture
def document(results):
    out = io.StringIO()
    write_gradescope(results[:1], out)
    return json.loads(out.getvalue())


def test_validates_against_the_documented_field_list(document):
    jsonschema.validate(document, gradescope_schema())


def test_top_level_fields(document):
    assert document["score"] == 5.5
    assert document["execution_time"] == 1.25
    assert document["visibility"] == "visible"
    assert document["stdout_visibility"] == "hidden"
    assert "layers: 4 / 6" in document["output"]
    assert "[notebook] cell 12 raised ValueError" in document["output"]


def test_tests_carry_status_number_tags_and_visibility(document):
    tests = document["tests"]
    assert [t["status"] for t in tests] == ["passed", "failed", "failed", "failed"]
    assert [t["number"] for t in tests] == ["1.1", "1.2", "2.1", "2.2"]
    assert [t["visibility"] for t in tests] == ["visible", "visible", "hidden", "after_due_date"]
    assert tests[2]["tags"] == ["optim"] and tests[2]["score"] == 1.5
    assert tests[3]["output"] == "ZeroDivisionError: division by zero\n\n" \
                                 "check: hidden/test_optim.py::test_late"
    assert tests[0]["name"] == "layers: affine"


def test_test_scores_sum_to_the_total_after_part_scaling(results):
    alice = results[0]
    alice.part_points = {"layers": 6.0, "optim": 4.0, "dropout": 10.0}  # dropout: no tests
    alice.part_titles = {"layers": "Affine and ReLU layers"}
    out = io.StringIO()
    write_gradescope([alice], out)
    document = json.loads(out.getvalue())
    tests = document["tests"]
    assert sum(t["score"] for t in tests) == pytest.approx(document["score"])
    assert sum(t["max_score"] for t in tests) == pytest.approx(alice.max_score) == 20
    assert [t["max_score"] for t in tests] == [4, 2, 3, 1, 10]  # layers 3 -> 6, optim 4 -> 4
    assert tests[0]["name"] == "Affine and ReLU layers: affine"
    assert tests[-1]["name"] == "dropout: no test of this part ran"
    assert tests[-1]["score"] == 0 and tests[-1]["status"] == "failed"
    jsonschema.validate(document, gradescope_schema())


def test_schema_catches_a_field_gradescope_does_not_know(document):
    document["tests"][0]["points"] = 2
    with pytest.raises(jsonschema.ValidationError, match="points"):
        jsonschema.validate(document, gradescope_schema())


def test_one_submission_per_file(results):
    with pytest.raises(ValueError, match="one submission"):
        write_gradescope(results, io.StringIO())


def test_a_part_the_version_lacks_is_listed_as_not_applicable_never_failed(results):
    alice = results[0]
    alice.part_points = {"layers": 6.0, "optim": 4.0, "dropout": 0.0}
    alice.not_applicable = {"dropout": "Dropout is part 2 of this course"}
    out = io.StringIO()
    write_gradescope([alice], out)
    last = json.loads(out.getvalue())["tests"][-1]
    assert last["name"] == ("dropout: not applicable in this version: Dropout is part 2 of "
                            "this course")
    assert (last["score"], last["max_score"], last["status"]) == (0, 0, "passed")
