"""Build the pluggy plugin manager: built-in plugins, the course's reference, entry points.

Registration order matters because pluggy asks the most recently registered plugin first:
built-ins and the reference go in first, third-party plugins from the ``gradekit``
entry-point group after them (so an alternative reference can override), and a submission
plugin is registered last by the grader so the student's code is found before anything else.
"""

from __future__ import annotations

import importlib.util
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
    """Import the ``reference`` package of the course at ``root`` and return its plugin.

    The package is loaded from its file, not found on ``sys.path``: another folder called
    ``reference`` earlier on the path (a test suite's, say) must never stand in for it.
    """
    init = root / "reference" / "__init__.py"
    loaded = sys.modules.get("reference")
    if loaded is not None:
        if Path(loaded.__file__ or "").resolve() != init.resolve():
            raise ImportError(
                f"a different 'reference' package is already imported from {loaded.__file__}; "
                f"run gradekit in a fresh process to use the course at {root}"
            )
        return loaded.plugin
    spec = importlib.util.spec_from_file_location(
        "reference", init, submodule_search_locations=[str(init.parent)])
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import the course's reference package from {init}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["reference"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules["reference"]
        raise
    return module.plugin


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
