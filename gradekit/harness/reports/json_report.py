"""The JSON report: an array with one object per submission, each the shape of
``SubmissionResult.to_dict()``.

Schema (``schemas/result.schema.json`` in this package)::

    {
      "submission": "alice",            # submission id (folder or file name)
      "assignment": "fc_nets",
      "score": 41.5, "max_score": 50.0, # totals over all parts
      "duration": 3.2,                  # seconds spent running the tests
      "parts": {"layers": {"score": 18.0, "max_score": 20.0, "passed": 9, "tests": 10,
                           "declared": true}},
      "tests": [{"name": "test_layers.py::test_affine_forward", "part": "layers",
                 "score": 2.0, "max_score": 2.0,
                 "status": "passed",    # passed | failed | error | skipped | partial
                 "message": "",         # why points were lost, for the student
                 "visibility": "visible",  # visible | hidden | after_due_date
                 "duration": 0.01}],
      "findings": [{"kind": "notebook", "message": "cell 12 raised ValueError: ..."}]
    }

The report is always an array, even for one submission, so scripts read every report alike.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from typing import Any, TextIO

from gradekit.harness.results import SubmissionResult


def result_schema() -> dict[str, Any]:
    """The JSON Schema of one submission's JSON report."""
    schema_file = resources.files("gradekit.harness.reports") / "schemas/result.schema.json"
    return json.loads(schema_file.read_text(encoding="utf-8"))


def write_json(results: Sequence[SubmissionResult], out: TextIO) -> None:
    json.dump([r.to_dict() for r in results], out, indent=2)
    out.write("\n")
