"""Exceptions the grader sees when a call into a submission does not return a value.

Every message is written for the student who will read it in a report: it says what their
code did and, where it helps, what to change. None of these ever carry an object from the
worker, only text, so raising them in the grader is safe.
"""

from __future__ import annotations

from dataclasses import dataclass


class SandboxError(Exception):
    """Base class: a call into the submission failed."""


class StudentError(SandboxError):
    """The student's code raised; carries the exception type name, message and traceback text."""

    def __init__(self, type_name: str, message: str, traceback_text: str = "") -> None:
        self.type_name = type_name
        self.message = message
        self.traceback_text = traceback_text
        super().__init__(f"{type_name}: {message}" if message else type_name)


class WorkerCrashed(SandboxError):  # noqa: N818 - the name is part of the public interface
    """The worker process died (exit, signal, resource limit); it restarts on the next call."""

    def __init__(self, reason: str, returncode: int | None = None) -> None:
        self.reason = reason
        self.returncode = returncode
        super().__init__(reason)


class CallTimeout(SandboxError):  # noqa: N818 - the name is part of the public interface
    """A call did not return in time; the worker was killed and restarts on the next call."""


class BudgetExhausted(CallTimeout):
    """The submission used up its total wall-clock budget; no further calls are made."""


class WireError(SandboxError):
    """A value cannot cross the wire: wrong type, object dtype, too big, too deep or malformed."""


class StaleHandleError(SandboxError):
    """An object lived in a worker that has since been restarted, so it no longer exists."""


@dataclass(frozen=True)
class ImportFailure:
    """Why one of the submission's modules did not import, as fields.

    ``error`` is ``"ModuleNotFoundError: No module named 'cs231n.fast_layers'"`` for an
    exception the module raised, or what went wrong around it (a time-out, a crash);
    ``traceback`` is the student's frames, empty for a syntax error (``syntax``: file and
    line are in ``error`` already).
    """

    module: str      # dotted: cs231n.classifiers.fc_net
    error: str
    traceback: str = ""
    syntax: bool = False

    @property
    def path(self) -> str:
        """The module's file as a student sees it: ``cs231n/classifiers/fc_net.py``."""
        return self.module.replace(".", "/") + ".py"

    @property
    def summary(self) -> str:
        return f"{self.path} failed to import: {self.error}"
