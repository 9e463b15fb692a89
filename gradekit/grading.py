"""Grade one submission end to end: load it, start its sandboxed worker, run the tests.

Each step that can fail because of the submission turns into a finding or into failed tests,
never into an exception: a broken upload still gets a result row with a reason. Timings of
the steps are kept so that the overhead of grading can be reported.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gradekit.harness.results import Finding, SubmissionResult
from gradekit.packs import AssignmentPack

VISIBLE_ONLY = ("visible",)
EVERYTHING = ("visible", "hidden", "after_due_date")


@dataclass(frozen=True)
class GradingOptions:
    """How to grade: which tests, which sandbox, where outputs go (kept out of reach)."""

    course_root: Path | None = None
    sandbox: str = "auto"
    visibility: Sequence[str] = EVERYTHING
    protected: tuple[Path, ...] = ()
    show_output: bool = False


@dataclass
class Timings:
    """Seconds spent per step, for the overhead report."""

    load: float = 0.0
    start: float = 0.0
    tests: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)


def limits_for(pack: AssignmentPack):
    """The sandbox limits a pack asks for, on top of the defaults."""
    from gradekit.sandbox.limits import MB, Limits

    declared = pack.limits
    overrides = {
        "call_seconds": declared.get("call_timeout"),
        "submission_seconds": declared.get("submission_timeout"),
        "cpu_seconds": declared.get("cpu_seconds"),
        "address_space": declared["memory_mb"] * MB if "memory_mb" in declared else None,
    }
    return Limits(**{k: v for k, v in overrides.items() if v is not None})


def test_folders(pack: AssignmentPack, options: GradingOptions) -> list[Path]:
    """The visible tests, plus the hidden ones when they are asked for and present."""
    folders = [pack.visible_tests]
    if set(options.visibility) - set(VISIBLE_ONLY) and options.course_root is not None:
        hidden = pack.hidden_tests(options.course_root)
        if hidden.is_dir():
            folders.append(hidden)
    return folders


def grade_submission(path: Path, pack: AssignmentPack,
                     options: GradingOptions) -> tuple[SubmissionResult, Timings]:
    """Grade the submission at ``path`` with ``pack``; never raises for the student's faults."""
    from gradekit.harness.session import run_tests
    from gradekit.plugin_manager import create_plugin_manager
    from gradekit.sandbox.client import WorkerClient
    from gradekit.sandbox.plugin import SubmissionPlugin
    from gradekit.submission import SubmissionError, load_submission

    timings = Timings()
    scratch = Path(tempfile.mkdtemp(prefix="gradekit-grade-"))
    try:
        clock = time.perf_counter()
        try:
            submission = load_submission(path, scratch, expected=pack.modules,
                                         package_name=pack.package)
        except SubmissionError as exc:
            return failed_row(Path(path).name, pack, "unreadable", str(exc)), timings
        timings.load = time.perf_counter() - clock
        findings = [Finding(str(f.kind), f.summary()) for f in submission.findings]

        clock = time.perf_counter()
        client = WorkerClient(submission.root, submission.modules, pack.api,
                              sandbox=options.sandbox, limits=limits_for(pack),
                              hidden_paths=options.protected)
        timings.start = time.perf_counter() - clock
        try:
            findings += [Finding("import-failed", f"{prefix}: {why}")
                         for prefix, why in client.unavailable().items()]
            pm = create_plugin_manager(options.course_root)
            SubmissionPlugin(client, submission.id).register(pm)
            clock = time.perf_counter()
            result = run_tests(test_folders(pack, options), pm, api=pack.api,
                               visibility=tuple(options.visibility), submission_id=submission.id,
                               assignment=pack.name,
                               part_points=pack.part_points,
                               show_output=options.show_output)
            timings.tests = time.perf_counter() - clock
            output = client.output()
        finally:
            client.close()
        result.findings = findings + result.findings
        if output:
            result.findings.append(Finding("output", _tail(output)))
        return result, timings
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _tail(text: str, limit: int = 2000) -> str:
    return text if len(text) <= limit else "…" + text[-limit:]


def failed_row(submission: str, pack: AssignmentPack, kind: str, why: str) -> SubmissionResult:
    """A result row for a submission that could not be graded at all: every part scores zero."""
    return SubmissionResult(submission=submission, assignment=pack.name,
                            findings=[Finding(kind, why)], part_points=pack.part_points)
