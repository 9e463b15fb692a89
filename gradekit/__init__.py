"""gradekit: sandboxed, plugin-based grading for NumPy deep-learning homework.

The public surface is small on purpose:

* :data:`hookimpl` marks a plugin's hook implementations (see :mod:`gradekit.hookspecs`);
* :func:`gradekit.components.components` resolves component names to implementations
  from a chosen source (``ref``, ``impl``, ``mixed`` or one named plugin);
* :func:`check` runs a student release's visible checks from a notebook cell,
  ``gradekit.check("layers")``, with the verdicts ``gradekit check`` prints
  (:func:`gradekit.checking.check`).

Importing the package imports nothing else: ``python -m gradekit`` imports it while the
working directory (often a folder of student files) is still first on ``sys.path``, so
:data:`hookimpl` is built on first use, after ``__main__`` has dropped that entry, and
:func:`check` imports the grader only when a notebook calls it.
"""

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "check", "hookimpl"]


def __getattr__(name: str) -> Any:
    global check, hookimpl
    if name == "check":
        from gradekit.checking import check

        return check
    if name != "hookimpl":
        raise AttributeError(f"module 'gradekit' has no attribute {name!r}")
    import pluggy

    #: Marker for hook implementations in gradekit plugins: ``@gradekit.hookimpl``.
    hookimpl = pluggy.HookimplMarker("gradekit")
    return hookimpl
