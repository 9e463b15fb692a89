"""Modules written from what a notebook's cells define, and the loader that grades them."""

import ast
import subprocess
import sys
import zipfile

import nbformat

from gradekit.submission import FindingKind, load_submission
from gradekit.submission.notebook_code import module_from_cells, module_from_script

MODULES = {"assignment3": "assignment3.py"}
FROM_NOTEBOOKS = {"assignment3.py": "Assignment3.ipynb"}

CELLS = [
    "%matplotlib inline\nimport numpy as np\nfrom digits import get_mnist\n"
    "import a_module_nobody_installed as gone\n",
    "trX, trY, tsX, tsY = get_mnist()\nprint(trX.shape)\n",
    "EPS = 1e-5\nSHAPE = (2, EPS)\nLOADED = trX\n\ndef relu(Z):\n    A = np.maximum(0, Z)\n"
    "    return A, {'Z': Z}\n",
    "a, c = relu([-1, 2])\nassert list(a) == [0, 2]\nnp.random.seed(1)\n",
    "def helper(x):\n    return x + EPS\n\n@staticmethod\ndef decorated():\n    return 1\n",
    "class Net:\n    def __init__(self):\n        self.w = 1\n",
    "def relu(Z):  # a later cell redefines it, as the kernel would have it\n"
    "    return np.maximum(0, Z) * 1.0, {'Z': Z}\n",
    "for epoch in range(1000):\n    train()\n",
]


def write_notebook(path, cells=CELLS):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                 "display_name": "Python 3"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Assignment 3")]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def module_of(cells):
    return module_from_cells(((f"cell {n}", c) for n, c in enumerate(cells, 1)), "A.ipynb")


def test_only_imports_definitions_and_constants_are_kept_in_cell_order():
    code = module_of(CELLS)
    ast.parse(code.text)
    assert code.defined == ["relu", "helper", "decorated", "Net", "relu"]
    assert "get_mnist()" not in code.text and "train()" not in code.text
    assert "assert" not in code.text and "seed" not in code.text
    assert "EPS = 1e-5" in code.text and "SHAPE = (2, EPS)" in code.text
    assert "LOADED" not in code.text  # trX was never defined in the module
    assert "@staticmethod" in code.text
    assert "# --- cell 3 ---" in code.text  # tracebacks say which cell a line came from


def test_the_module_imports_without_running_the_notebook_and_later_cells_win(tmp_path):
    (tmp_path / "assignment3.py").write_text(module_of(CELLS).text)
    probe = ("import assignment3 as m, numpy as np; a, _ = m.relu(np.array([-1., 2.]));"
             "print(a.tolist(), m.helper(1.0), m.Net().w)")
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                         text=True, check=True).stdout
    assert out.split() == ["[0.0,", "2.0]", "1.00001", "1"]


def test_a_cell_that_does_not_parse_is_left_out_and_named():
    code = module_of(["import numpy as np\n", "def broken(:\n    pass\n",
                      "def fine():\n    return 1\n"])
    assert code.defined == ["fine"]
    assert [(b.label, b.line) for b in code.broken] == [("cell 2", 1)]


def test_a_script_export_is_split_at_its_cell_markers():
    script = ("#!/usr/bin/env python\n# In[1]:\n\n\nimport numpy as np\n\n\n# In[2]:\n\n\n"
              "def f():\n    return np.zeros(1)\n\n\n# In[3]:\n\n\nf()\n"
              "get_ipython().run_line_magic('matplotlib', 'inline')\n")
    code = module_from_script(script, "assignment3.py")
    assert code.defined == ["f"] and "f()\n" not in code.text.split("def f")[0]
    assert "run_line_magic" not in code.text


def test_the_loader_writes_the_module_beside_the_submitted_notebook(tmp_path):
    write_notebook(tmp_path / "alice" / "Assignment3.ipynb")
    sub = load_submission(tmp_path / "alice", tmp_path / "work", expected=MODULES,
                          package_name="dlvc", from_notebooks=FROM_NOTEBOOKS)
    assert sub.gradable, sub.findings
    assert sub.modules == {"assignment3": "dlvc.assignment3"}
    written = sub.root / "dlvc" / "assignment3.py"
    assert "def relu" in written.read_text()
    assert (sub.root / "dlvc" / "Assignment3.ipynb").is_file()  # still there to be run


