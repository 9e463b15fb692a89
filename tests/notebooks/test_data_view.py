"""What a notebook's kernel reads under the grader: the view of the data set, never the
images that earn accuracy credit, and the notebook's data loader still working on it."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import nbformat
import numpy as np
import platformdirs
import pytest
from notebook_helpers import KERNEL_LIMITS, NAME, needs_bwrap, write_notebook

from gradekit.data import view
from gradekit.data.cifar10 import get_CIFAR10_data, read_batch
from gradekit.data.locate import ENV_VAR
from gradekit.data.registry import CIFAR10, CIFAR10_TRAIN_BATCHES, DATASETS, MNIST, get_dataset
from gradekit.harness.rubrics import formula
from gradekit.notebooks.execution import NotebookRun, read_saved_arrays
from gradekit.notebooks.runner import data_for_kernel
from gradekit.packs import NotebookSpec, get_pack
from gradekit.sandbox import mounts
from gradekit.sandbox.confinement import new_confinement

REPO = Path(__file__).resolve().parents[2]
HELD_OUT = CIFAR10.held_out.count

#: A best model with no training: every image it can read, by its pixels, to its label.
MEMORISE = """\
import json, os, pickle
import numpy as np
from gradekit.data.cifar10 import get_CIFAR10_data

table, batches = {}, 0
for top, folders, names in os.walk("/"):
    folders[:] = [f for f in folders if os.path.join(top, f) not in PRUNED]
    for name in names:
        try:
            with open(os.path.join(top, name), "rb") as f:
                if f.read(1) != b"\\x80":  # not a pickle
                    continue
                f.seek(0)
                batch = pickle.load(f, encoding="latin1")
            rows, labels = batch["data"], batch["labels"]
        except Exception:
            continue
        batches += 1
        for row, label in zip(rows, labels):
            table[np.asarray(row, dtype=np.uint8).tobytes()] = int(label)

mean = get_CIFAR10_data(subtract_mean=False)["X_train"].mean(axis=0)


class Memoriser:
    def loss(self, X):
        scores = np.zeros((len(X), 10))
        for i, x in enumerate(X):
            scores[i, table.get(np.rint(x + mean).astype(np.uint8).tobytes(), 0)] = 1.0
        return scores


best_model = Memoriser()
print(json.dumps({"batches": batches, "images": len(table)}))
"""

#: The notebook's own first cell, and what it hands back for the grader to look at.
LOAD = """\
import json, warnings
import numpy as np
from gradekit.data.cifar10 import get_CIFAR10_data

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    data = get_CIFAR10_data()
raw = get_CIFAR10_data(subtract_mean=False)
np.savez("returned.npz", **{k: v.astype(np.uint8) if k.startswith("X") else v
                            for k, v in raw.items()})
try:
    get_CIFAR10_data(held_out=True)
    refused = ""
except Exception as exc:
    refused = f"{type(exc).__name__}: {exc}"
print(json.dumps({"shapes": {k: list(v.shape) for k, v in data.items()},
                  "dtypes": sorted({str(v.dtype) for v in data.values()}),
                  "warnings": [str(w.message) for w in caught], "refused": refused}))
"""


@pytest.fixture
def subset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CI subset of CIFAR-10 as the grader's data, with views in a fresh folder."""
    root = Path(os.environ.get(ENV_VAR, REPO.parent / "shared" / "data"))
    if not (root / "cifar-10-subset").is_dir():
        pytest.skip(f"CIFAR-10 subset not found under {root}; set {ENV_VAR} to run this")
    monkeypatch.setenv(ENV_VAR, str(root))
    monkeypatch.setattr(platformdirs, "user_cache_dir",
                        lambda appname: str(tmp_path / "cache" / appname))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.setattr(view, "_digests", {})
    return root / "cifar-10-subset"


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[Callable[..., NotebookRun]]:
    """Execute a notebook of ``sources`` in a bubblewrap kernel that reads ``readable`` with
    ``env``, as ``prepare_notebooks`` sets it up; the kernel stays up for predictions."""
    runs: list[NotebookRun] = []
    confinements = ExitStack()

    def execute(*sources: str, readable: list[Path], env: dict[str, str]) -> NotebookRun:
        root = tmp_path / f"submission{len(runs)}"
        write_notebook(root / NAME, *sources)
        scratch = tmp_path / f"scratch{len(runs)}"
        scratch.mkdir()
        confinement = confinements.enter_context(new_confinement(
            "bwrap", KERNEL_LIMITS, readable=readable, env=env, hidden=[root]))
        run = NotebookRun(NotebookSpec(NAME, 120, 300, ("best_model",)), root / NAME, root,
                          scratch, confinement)
        runs.append(run)
        run.execute()
        assert run.status == "completed", run.message or run.report()
        return run

    yield execute
    for run in runs:
        run.close()
    confinements.close()


def printed(cell: nbformat.NotebookNode) -> str:
    """What the cell printed to stdout (the loader's warnings go to stderr)."""
    return "".join(o.get("text", "") for o in cell.outputs
                   if o.output_type == "stream" and o.get("name") == "stdout")


def on_disk(root: Path) -> set[str]:
    """The registered data sets with a complete folder in ``root``, read off the disk."""
    return {dataset.name for dataset in DATASETS.values()
            if any((root / folder).is_dir() and not dataset.missing_from(root / folder)
                   for folder in dataset.folders)}


