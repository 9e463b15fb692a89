"""Locate the course repository: the folder holding ``reference/``, ``assignments/`` and
``hidden_tests/``.

Instructor material never ships in the wheel, so gradekit finds it at run time: an explicit
``GRADEKIT_COURSE`` wins, then the nearest parent of the working directory that has a
``reference`` package, then the source checkout gradekit itself was installed from.
"""

from __future__ import annotations

import os
from pathlib import Path

COURSE_ENV = "GRADEKIT_COURSE"


def is_course_root(path: Path) -> bool:
    """True when ``path`` holds the reference package of a course."""
    return (path / "reference" / "__init__.py").is_file()


def find_course_root(start: Path | None = None) -> Path | None:
    """Return the course root, or ``None`` when no reference material is reachable."""
    explicit = os.environ.get(COURSE_ENV)
    if explicit:
        root = Path(explicit).expanduser().resolve()
        if not is_course_root(root):
            raise FileNotFoundError(
                f"{COURSE_ENV}={explicit} has no reference/ package; point it at the course "
                "repository (the folder with reference/, assignments/ and hidden_tests/)."
            )
        return root
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if is_course_root(candidate):
            return candidate
    checkout = Path(__file__).resolve().parent.parent
    return checkout if is_course_root(checkout) else None
