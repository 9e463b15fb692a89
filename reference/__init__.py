"""Instructor-only reference solutions, registered with gradekit as a plugin.

This package never ships to students (the wheel and the student release leave it out).
gradekit imports it from the course repository and registers :data:`plugin`. Every module of
``reference/cs231n/`` is served under its path (``classifiers/fc_net.py`` as
``classifiers.fc_net``): a new module needs no entry here.
"""

from pathlib import Path

from gradekit.providers import ModuleProvider, modules_of

plugin = ModuleProvider("cs231n",
                        modules_of(f"{__name__}.cs231n", Path(__file__).parent / "cs231n"))
