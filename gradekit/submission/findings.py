"""What the loader noticed about a submission, phrased for the student who sent it.

Problems with the *content* of a submission (a missing module, a syntax error, a refused zip
member) never stop loading: they become :class:`Finding` records that the grader attaches to
the affected tests. Only a path that cannot be a submission at all raises
:class:`SubmissionError`. Some findings leave nothing to grade (:data:`NOTHING_TO_GRADE`):
such a submission gets a row that says so first, and no test is run on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SubmissionError(ValueError):
    """The path given to the loader is not a submission (no folder, zip or notebook there)."""


class FindingKind(StrEnum):
    """Kinds of finding; string values so reports and JSON can use them directly."""

    MISSING_MODULE = "missing-module"
    SYNTAX_ERROR = "syntax-error"
    NO_PACKAGE = "no-package"
    NOTEBOOK_ONLY = "notebook-only"
    AMBIGUOUS_PACKAGE = "ambiguous-package"
    RENAMED_PACKAGE = "renamed-package"
    REFUSED_MEMBER = "refused-member"
    REFUSED_SUBMISSION = "refused-submission"
    CORRUPT_ARCHIVE = "corrupt-archive"
    EMPTY_SUBMISSION = "empty-submission"


#: Findings after which nothing can be graded: every test would only say "not implemented",
#: hiding the one thing staff must act on.
NOTHING_TO_GRADE = frozenset({
    FindingKind.REFUSED_SUBMISSION,
    FindingKind.CORRUPT_ARCHIVE,
    FindingKind.EMPTY_SUBMISSION,
    FindingKind.NO_PACKAGE,
    FindingKind.NOTEBOOK_ONLY,
})


@dataclass(frozen=True)
class Finding:
    """One problem in a submission.

    ``path`` is relative to the submission as the student sent it (posix separators; ``.``
    for the submission as a whole);
    ``prefix`` is the component prefix whose tests it affects (``"optim"``,
    ``"classifiers.fc_net"``), or ``None`` when it affects no single module.
    """

    kind: FindingKind
    path: str
    message: str
    prefix: str | None = None
    line: int | None = None

    def summary(self) -> str:
        """``path:line: message``, one line for reports."""
        path = "" if self.path == "." else self.path  # "." is the submission as a whole
        where = f"{path}:{self.line}" if self.line else path
        return f"{where}: {self.message}" if where else self.message