def test_a_renamed_notebook_in_a_zip_is_still_graded(tmp_path):
    notebook = write_notebook(tmp_path / "nb" / "Assignment3 (1).ipynb")
    archive = tmp_path / "bob.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(notebook, "Assignment3 (1).ipynb")
    sub = load_submission(archive, tmp_path / "work", expected=MODULES, package_name="dlvc",
                          from_notebooks=FROM_NOTEBOOKS)
    assert sub.gradable and "assignment3" in sub.modules


def test_a_py_export_of_the_module_beside_the_notebook_is_replaced_by_the_notebook(tmp_path):
    write_notebook(tmp_path / "carol" / "Assignment3.ipynb")
    (tmp_path / "carol" / "assignment3.py").write_text("raise SystemExit('ran my export')\n")
    sub = load_submission(tmp_path / "carol", tmp_path / "work", expected=MODULES,
                          package_name="dlvc", from_notebooks=FROM_NOTEBOOKS)
    assert "SystemExit" not in (sub.root / "dlvc" / "assignment3.py").read_text()


def test_without_a_notebook_a_script_export_is_read_for_its_definitions(tmp_path):
    (tmp_path / "dave").mkdir()
    (tmp_path / "dave" / "assignment3.py").write_text(
        "import numpy as np\n\ndef relu(Z):\n    return np.maximum(0, Z), {'Z': Z}\n\n"
        "relu(np.ones(3))\nfor _ in range(10**9):\n    pass\n")
    sub = load_submission(tmp_path / "dave", tmp_path / "work", expected=MODULES,
                          package_name="dlvc", from_notebooks=FROM_NOTEBOOKS)
    text = (sub.root / "dlvc" / "assignment3.py").read_text()
    assert "def relu" in text and "10**9" not in text


def test_a_broken_cell_is_a_finding_for_that_module_and_the_rest_still_grades(tmp_path):
    write_notebook(tmp_path / "erin" / "Assignment3.ipynb",
                   ["import numpy as np\n", "def dropout(A, p:\n    pass\n",
                    "def relu(Z):\n    return Z\n"])
    sub = load_submission(tmp_path / "erin", tmp_path / "work", expected=MODULES,
                          package_name="dlvc", from_notebooks=FROM_NOTEBOOKS)
    broken = [f for f in sub.findings if f.kind == FindingKind.SYNTAX_ERROR]
    assert len(broken) == 1 and broken[0].prefix == "assignment3"
    assert "cell 2 line 1" in broken[0].message and sub.gradable


def test_a_missing_notebook_is_asked_for_by_name(tmp_path):
    (tmp_path / "frank").mkdir()
    (tmp_path / "frank" / "notes.txt").write_text("I forgot")
    sub = load_submission(tmp_path / "frank", tmp_path / "work", expected=MODULES,
                          package_name="dlvc", from_notebooks=FROM_NOTEBOOKS)
    assert not sub.gradable
    assert "Assignment3.ipynb" in sub.findings[-1].message


def test_a_notebook_that_is_not_json_costs_its_module_with_a_reason(tmp_path):
    (tmp_path / "gina").mkdir()
    (tmp_path / "gina" / "Assignment3.ipynb").write_text("{not json")
    sub = load_submission(tmp_path / "gina", tmp_path / "work", expected=MODULES,
                          package_name="dlvc", from_notebooks=FROM_NOTEBOOKS)
    messages = " ".join(f.message for f in sub.findings)
    assert not sub.gradable and "not valid JSON" in messages


def test_pack_detection_counts_the_notebook_a_module_is_written_in(tmp_path):
    from dataclasses import replace

    from gradekit.packs import get_pack, pack_fit, submission_files

    write_notebook(tmp_path / "hal" / "assignment3.ipynb")  # its name's case aside
    files = submission_files(tmp_path / "hal")
    assert files == ["assignment3.ipynb"]
    fc_nets = get_pack("fc_nets")
    notebook_pack = replace(fc_nets, modules=MODULES, notebook_modules=FROM_NOTEBOOKS)
    assert pack_fit(fc_nets, files) == (0, 0)
    assert pack_fit(notebook_pack, files) == (1, 0)
