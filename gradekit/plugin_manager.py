"""Build the pluggy plugin manager: built-in plugins, the course's reference, entry points.

Registration order matters because pluggy asks the most recently registered plugin first:
built-ins and the reference go in first, third-party plugins from the ``gradekit``
entry-point group after them (so an alternative reference can override), and a submission
plugin is registered last by the grader so the student's code is found before anything else.
"""

from __future__ import annotations

import importlib
import sys
from functools import cache
from pathlib import Path

import pluggy

from gradekit import hookspecs
from gradekit.course import find_course_root

ENTRY_POINT_GROUP = "gradekit"
REFERENCE_PLUGIN = "reference"
SUBMISSION_PREFIX = "submission:"


def load_reference(root: Path) -> object:
    """Import the ``reference`` package of the course at ``root`` and return its plugin."""
    root_str = str(root)
    loaded = sys.modules.get("reference")
    if loaded is not None and not str(Path(loaded.__file__).resolve()).startswith(root_str):
        raise ImportError(
            f"a different 'reference' package is already imported from {loaded.__file__}; "
            f"run gradekit in a fresh process to use the course at {root}"
        )
    if root_str not in sys.path:
        sys.path.insert(0, root_str)
    return importlib.import_module("reference").plugin


def create_plugin_manager(
    course_root: Path | None = None, *, entry_points: bool = True
) -> pluggy.PluginManager:
    """Return a fresh plugin manager with built-ins, the reference (if found) and entry points."""
    from gradekit import provided
    from gradekit.harness import builtins as harness_builtins

    pm = pluggy.PluginManager("gradekit")
    pm.add_hookspecs(hookspecs)
    pm.register(provided.plugin, name="gradekit.provided")
    pm.register(harness_builtins, name="gradekit.harness")
    root = course_root or find_course_root()
    if root is not None:
        from gradekit.packs import CoursePacks

        pm.register(load_reference(root), name=REFERENCE_PLUGIN)
        pm.register(CoursePacks(root), name="gradekit.course-packs")
    if entry_points:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    return pm


@cache
def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, created on first use."""
    return create_plugin_manager()


def is_submission(plugin_name: str) -> bool:
    """True for plugins that serve a student's submission."""
    return plugin_name.startswith(SUBMISSION_PREFIX)
