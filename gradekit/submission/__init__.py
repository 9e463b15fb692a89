"""Loading a submission: a folder, zip or notebook becomes a safe, prepared working copy.

:func:`load_submission` unpacks without trusting the upload (:mod:`.safe_zip`,
:mod:`.safe_copy`), finds the student package however the course named it
(:mod:`.package`), and reports what is missing or broken as :class:`Finding` records
(:mod:`.syntax`). No student code is imported or run here.
"""

from gradekit.submission.findings import Finding, FindingKind, SubmissionError
from gradekit.submission.limits import Limits
from gradekit.submission.loader import CS231N_MODULES, Submission, load_submission

__all__ = [
    "CS231N_MODULES",
    "Finding",
    "FindingKind",
    "Limits",
    "Submission",
    "SubmissionError",
    "load_submission",
]
