"""Failures that share one cause, said once.

Starter code fails every test of a part for one reason, and a module that does not import
fails every test that needs it; feedback names that cause once, above the tests it cost,
instead of repeating it on each. Groups are made from :class:`gradekit.harness.results.
Cause` fields, never from message text.
"""

from __future__ import annotations

from collections.abc import Sequence

from gradekit.harness.results import NOT_IMPLEMENTED, TestResult

#: Kinds of cause that are one fault however many tests they hit.
SHARED_KINDS = frozenset({"not-implemented", "import-failed", "data-missing",
                          "missing-artifact", "timeout"})

CauseKey = tuple[str, str]


def shared_cause(test: TestResult) -> CauseKey | None:
    """The cause ``test`` shares with others, or ``None`` when its failure is its own.

    Every missing component is one cause (the code is not written yet); other kinds are
    one cause per summary (one module that failed to import, one missing data set).
    """
    cause = test.cause
    if test.status == "passed" or cause is None or cause.kind not in SHARED_KINDS:
        return None
    return (cause.kind, "" if cause.kind == "not-implemented" else cause.summary)


def cause_summary(tests: Sequence[TestResult]) -> str:
    """The words for tests that share a cause: ``not implemented: layers.affine_forward,
    layers.relu_forward`` (each name once), or the shared summary."""
    causes = [t.cause for t in tests if t.cause is not None]
    if not causes:
        return ""
    if causes[0].kind == "not-implemented":
        return NOT_IMPLEMENTED + ", ".join(dict.fromkeys(c.subject for c in causes))
    return causes[0].summary


def by_cause(failures: Sequence[TestResult]) -> list[tuple[CauseKey | None, list[TestResult]]]:
    """``failures`` grouped by shared cause, in order of first appearance; a failure of its
    own is a group of one under ``None``."""
    groups: dict[CauseKey, list[TestResult]] = {}
    ordered: list[tuple[CauseKey | None, list[TestResult]]] = []
    for test in failures:
        key = shared_cause(test)
        if key is None:
            ordered.append((None, [test]))
        elif key in groups:
            groups[key].append(test)
        else:
            groups[key] = [test]
            ordered.append((key, groups[key]))
    return ordered
