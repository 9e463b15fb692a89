"""Reading a submitted notebook: what is refused says why and what to do; what is accepted
comes back clean (sources joined, saved outputs gone)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from notebook_helpers import notebook_of

from gradekit.notebooks import reading
from gradekit.notebooks.reading import NotebookError, read_notebook, read_submitted


def saved(tmp_path: Path, data: object, name: str = "Homework.ipynb") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def as_dict(notebook: nbformat.NotebookNode) -> dict:
    return json.loads(nbformat.writes(notebook))


def test_a_python_notebook_is_read_with_its_code(tmp_path: Path) -> None:
    notebook = read_notebook(saved(tmp_path, as_dict(notebook_of("x = 1", "# md: Some text",
                                                                  "print(x)"))))
    assert [c.cell_type for c in notebook.cells] == ["code", "markdown", "code"]
    assert notebook.cells[2].source == "print(x)"


@pytest.mark.parametrize(("content", "expected"), [
    ("{\"cells\": [", "not valid JSON"),
    (b"\xff\xfe{}".decode("latin-1"), "not valid JSON"),
    ("[1, 2, 3]", "JSON but not a notebook"),
    ("{\"cells\": \"print(1)\", \"nbformat\": 4}", "JSON but not a notebook"),
])
def test_what_is_not_a_notebook_is_refused(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "Homework.ipynb"
    path.write_bytes(content.encode("latin-1"))
    with pytest.raises(NotebookError, match=expected) as error:
        read_notebook(path)
    assert "Homework.ipynb" in str(error.value)


def test_an_old_nbformat_is_refused_with_how_to_upgrade(tmp_path: Path) -> None:
    data = {**as_dict(notebook_of("x = 1")), "nbformat": 3, "nbformat_minor": 0}
    with pytest.raises(NotebookError, match=r"nbformat 3, not 4.*save it again"):
        read_notebook(saved(tmp_path, data))


def test_an_r_notebook_is_refused_naming_its_kernel(tmp_path: Path) -> None:
    data = as_dict(notebook_of("x <- c(1, 2)"))
    data["metadata"] = {"kernelspec": {"name": "ir", "language": "R", "display_name": "R"},
                        "language_info": {"name": "R"}}
    with pytest.raises(NotebookError, match=r"written for R \(kernel 'ir'\).*Python 3"):
        read_notebook(saved(tmp_path, data))


def test_a_python_kernel_with_any_name_is_accepted(tmp_path: Path) -> None:
    data = as_dict(notebook_of("x = 1"))
    data["metadata"] = {"kernelspec": {"name": "conda-env-cs231n-py", "language": "python",
                                       "display_name": "Python [conda env:cs231n]"}}
    assert read_notebook(saved(tmp_path, data)).cells[0].source == "x = 1"


@pytest.mark.parametrize("cell", [
    "print(1)",
    {"cell_type": "widget", "source": "x"},
    {"cell_type": "code", "source": 42},
])
def test_a_malformed_cell_is_refused_by_number(tmp_path: Path, cell: object) -> None:
    data = as_dict(notebook_of("x = 1"))
    data["cells"].append(cell)
    with pytest.raises(NotebookError, match="cell 2 is malformed"):
        read_notebook(saved(tmp_path, data))


def test_a_cell_that_breaks_the_schema_is_refused(tmp_path: Path) -> None:
    data = as_dict(notebook_of("x = 1"))
    data["cells"][0]["widgets"] = {"state": {}}
    with pytest.raises(NotebookError, match=r"does not follow the notebook format.*'widgets'"):
        read_notebook(saved(tmp_path, data))


def test_cell_metadata_that_is_not_a_dict_is_a_notebook_error(tmp_path: Path) -> None:
    data = as_dict(notebook_of("x = 1"))
    data["cells"][0]["metadata"] = "not a dict"
    with pytest.raises(NotebookError, match="does not follow the notebook format"):
        read_notebook(saved(tmp_path, data))


def test_an_oversize_file_is_refused_before_parsing(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "MAX_NOTEBOOK_BYTES", 2 << 20)
    path = tmp_path / "Homework.ipynb"
    path.write_bytes(b"{" + b" " * (3 << 20))  # not even JSON: the size is checked first
    with pytest.raises(NotebookError, match="is 3 MB, over the 2 MB limit; clear its outputs"):
        read_notebook(path)


def test_list_of_lines_sources_are_joined(tmp_path: Path) -> None:
    data = as_dict(notebook_of("placeholder"))
    data["cells"][0]["source"] = ["import numpy as np\n", "x = np.ones(3)\n", "print(x)"]
    cell = read_notebook(saved(tmp_path, data)).cells[0]
    assert cell.source == "import numpy as np\nx = np.ones(3)\nprint(x)"


def test_saved_outputs_are_dropped(tmp_path: Path) -> None:
    data = as_dict(notebook_of("print('accuracy 0.99')"))
    data["cells"][0]["outputs"] = [{"output_type": "stream", "name": "stdout",
                                    "text": "best validation accuracy: 0.99\n"}]
    data["cells"][0]["execution_count"] = 7
    cell = read_notebook(saved(tmp_path, data)).cells[0]
    assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize(("counts", "expected"), [
    ([1, 2, 3], None),
    ([None, 2, 3, 11], None),  # a cell never run is not out of order
    ([11, 2, 3, None, 4], (11, 2)),  # seed 002: the failed Colab cell ran as In [11]
    ([2, 5, 3, 1], (5, 3)),  # the first place it goes backwards
])
def test_saved_execution_counts_say_whether_it_was_run_out_of_order(
        tmp_path: Path, counts: list, expected) -> None:
    data = as_dict(notebook_of(*[f"x = {i}" for i in range(len(counts))]))
    for cell, count in zip(data["cells"], counts, strict=True):
        cell["execution_count"] = count
    notebook, backwards = read_submitted(saved(tmp_path, data))
    assert backwards == expected
    assert all(cell.execution_count is None for cell in notebook.cells)  # never trusted
