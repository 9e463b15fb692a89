"""Packs whose students write their code in a notebook: define-cells, the release, grading.

A small course of its own (one API, one module, one notebook) keeps the test about the
mechanism rather than any real assignment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from gradekit.authoring.notebooks import expand_definitions
from gradekit.authoring.readme import release_readme
from gradekit.authoring.release import build_starter, student_work
from gradekit.authoring.strip import StripError
from gradekit.course import find_course_root
from gradekit.packs import AssignmentPack

COURSE = find_course_root()

MODULE = '''"""Reference of the toy API."""

import numpy as np


# the ReLU of the toy course
def relu(Z):
    """Elementwise max(0, Z) and its cache."""
    ### BEGIN SOLUTION
    A = np.maximum(0, Z)
    ### END SOLUTION
    return A, {"Z": Z}


def given_identity(Z):
    return Z
'''

PACK = '''title = "Toy"
api = "toy"
package = "toy"
[modules]
funcs = "funcs.py"
[notebook_modules]
"funcs.py" = "Toy.ipynb"
[components]
given = ["funcs.given_identity"]
[[parts]]
name = "relu"
points = 10
[[notebooks]]
path = "Toy.ipynb"
'''

HIDDEN = '''import numpy as np
import pytest

pytestmark = [pytest.mark.part("relu"), pytest.mark.visibility("hidden")]


def test_relu(impl):
    A, cache = impl.get("funcs.relu")(np.array([[-1.0, 2.0]]))
    assert np.array_equal(A, [[0.0, 2.0]]), "relu must zero the negative entries"
'''


def notebook(*sources: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                 "display_name": "Python 3"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Toy")]
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


@pytest.fixture
def course(tmp_path: Path) -> Path:
    assert COURSE is not None
    root = tmp_path / "course"
    (root / "reference" / "toy").mkdir(parents=True)
    (root / "reference" / "__init__.py").write_text(
        (COURSE / "reference" / "__init__.py").read_text())
    (root / "reference" / "toy" / "__init__.py").write_text("")
    (root / "reference" / "toy" / "funcs.py").write_text(MODULE)
    (root / "assignments" / "toy").mkdir(parents=True)
    (root / "assignments" / "toy" / "assignment.toml").write_text(PACK)
    (root / "hidden_tests" / "toy").mkdir(parents=True)
    (root / "hidden_tests" / "toy" / "test_relu.py").write_text(HIDDEN)
    (root / "reference" / "notebooks" / "toy").mkdir(parents=True)
    nbformat.write(notebook("import numpy as np", "# gradekit: define relu, given_identity\n"
                            "relu(np.ones(2))", "A, _ = relu(np.array([-1.0]))\nassert A[0] == 0"),
                   str(root / "reference" / "notebooks" / "toy" / "Toy.ipynb"))
    return root


def test_a_define_cell_gets_the_reference_definitions_with_their_markers():
    expanded = expand_definitions(notebook("# gradekit: define relu\nprint(1)"), MODULE, "m.py")
    source = expanded.cells[1].source
    assert source.startswith("# the ReLU of the toy course\ndef relu(Z):")
    assert "### BEGIN SOLUTION" in source and source.endswith("\n\nprint(1)")
    ending = expand_definitions(notebook("# gradekit: define f"),
                                "def f(x):\n    ### BEGIN SOLUTION\n    y = x\n"
                                "    ### END SOLUTION\n\n\nZ = 1\n", "e.py")
    assert ending.cells[1].source.endswith("    ### END SOLUTION\n")  # past its last line
    with pytest.raises(StripError, match=r"names nothing_here; m\.py defines relu, given"):
        expand_definitions(notebook("# gradekit: define nothing_here"), MODULE, "m.py")


def test_the_release_puts_the_code_in_the_notebook_not_in_module_files(course, tmp_path):
    pack = AssignmentPack.load(course / "assignments" / "toy")
    package = build_starter(pack, course, tmp_path / "starter")
    assert not (package / "funcs.py").exists()
    cells = nbformat.read(str(package / "Toy.ipynb"), as_version=4).cells
    code = "\n".join(c.source for c in cells if c.cell_type == "code")
    assert "def relu(Z):" in code and "np.maximum" not in code  # the solution is stripped
    assert "NotImplementedError" in code and "def given_identity" in code
    assert "functions of this notebook" in cells[1].source  # how to check, from a cell
    solution = build_starter(pack, course, tmp_path / "solution", keep_solutions=True)
    assert "np.maximum" in (solution / "Toy.ipynb").read_text()
    assert student_work(pack, course) == {"toy/Toy.ipynb": ("relu",)}
    readme = release_readme(pack, course)
    assert "- `toy/Toy.ipynb`: `relu`" in readme and "- dropout:" not in readme


def grade(course: Path, submission: Path, out: Path) -> dict:
    env = dict(os.environ, GRADEKIT_COURSE=str(course))
    run = subprocess.run([sys.executable, "-m", "gradekit", "grade", str(submission), "-a", "toy",
                          "--no-notebooks", "--format", "json", "--out", str(out)],
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode in (0, 1), run.stderr
    return json.loads((out / submission.stem / "result.json").read_text())[0]


@pytest.mark.slow
def test_a_notebook_handed_in_alone_is_graded_from_its_cells(course, tmp_path):
    pack = AssignmentPack.load(course / "assignments" / "toy")
    build_starter(pack, course, tmp_path / "built", keep_solutions=True)
    build_starter(pack, course, tmp_path / "built_starter")
    (tmp_path / "uploads").mkdir()
    correct = tmp_path / "uploads" / "correct.ipynb"
    correct.write_bytes((tmp_path / "built" / "toy" / "Toy.ipynb").read_bytes())
    starter = tmp_path / "uploads" / "starter.ipynb"
    starter.write_bytes((tmp_path / "built_starter" / "toy" / "Toy.ipynb").read_bytes())
    graded = grade(course, correct, tmp_path / "out")
    assert graded["score"] == 10, graded
    graded = grade(course, starter, tmp_path / "out2")
    assert graded["score"] == 0
    assert "not implemented" in json.dumps(graded["tests"]).lower()