def viewed(readable: list[Path]) -> dict[str, Path]:
    """Which data set each folder a kernel reads is the view of, by the note in it."""
    names = {}
    for root in readable:
        (folder,) = root.iterdir()  # a view root holds the one data set folder
        names[view.read_note(folder)["dataset"]] = root
    return names


def test_the_kernel_reads_a_view_of_each_data_set_on_disk_and_no_data_folder(subset):
    readable, env = data_for_kernel()
    expected = on_disk(subset.parent)
    assert "cifar10" in expected  # the subset; the shared data folder holds MNIST's too
    by_name = viewed(readable)
    assert set(by_name) == expected and len(readable) == len(expected)
    for name, root in by_name.items():
        assert root == view.data_view(get_dataset(name)).root
    # one folder per view, in the order the kernel's loaders search them
    assert env == {ENV_VAR: os.pathsep.join(map(str, readable))}
    assert not any(subset.is_relative_to(r) or r.is_relative_to(subset.parent)
                   for r in readable)


def test_a_data_set_missing_or_incomplete_on_disk_gets_no_view(subset, tmp_path, monkeypatch):
    only = tmp_path / "only-cifar"
    only.mkdir()
    (only / subset.name).symlink_to(subset)
    incomplete = only / MNIST.folders[0]  # an interrupted copy: training images only
    incomplete.mkdir()
    (incomplete / MNIST.contents[0]).write_bytes(b"")
    monkeypatch.setenv(ENV_VAR, str(only))
    assert on_disk(only) == {"cifar10"}
    readable, env = data_for_kernel()
    assert readable == [view.data_view(CIFAR10).root]
    assert env == {ENV_VAR: str(readable[0])}
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nothing"))
    assert data_for_kernel() == ([], {})


@needs_bwrap
@pytest.mark.slow
def test_a_memorising_best_model_earns_no_accuracy_credit(subset, kernel):
    graded = get_CIFAR10_data(held_out=True)
    rubric = formula(get_pack("fc_nets").rubric)
    pruned = ["/proc", "/sys", "/dev",
              *map(str, (*mounts.system_roots(), *mounts.runtime_paths()))]
    setup = f"PRUNED = set({pruned!r})"

    def memorised(readable: list[Path], env: dict[str, str]) -> tuple[dict, float]:
        run = kernel(setup, MEMORISE, readable=readable, env=env)
        scores = run.predict("best_model", graded["X_held_out"])
        accuracy = float(np.mean(scores.argmax(axis=1) == graded["y_held_out"]))
        return json.loads(printed(run.notebook.cells[1])), accuracy

    found, accuracy = memorised(*data_for_kernel())
    assert found == {"batches": 6, "images": 5 * 1017 + 17}  # every image of the view
    # what the kernel could read before the views: the data folder itself
    before, accuracy_before = memorised([subset.parent], {ENV_VAR: str(subset.parent)})
    print(f"memorising best_model: {accuracy:.1%} on the held-out images through the view "
          f"(credit {rubric(accuracy):.2f}), {accuracy_before:.1%} over the data folder "
          f"(credit {rubric(accuracy_before):.2f})")
    assert accuracy < 0.2 and rubric(accuracy) == 0  # chance: unknown images are class 0
    assert before["images"] == 6 * 1017 and accuracy_before == 1 and rubric(1.0) == 1


@needs_bwrap
@pytest.mark.slow
def test_the_notebooks_loader_works_on_the_view_and_returns_no_held_out_image(subset, kernel):
    readable, env = data_for_kernel()
    run = kernel(LOAD, readable=readable, env=env)
    report = json.loads(printed(run.notebook.cells[0]))
    assert report["shapes"] == {"X_train": [4085, 3, 32, 32], "y_train": [4085],
                                "X_val": [1000, 3, 32, 32], "y_val": [1000],
                                "X_test": [17, 3, 32, 32], "y_test": [17]}
    assert report["dtypes"] == ["float64", "int64"]
    assert report["warnings"] == [
        "CIFAR-10 training batches hold 5085 images, fewer than num_training + "
        "num_validation = 50000: training on 4085, validating on 1000",
        "the grader keeps test_batch images 0..999 to score your best model (they are not in "
        "this data folder), so X_test holds the 17 after them (1000..1016), fewer than "
        "num_test=1000"]
    assert report["refused"].startswith("ViewError: ") and "stay with the grader" in \
        report["refused"]

    returned = read_saved_arrays(run.files, run.kernel_path("returned.npz"))
    train = np.concatenate([read_batch(subset / n)["data"] for n in CIFAR10_TRAIN_BATCHES])
    test = read_batch(subset / "test_batch")["data"]
    rows = {k: returned[k].reshape(len(returned[k]), -1) for k in ("X_train", "X_val", "X_test")}
    np.testing.assert_array_equal(rows["X_train"], train[:4085])
    np.testing.assert_array_equal(rows["X_val"], train[4085:])
    np.testing.assert_array_equal(rows["X_test"], test[HELD_OUT:])
    scored = {row.tobytes() for row in view.data_view(CIFAR10).held_out().rows}
    assert len(scored) == HELD_OUT
    assert not scored & {row.tobytes() for part in rows.values() for row in part}
