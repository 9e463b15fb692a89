"""Run student code in a separate, locked-down process and talk to it over a data-only wire.

* :class:`~gradekit.sandbox.client.WorkerClient` starts and supervises one submission's
  worker (:mod:`gradekit.sandbox.worker`), launched by :mod:`gradekit.sandbox.launcher`
  under bubblewrap when available;
* :mod:`gradekit.sandbox.codec` and :mod:`gradekit.sandbox.channel` carry values (never
  pickle) between them;
* :mod:`gradekit.sandbox.proxies` and :mod:`gradekit.sandbox.plugin` make the submission's
  functions and classes look local to the grader's tests.

The names below are imported lazily so that the worker, which imports this package too,
starts without loading the grader-side machinery.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "WorkerClient": "gradekit.sandbox.client",
    "Limits": "gradekit.sandbox.limits",
    "SubmissionPlugin": "gradekit.sandbox.plugin",
    **{name: "gradekit.sandbox.errors" for name in (
        "BudgetExhausted", "CallTimeout", "SandboxError", "StaleHandleError", "StudentError",
        "WireError", "WorkerCrashed")},
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'gradekit.sandbox' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
