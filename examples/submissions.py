"""Write the example submissions of the packs in :data:`PACKS` to ``examples/submissions/``.

For each pack:

* ``correct``: the reference solution as a student would hand it in;
* ``starter``: the untouched starter code;
* ``buggy``:   the correct code with bugs students really make, one per part at most.
  fc_nets (from the course notebooks): an off-by-one SVM loss, a regulariser without its
  0.5, Adam's step counter incremented after the bias correction, batchnorm never switched
  to test mode (``bn_param[mode]``), a ReLU backward pass that writes into ``dout``, and
  dropout's ``p`` read as the drop probability. Other packs: the named mutants their
  ``mutants.toml`` marks ``example = true`` (conv_nets: a naive convolution that ignores its
  stride, a max-pool backward pass that gives every tied maximum the whole gradient, and a
  ThreeLayerConvNet whose loss counts the regulariser twice).

All are generated from the reference, so they cannot drift from it: each bug is a text
substitution that must match exactly once. The pack's notebooks come along from the
release functions: the solution notebooks for ``correct`` and ``buggy``, the student ones
for ``starter``.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import nbformat

from gradekit.authoring.release import build_starter
from gradekit.authoring.validate.mutants import catalogue
from gradekit.course import find_course_root
from gradekit.packs import get_pack

HERE = Path(__file__).resolve().parent

#: (file in the package, correct text, buggy text, what the bug is)
FC_NETS_BUGS = [
    ("layers.py", "    margins[rows, y] = 0\n", "",
     "svm_loss counts the correct class's own margin (loss off by one)"),
    ("classifiers/regularization.py", "penalty = 0.5 * reg *", "penalty = reg *",
     "the L2 penalty lacks its 0.5 (its gradient still has none)"),
    ("optim.py", 't = config.get("t", 0) + 1', 't = config.get("t", 0) or 1',
     "Adam's bias correction uses the previous step count"),
    ("classifiers/fc_net.py", 'bn_param["mode"] = mode', "bn_param[mode] = mode",
     "batchnorm layers never enter test mode"),
    ("layers.py", "    return dout * (cache > 0)\n", "    dout[cache <= 0] = 0\n    return dout\n",
     "relu_backward zeroes the caller's upstream gradient in place"),
    ("layers.py", "mask = ((np.random.rand(*x.shape) < p) / p)",
     "mask = ((np.random.rand(*x.shape) >= p) / (1 - p))",
     "dropout treats p as the probability of dropping a unit"),
]


def example_bugs(pack_name: str) -> list[tuple[str, str, str, str]]:
    """The buggy example's bugs of a pack: the named mutants of its lineage marked
    ``example = true`` (``mutants.toml``), as :data:`FC_NETS_BUGS` entries."""
    pack = get_pack(pack_name)
    return [(pack.modules[entry["module"]], correct, buggy, name)
            for name, (entry, _) in catalogue(pack).items() if entry.get("example")
            for correct, buggy in entry["edits"]]


#: the packs whose examples are written, with the bugs of each one's buggy example
PACKS = ("fc_nets", "conv_nets", "dlvc_a3", "theta_nets")


def bugs_of(pack_name: str) -> list[tuple[str, str, str, str]]:
    return FC_NETS_BUGS if pack_name == "fc_nets" else example_bugs(pack_name)


def _edit_cells(path: Path, correct: str, buggy: str) -> bool:
    """Make the edit in the one code cell of the notebook at ``path`` holding ``correct``
    once (where the students of a notebook course write their code); say if there was one."""
    notebook = nbformat.read(str(path), as_version=4)
    cells = [c for c in notebook.cells if c.cell_type == "code" and correct in c.source]
    if len(cells) != 1 or cells[0].source.count(correct) != 1:
        return False
    cells[0].source = cells[0].source.replace(correct, buggy)
    nbformat.write(notebook, str(path))
    return True


def introduce_bugs(package: Path, bugs: list[tuple[str, str, str, str]] = FC_NETS_BUGS,
                   notebooks: dict[str, str] | None = None) -> None:
    """Apply ``bugs`` (see :data:`FC_NETS_BUGS`) to a correct package in place; a module
    that ``notebooks`` (the pack's ``[notebook_modules]``) says is written in a notebook is
    edited in that notebook's cells."""
    for rel, correct, buggy, what in bugs:
        notebook = (notebooks or {}).get(rel)
        if notebook is not None:
            if not _edit_cells(package / notebook, correct, buggy):
                raise RuntimeError(f"cannot introduce bug '{what}': {correct!r} is not in one "
                                   f"code cell of {package / notebook} exactly once")
            continue
        path = package / rel
        text = path.read_text(encoding="utf-8")
        if text.count(correct) != 1:
            raise RuntimeError(f"cannot introduce bug '{what}': {correct!r} is not in {path} "
                               "exactly once; update the bugs after changing the reference")
        path.write_text(text.replace(correct, buggy), encoding="utf-8")


def write_examples(out: Path, pack_name: str = "fc_nets") -> list[Path]:
    """(Re)write the three example submissions of ``pack_name`` under ``out``."""
    pack, root = get_pack(pack_name), find_course_root()
    if root is None:
        raise RuntimeError("the examples are generated from the course repository's reference")
    shutil.rmtree(out, ignore_errors=True)
    build_starter(pack, root, out / "correct", keep_solutions=True)
    build_starter(pack, root, out / "starter")
    introduce_bugs(build_starter(pack, root, out / "buggy", keep_solutions=True),
                   bugs_of(pack_name), pack.notebook_modules)
    return [out / name for name in ("correct", "starter", "buggy")]


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "submissions"
    for name in PACKS:
        for folder in write_examples(target / name, name):
            print(f"wrote {folder}")
