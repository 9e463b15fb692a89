"""gradekit: sandboxed, plugin-based grading for NumPy deep-learning homework.

The public surface is small on purpose:

* :data:`hookimpl` marks a plugin's hook implementations (see :mod:`gradekit.hookspecs`);
* :func:`gradekit.components.components` resolves component names to implementations
  from a chosen source (``ref``, ``impl``, ``mixed`` or one named plugin).

Importing the package imports nothing else: ``python -m gradekit`` imports it while the
working directory (often a folder of student files) is still first on ``sys.path``, so
:data:`hookimpl` is built on first use, after ``__main__`` has dropped that entry.
"""

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "hookimpl"]


def __getattr__(name: str) -> Any:
    if name != "hookimpl":
        raise AttributeError(f"module 'gradekit' has no attribute {name!r}")
    import pluggy

    global hookimpl
    #: Marker for hook implementations in gradekit plugins: ``@gradekit.hookimpl``.
    hookimpl = pluggy.HookimplMarker("gradekit")
    return hookimpl
