"""Grade the one submission of a Gradescope autograder container: ``run_autograder``'s job.

Gradescope unpacks the course's bundle (``gradekit author gradescope``) in
``/autograder/source``, runs its ``setup.sh`` once per image, then for each submission puts
the upload in ``/autograder/submission`` and runs ``run_autograder``, which calls
:func:`main`. The result goes to ``/autograder/results/results.json``: written last, in one
rename, so nothing the submission wrote there while it ran can stand in for it, and written
even when the grader itself fails (a row saying so, never a missing file, which Gradescope
shows as a broken autograder with no word for the student).

The root is ``$GRADEKIT_AUTOGRADER_ROOT`` when set (tests run a bundle in a folder of their
own), else ``/autograder``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click

ROOT_VARIABLE = "GRADEKIT_AUTOGRADER_ROOT"
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


def autograder_root() -> Path:
    return Path(os.environ.get(ROOT_VARIABLE) or "/autograder")


def leaderboard(result: Any, columns: dict[str, str]) -> list[dict[str, Any]]:
    """Gradescope's leaderboard entries: each column (name -> part) shows the accuracy the
    part's test measured, or the part's score where it measured none."""
    entries = []
    for name, part in columns.items():
        measured = [t.details["accuracy"] for t in result.tests
                    if t.part == part and isinstance(t.details.get("accuracy"), int | float)]
        total = result.parts.get(part)
        value = measured[0] if measured else (total.score if total else 0.0)
        entries.append({"name": name, "value": round(float(value), 4), "order": "desc"})
    return entries


def results_document(pack_name: str, root: Path, notebooks: bool) -> dict[str, Any]:
    """Grade ``root/submission`` with the bundled course and return ``results.json``."""
    from gradekit.course import find_course_root
    from gradekit.grading import GradingOptions, grade_submission
    from gradekit.harness.reports.gradescope import to_gradescope
    from gradekit.packs import get_pack

    pack = get_pack(pack_name)
    settings = pack.data.get("gradescope", {})
    options = GradingOptions(course_root=find_course_root(), notebooks=notebooks,
                             protected=(root / "results", root / "source"))
    result, _ = grade_submission(root / "submission", pack, options, sid="submission")
    document = to_gradescope(result, stdout_visibility=settings.get("stdout_visibility",
                                                                    "hidden"))
    document["visibility"] = settings.get("visibility", "visible")
    if settings.get("leaderboard"):
        document["leaderboard"] = leaderboard(result, dict(settings["leaderboard"]))
    return document


def failure_document(exc: BaseException) -> dict[str, Any]:
    """What students see when the grader, not their code, failed."""
    return {"score": 0.0, "output_format": "text", "stdout_visibility": "hidden",
            "output": "The autograder failed before it could grade this submission "
                      f"({type(exc).__name__}: {exc}). This is not your code's fault; course "
                      "staff can see the details and will regrade it.",
            "tests": []}


def write_results(results: Path, document: dict[str, Any]) -> Path:
    """Write ``results/results.json`` by renaming a fresh file over whatever is there (a
    link the submission left is replaced, never followed)."""
    results.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=results, prefix=".results-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(document, out, indent=2)
        out.write("\n")
    target = results / "results.json"
    os.replace(temporary, target)
    return target


@click.command()
@click.option("--pack", "pack_name", required=True, help="The bundled pack to grade with.")
@click.option("--no-notebooks", is_flag=True, help="Do not run the submission's notebooks.")
def main(pack_name: str, no_notebooks: bool) -> None:
    """Grade /autograder/submission and write /autograder/results/results.json."""
    root = autograder_root()
    start = time.perf_counter()
    try:
        document = results_document(pack_name, root, notebooks=not no_notebooks)
    except Exception as exc:  # the grader's own fault: still a results.json, and a trace
        import traceback

        traceback.print_exc()
        document = failure_document(exc)
        document["execution_time"] = round(time.perf_counter() - start, 3)
    target = write_results(root / "results", document)
    print(f"wrote {target}: score {document.get('score')}", file=sys.stderr)


if __name__ == "__main__":
    main()
