"""The sandboxed kernel: what it can see, and what it can do to the files the grader uses.

The exchange with the grader is link-proof by construction: what the grader writes (the
connection file, the images to predict on) sits in an inbox the kernel can only read, and
what the kernel writes (scores, saved parameters) is read one component at a time without
following links, from a descriptor of the sandbox's root.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import numpy as np
import pytest
from notebook_helpers import needs_bwrap

from gradekit.course import find_course_root
from gradekit.notebooks import ArtifactError
from gradekit.sandbox import mounts

WALK = """\
import json, os
seen = []
for top, folders, files in os.walk("/"):
    if top.startswith(("/proc", "/sys")):
        folders[:] = []
        continue
    seen += [os.path.join(top, name) for name in folders + files]
    folders[:] = [f for f in folders if os.path.join(top, f) not in PRUNED]
print(json.dumps(seen))
"""

PLANT = """\
import json, os
results = {}
for name in ("images.npy", "kernel.json", "planted"):
    path = os.path.join(INBOX, name)
    try:
        if os.path.lexists(path):
            os.remove(path)
        os.symlink(VICTIM, path)
        results[name] = "planted"
    except OSError as exc:
        results[name] = exc.strerror
print(json.dumps(results))
"""

SWAP_SCORES = """\
import numpy, os

def as_link(path, array, allow_pickle=False):
    os.symlink(VICTIM, path)

def as_fifo(path, array, allow_pickle=False):
    os.mkfifo(path)

def as_hard_link(path, array, allow_pickle=False):
    numpy.lib.format.write_array(open(path + ".real", "wb"), array)
    os.link(path + ".real", path)

class Swapper:
    def __init__(self, save):
        self.save = save

    def loss(self, X):
        numpy.save = self.save
        return X.reshape(len(X), -1)

link_model, fifo_model, hard_model = (Swapper(as_link), Swapper(as_fifo),
                                      Swapper(as_hard_link))
"""


def private_homes() -> list[Path]:
    """The grader's home folder, unless it is the root itself (a service user's)."""
    return [home for home in (Path.home(),) if home != Path("/")]


def printed(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


@needs_bwrap
@pytest.mark.slow
def test_the_kernel_sees_only_the_allow_list(make_run, tmp_path: Path) -> None:
    pruned = [str(p) for p in (*mounts.system_roots(), *mounts.runtime_paths())]
    run = make_run(f"PRUNED = set({pruned!r})", WALK, mode="bwrap", cell_timeout=30)
    run.execute()
    assert run.status == "completed", run.message
    seen = [Path(p) for p in json.loads(printed(run.notebook.cells[1]))]
    assert Path(mounts.WORK, "Homework.ipynb") in seen  # the walk does reach things
    course = find_course_root()
    assert course is not None

    def runtime(path: Path) -> bool:  # the runtime, or a folder leading to it
        return any(path.is_relative_to(r) or r.is_relative_to(path)
                   for r in mounts.runtime_paths())

    forbidden = (course, tmp_path, run.scratch, *private_homes())
    assert sorted(str(p) for p in seen if not runtime(p) and any(
        p.is_relative_to(f) for f in forbidden)) == []
    assert not any(part == ".git" for p in seen for part in p.parts)


@needs_bwrap
def test_links_planted_in_the_inbox_or_as_scores_change_and_read_nothing(
        make_run, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("the grader's own file")
    setup = f"INBOX, VICTIM = {mounts.INBOX!r}, {str(victim)!r}"
    run = make_run(setup, PLANT, SWAP_SCORES, mode="bwrap",
                   artifacts=("link_model", "fifo_model", "hard_model"))
    run.execute()
    assert run.status == "completed", run.message
    planted = json.loads(printed(run.notebook.cells[1]))
    assert set(planted.values()) == {"Read-only file system"}
    images = np.arange(12.0).reshape(3, 4)
    for model in ("link_model", "fifo_model", "hard_model"):
        with pytest.raises(ArtifactError, match=f"{model}'s scores: refused"):
            run.predict(model, images)
    assert victim.read_text() == "the grader's own file"
    assert run.report().status == "completed"
