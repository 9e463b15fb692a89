"""gradekit: sandboxed, plugin-based grading for NumPy deep-learning homework.

The public surface is small on purpose:

* :data:`hookimpl` marks a plugin's hook implementations (see :mod:`gradekit.hookspecs`);
* :func:`gradekit.components.components` resolves component names to implementations
  from a chosen source (``ref``, ``impl``, ``mixed`` or one named plugin).
"""

import pluggy

__version__ = "0.1.0"

#: Marker for hook implementations in gradekit plugins: ``@gradekit.hookimpl``.
hookimpl = pluggy.HookimplMarker("gradekit")

__all__ = ["__version__", "hookimpl"]
