import io
import json

import jsonschema

from gradekit.harness.reports.json_report import result_schema, write_json
from gradekit.harness.results import SubmissionResult


def test_one_submission_is_an_array_of_one_object_that_matches_the_schema(results):
    out = io.StringIO()
    write_json(results[:1], out)
    (document,) = json.loads(out.getvalue())
    jsonschema.validate(document, result_schema())
    assert document["submission"] == "alice"
    assert document["score"] == 4.0 + 1.5  # layers declared at 6: 2 of 3 raw points
    assert document["max_score"] == 6.0 + 4.0
    assert document["parts"]["layers"]["declared"] is True
    assert document["tests"][2]["visibility"] == "hidden"
    assert document["findings"] == [{"kind": "notebook", "message": "cell 12 raised ValueError"}]


def test_round_trip_rebuilds_the_same_result(results):
    out = io.StringIO()
    write_json(results, out)
    documents = json.loads(out.getvalue())
    assert isinstance(documents, list) and len(documents) == 2
    for document, original in zip(documents, results, strict=True):
        jsonschema.validate(document, result_schema())
        assert SubmissionResult.from_dict(document) == original


def test_schema_rejects_an_unknown_status(results):
    document = results[0].to_dict()
    document["tests"][0]["status"] = "ok"
    try:
        jsonschema.validate(document, result_schema())
    except jsonschema.ValidationError as exc:
        assert "'ok' is not one of" in exc.message
    else:
        raise AssertionError("the schema accepted status 'ok'")
