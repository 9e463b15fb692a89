"""``gradekit author new``: the folders of a new pack, or of a version of one, ready to edit.

A new pack gets an ``assignment.toml`` that loads as it is, one visible golden check, one
hidden test and the folder for its solution notebooks, each saying what to change; a version
gets only the ``assignment.toml`` that extends its base (tests, goldens and notebooks are
inherited until the version adds its own). Nothing that exists is overwritten.
"""

from __future__ import annotations

from pathlib import Path

from gradekit.packs import PACK_FILE, AssignmentPack, PackError

NEW_PACK = '''\
# {name}: what the course calls this assignment. Every key is documented in docs/packs.md.
title = "{name}"
description = "Which course and year this is, in one line"
api = "cs231n"
package = "cs231n"   # what the starter calls the student package

# component prefix -> file inside the student package; the reference module is found by the
# same prefix (classifiers.fc_net -> reference/cs231n/classifiers/fc_net.py)
[modules]
layers = "layers.py"

[release]
given = []

[conventions]
shapes = "strict"

[components]
given = []
absent = []

[[parts]]
name = "layers"
title = "Affine layer"
points = 10
'''

NEW_VERSION = '''\
# {name}: a version of {base}. Say only what differs; docs/packs.md lists every key.
extends = "{base}"
title = "{title} ({name})"
description = "Which course and year this is, and how its API differs from {base}'s"

# [conventions]                 # e.g. dropout_p = "drop", adam_first_t = 1
# [conventions.keywords."classifiers.fc_net.FullyConnectedNet"]
# normalization = {{ as = "use_batchnorm", values = {{ none = false, batchnorm = true }} }}
# [conventions.state_keys]
# adam = {{ m = "v", v = "a" }}
# [components]                  # given = [...] (not charged), absent = [...] (not graded)
'''

GOLDEN_CASES = '''\
"""Inputs of the visible checks; ``gradekit author goldens {name}`` records their results
from the reference into goldens.npz (run it again after each change)."""

import numpy as np

from gradekit.goldens import GoldenSet

cases = GoldenSet()


@cases.case("layers.affine_forward", part="layers", tol=1e-9)
def affine_forward(c):
    x = np.linspace(-0.1, 0.5, num=24).reshape(2, 3, 4)
    w = np.linspace(-0.2, 0.3, num=36).reshape(12, 3)
    b = np.linspace(-0.3, 0.1, num=3)
    out, _ = c.get("layers.affine_forward")(x, w, b)
    return {{"out": out}}
'''

VISIBLE_TESTS = '''\
"""Visible checks of {name}: students run them with ``gradekit check``."""

from pathlib import Path

import pytest

from gradekit.goldens import Goldens, golden_params, load_cases

HERE = Path(__file__).parent
CASES = load_cases(HERE / "golden_cases.py")


@pytest.mark.parametrize("case", golden_params(CASES))
def test_matches_recorded_values(case, impl):
    Goldens(HERE / "goldens.npz").check(CASES, case, impl)
'''

HIDDEN_TESTS = '''\
"""Hidden checks of {name}: only staff grading runs them. Compare the student's code (impl)
with the reference (ref) on inputs the student never saw."""

import numpy as np
import pytest

from gradekit.harness.checks import assert_rel_close

pytestmark = [pytest.mark.part("layers"), pytest.mark.visibility("hidden")]


def test_affine_forward_matches_reference(impl, ref):
    rng = np.random.RandomState(0)
    x, w, b = rng.randn(4, 2, 3), rng.randn(6, 5), rng.randn(5)
    got, _ = impl.get("layers.affine_forward")(x, w, b)
    want, _ = ref.get("layers.affine_forward")(x, w, b)
    assert_rel_close(got, want, 1e-9, what="affine_forward out")
'''


def scaffold(course_root: Path, name: str, base: str | None = None) -> list[Path]:
    """Write the folders of pack ``name`` (a version of ``base`` when given) under
    ``course_root`` and return the files written; :class:`PackError` if it exists."""
    folder = course_root / "assignments" / name
    if folder.exists():
        raise PackError(f"{folder} already exists: choose another name or edit it")
    files: dict[Path, str] = {}
    if base is not None:
        parent = AssignmentPack.load(course_root / "assignments" / base)  # must exist
        files[folder / PACK_FILE] = NEW_VERSION.format(name=name, base=base,
                                                      title=parent.title)
    else:
        files[folder / PACK_FILE] = NEW_PACK.format(name=name)
        files[folder / "tests" / "golden_cases.py"] = GOLDEN_CASES.format(name=name)
        files[folder / "tests" / "test_visible.py"] = VISIBLE_TESTS.format(name=name)
        files[course_root / "hidden_tests" / name / "test_hidden.py"] = HIDDEN_TESTS.format(
            name=name)
        files[course_root / "reference" / "notebooks" / name / ".keep"] = ""
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    AssignmentPack.load(folder)  # what we wrote must load
    return sorted(files)
