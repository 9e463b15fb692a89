"""Solution notebooks become student notebooks with the same markers as modules."""

import dataclasses

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from gradekit.authoring.notebooks import ANSWER_PROMPT, strip_notebook, with_check_cell
from gradekit.authoring.release import ReleaseError, build_release, build_starter
from gradekit.authoring.strip import StripError
from gradekit.course import find_course_root
from gradekit.packs import NotebookSpec, get_pack

SOLUTION_CODE = """\
x = 1
### BEGIN SOLUTION
### STUB best_model = None
best_model = train(x)
### END SOLUTION
"""
SOLUTION_MARKDOWN = """\
**Question.** Why?

<!-- BEGIN SOLUTION -->
Because of the secret reason.
<!-- END SOLUTION -->
"""
NOTEBOOK = "FullyConnectedNets.ipynb"


def _notebook(*cells):
    return new_notebook(cells=list(cells), metadata={"kernelspec": {
        "display_name": "Python 3", "language": "python", "name": "python3"}})


def _ran(source):
    """A code cell as it looks after the instructor executed it."""
    cell = new_code_cell(source, execution_count=3)
    cell.outputs = [new_output("stream", name="stdout", text="trained: 0.55\n")]
    return cell


def test_student_version_drops_every_solution_keeps_stubs_and_clears_outputs():
    stripped = strip_notebook(_notebook(_ran(SOLUTION_CODE), new_markdown_cell(SOLUTION_MARKDOWN)))
    code, markdown = stripped.cells
    assert code.source == "x = 1\nbest_model = None\n"
    assert code.outputs == [] and code.execution_count is None
    assert "secret" not in markdown.source and "SOLUTION" not in markdown.source
    assert markdown.source.splitlines() == ["**Question.** Why?", "", ANSWER_PROMPT]
    nbformat.validate(stripped)


def test_keep_solutions_keeps_the_code_and_answers_without_markers_or_outputs():
    kept = strip_notebook(_notebook(_ran(SOLUTION_CODE), new_markdown_cell(SOLUTION_MARKDOWN)),
                          keep_solutions=True)
    code, markdown = kept.cells
    assert code.source == "x = 1\nbest_model = train(x)\n"
    assert code.outputs == [] and code.execution_count is None
    assert "secret reason" in markdown.source and "SOLUTION" not in markdown.source
    assert ANSWER_PROMPT not in markdown.source


def test_the_original_notebook_is_left_untouched():
    original = _notebook(_ran(SOLUTION_CODE))
    strip_notebook(original)
    assert "train(x)" in original.cells[0].source and original.cells[0].outputs


@pytest.mark.parametrize("cell", [
    new_code_cell("### BEGIN SOLUTION\nx = 1\n"),
    new_code_cell("x = 1\n### END SOLUTION\n"),
    new_markdown_cell("<!-- BEGIN SOLUTION -->\nanswer"),
    new_markdown_cell("<!-- END SOLUTION -->"),
])
def test_unbalanced_markers_name_the_notebook_and_the_cell(cell):
    with pytest.raises(StripError, match=r"course\.ipynb, cell 2"):
        strip_notebook(_notebook(new_markdown_cell("# Title"), cell), "course.ipynb")


@pytest.fixture
def course():
    root = find_course_root()
    if root is None:
        pytest.skip("needs the course repository")
    pack = dataclasses.replace(get_pack("fc_nets"), notebooks=(NotebookSpec(NOTEBOOK),))
    return pack, root


def test_the_fc_nets_notebook_strips_to_a_valid_student_notebook(course):
    pack, root = course
    solution = nbformat.read(pack.solution_notebooks(root) / NOTEBOOK, as_version=4)
    student = strip_notebook(solution, NOTEBOOK)
    nbformat.validate(student)
    assert student.metadata.kernelspec.name == "python3"
    code = "\n".join(c.source for c in student.cells if c.cell_type == "code")
    assert "best_model = None" in code and "solver.train()\n" in code
    assert "SOLUTION" not in code and "STUB" not in code
    assert "FullyConnectedNet([512, 256]" not in code  # the best model's recipe is the answer
    text = "\n".join(c.source for c in student.cells)
    assert "SOLUTION" not in text and ANSWER_PROMPT in text
    assert "%" not in "".join(line[:1] for line in code.splitlines())  # no magics


def test_the_release_holds_the_student_notebook_beside_the_package(course, tmp_path):
    pack, root = course
    bundle = build_release(pack, root, tmp_path / "release")
    notebook = nbformat.read(bundle / NOTEBOOK, as_version=4)
    text = "\n".join(cell.source for cell in notebook.cells)
    assert "best_model = None" in text and "FullyConnectedNet([512, 256]" not in text
    assert "SOLUTION" not in text and (bundle / pack.package).is_dir()


def test_a_correct_submission_gets_the_solution_notebook(course, tmp_path):
    pack, root = course
    build_starter(pack, root, tmp_path, keep_solutions=True)
    text = (tmp_path / NOTEBOOK).read_text(encoding="utf-8")
    assert "FullyConnectedNet([512, 256]" in text and "SOLUTION" not in text
    assert "gradekit.check(" not in text  # the check cell is for students


def test_the_student_notebook_says_how_to_check_from_a_cell_after_its_title(course, tmp_path):
    pack, root = course
    build_starter(pack, root, tmp_path)
    notebook = nbformat.read(tmp_path / NOTEBOOK, as_version=4)
    solution = nbformat.read(pack.solution_notebooks(root) / NOTEBOOK, as_version=4)
    assert len(notebook.cells) == len(solution.cells) + 1
    assert notebook.cells[0].source == solution.cells[0].source  # the title stays first
    cell = notebook.cells[1]
    assert cell.cell_type == "markdown" and 'gradekit.check("layers")' in cell.source
    assert all(f"`{part.name}`" in cell.source for part in pack.parts)
    # a code cell would run when the graders execute the notebook
    assert not [c for c in notebook.cells if c.cell_type == "code" and "gradekit.check" in c.source]


def test_the_check_cell_goes_on_top_of_a_notebook_without_a_title():
    notebook = with_check_cell(_notebook(new_code_cell("x = 1")), ["conv", "cnn"])
    assert notebook.cells[0].cell_type == "markdown"
    assert 'gradekit.check("conv")' in notebook.cells[0].source
    assert "The parts are `conv`, `cnn`." in notebook.cells[0].source


def test_a_missing_solution_notebook_is_a_release_error(course, tmp_path):
    pack, root = course
    pack = dataclasses.replace(pack, notebooks=(NotebookSpec("Missing.ipynb"),))
    with pytest.raises(ReleaseError, match=r"Missing\.ipynb"):
        build_starter(pack, root, tmp_path)
