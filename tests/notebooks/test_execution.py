"""Executing a notebook in its sandboxed kernel, hostile notebooks included: each run ends
with the status, message and failed cell a student would read, and goes on where it should.

Runs use 2-3 s cell limits, so a hostile cell costs seconds, not the pack's minutes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import numpy as np
import pytest
from notebook_helpers import NAME, needs_bwrap

from gradekit.notebooks import ArtifactError
from gradekit.notebooks.client import MAX_CELL_OUTPUT
from gradekit.sandbox.launcher import inside_workdir

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="the kernel drops privileges only as root")
SWALLOW_INTERRUPTS = ("import time\nwhile True:\n    try:\n        time.sleep(1)\n"
                      "    except KeyboardInterrupt:\n        pass")


def printed(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_a_normal_notebook_completes_and_its_executed_copy_is_written(make_run, mode: str,
                                                                      tmp_path: Path) -> None:
    run = make_run("import numpy as np\nx = np.arange(4)", "# md: A note", "print(x.sum())",
                   "x * 2", "", mode=mode)
    run.execute()
    assert (run.status, run.message, run.cells_run) == ("completed", "", 3)
    cells = run.notebook.cells
    assert printed(cells[2]) == "6\n"
    assert cells[3].outputs[0]["data"]["text/plain"] == "array([0, 2, 4, 6])"
    report = run.report()
    assert (report.name, report.status, report.cells_total, report.failed_cells) == \
        (NAME, "completed", 4, ())
    run.write_executed(tmp_path / "out" / NAME)
    saved = nbformat.read(str(tmp_path / "out" / NAME), as_version=4)
    assert printed(saved.cells[2]) == "6\n" and saved.cells[2].execution_count == 2


def test_the_kernel_runs_beside_the_students_package(make_run, mode: str) -> None:
    run = make_run("import os\nprint(os.getcwd())", "from cs231n.layers import double\n"
                   "print(double(21))", "import os\nprint(os.environ['OMP_NUM_THREADS'])",
                   mode=mode, files={"homework/cs231n/__init__.py": "",
                                     "homework/cs231n/layers.py": "def double(x):\n"
                                                                  "    return 2 * x\n"},
                   notebook_path="homework/Homework.ipynb")
    run.execute()
    assert run.status == "completed", run.message
    inside = inside_workdir(run.confinement, run.scratch)
    assert printed(run.notebook.cells[0]).strip() == f"{inside}/homework"
    assert printed(run.notebook.cells[2]).strip() == "1"


@as_root
@needs_bwrap
def test_the_kernel_runs_as_the_submissions_own_uid_when_the_grader_is_root(make_run) -> None:
    run = make_run("import os\nprint(os.getuid(), os.getgid())", mode="bwrap")
    run.execute()
    uid = run.confinement.uid
    assert uid is not None and uid not in (0, 65534)
    assert printed(run.notebook.cells[0]).split() == [str(uid), str(uid)]


def test_a_failing_cell_does_not_stop_later_cells(make_run, mode: str) -> None:
    run = make_run("x = 1", "y = x / 0", "print('still here', x)", mode=mode)
    run.execute()
    assert run.status == "cell-errors" and run.cells_run == 3
    [failure] = run.report().failed_cells
    assert failure.label == "cell 2 (In [2])"
    assert failure.error == "ZeroDivisionError: division by zero"
    assert "y = x / 0" in failure.traceback and "\x1b[" not in failure.traceback
    assert printed(run.notebook.cells[2]) == "still here 1\n"


def test_an_infinite_loop_is_interrupted_and_the_next_cell_runs(make_run, mode: str) -> None:
    run = make_run("while True:\n    pass", "print('after the loop')", mode=mode, cell_timeout=2)
    run.execute()
    assert run.status == "cell-errors" and run.cells_run == 2
    [failure] = run.report().failed_cells
    assert failure.label == "cell 1 (In [1])"
    assert failure.error == "CellTimeoutError: the cell ran past its 2 s limit and was " \
                            "interrupted"
    assert "KeyboardInterrupt" in failure.traceback  # where the loop was when interrupted
    assert printed(run.notebook.cells[1]) == "after the loop\n"


@pytest.mark.slow
def test_a_loop_that_swallows_interrupts_stops_the_notebook(make_run, mode: str) -> None:
    run = make_run("x = 1", SWALLOW_INTERRUPTS, "print('never')", mode=mode, cell_timeout=2)
    run.execute()
    assert run.status == "timed-out"
    assert run.message == "cell 2 (In [2]) ran past its 2 s limit and did not stop when " \
                          "interrupted; the notebook was stopped there"
    assert run.stopped_at == 1 and run.client is None  # the kernel is gone
    assert run.notebook.cells[2].outputs == [] and run.notebook.cells[2].execution_count is None
    assert [f.label for f in run.report().failed_cells] == ["cell 2 (In [2])"]


def test_names_numpy_removed_work_in_the_kernel_as_they_did(make_run) -> None:
    run = make_run("import numpy as np\nprint(np.array([1.5], dtype=np.int), np.NaN)")
    run.execute()
    assert run.status == "completed", run.report().failed_cells
    assert printed(run.notebook.cells[0]) == "[1] nan\n"


def test_the_whole_notebook_timeout_skips_the_cells_after_it(make_run, mode: str) -> None:
    run = make_run("import time\ntime.sleep(10)", "print('too late')", mode=mode,
                   cell_timeout=3, timeout=1)  # from the kernel's start on: cell 1 gets 1 s
    run.execute()
    assert run.status == "timed-out" and run.stopped_at == 1
    assert run.message == "the notebook ran past its 1 s limit; cell 2 and later cells did " \
                          "not run"
    [failure] = run.report().failed_cells
    assert failure.error == "CellTimeoutError: the cell ran past its 1 s limit and was " \
                            "interrupted"
    assert run.notebook.cells[1].execution_count is None and run.notebook.cells[1].outputs == []


@pytest.mark.parametrize("death", ["os._exit(1)", "os.kill(os.getpid(), 9)"])
def test_a_kernel_that_dies_ends_the_run_naming_the_cell(make_run, mode: str,
                                                         death: str) -> None:
    run = make_run("import os\nbest_model = 1", death, "print('never')", mode=mode,
                   artifacts=("best_model",))
    run.execute()
    assert run.status == "kernel-died" and run.stopped_at == 1 and run.cells_run == 1
    assert run.message.startswith("the kernel died in cell 2")
    assert run.notebook.cells[2].outputs == []
    (failure,) = run.report().failed_cells  # the cell it died in, numbered or not
    assert failure.index == 1 and failure.error.startswith("DeadKernelError: the kernel died")
    with pytest.raises(ArtifactError, match=r"best_model is not available: Homework\.ipynb "
                                            r"stopped early: the kernel died in cell 2"):
        run.predict("best_model", np.zeros((2, 3)))


def test_a_memory_bomb_fails_its_cell_and_the_run_goes_on(make_run, mode: str) -> None:
    run = make_run("hoard = bytearray(8 << 30)", "print('alive')", mode=mode)
    run.execute()
    assert run.status == "cell-errors"
    assert [f.error for f in run.report().failed_cells] == ["MemoryError: "]
    assert printed(run.notebook.cells[1]) == "alive\n"


def test_an_output_flood_is_cut_and_the_executed_copy_stays_small(make_run, mode: str,
                                                                  tmp_path: Path) -> None:
    run = make_run("for i in range(20_000):\n    print('x' * 1000)", "print('done')",
                   mode=mode)
    run.execute()
    assert run.status == "completed"
    flood = printed(run.notebook.cells[0])
    assert "[gradekit: output cut here; a cell may print 256 KB]" in flood
    assert len(flood) <= MAX_CELL_OUTPUT + 200
    assert printed(run.notebook.cells[1]) == "done\n"
    run.write_executed(tmp_path / NAME)
    assert (tmp_path / NAME).stat().st_size < 2 * MAX_CELL_OUTPUT


def test_an_output_flood_keeps_what_was_printed_before_the_cut(make_run) -> None:
    run = make_run("for i in range(20_000):\n    print(i, 'x' * 1000)")
    run.execute()
    assert printed(run.notebook.cells[0]).startswith("0 xxx")


@needs_bwrap
def test_under_bwrap_the_network_and_instructor_folders_are_out_of_reach(
        make_run, tmp_path: Path) -> None:
    course = tmp_path / "course"
    for folder in ("reference", "hidden_tests"):
        (course / folder).mkdir(parents=True)
        (course / folder / "secret.py").write_text("ANSWER = 42\n")
    probe = ("import os\nfor folder in {folders!r}:\n"
             "    print(folder, os.path.exists(os.path.join(folder, 'secret.py')))")
    run = make_run("import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=2)",
                   probe.format(folders=[str(course / "reference"),
                                         str(course / "hidden_tests")]),
                   mode="bwrap", hidden=(course / "reference", course / "hidden_tests"))
    run.execute()
    [network] = run.report().failed_cells
    assert network.label == "cell 1 (In [1])" and network.error.startswith("OSError")
    assert printed(run.notebook.cells[1]).split() == [str(course / "reference"), "False",
                                                       str(course / "hidden_tests"), "False"]


MODELS = """\
import numpy as np

class Tiny:
    def __init__(self, W):
        self.W = W

    def loss(self, X, y=None):
        return X.reshape(len(X), -1) @ self.W
"""


def test_predict_returns_the_models_exact_scores(make_run, mode: str) -> None:
    run = make_run(MODELS, "best_model = Tiny(np.arange(12.0).reshape(4, 3))", mode=mode,
                   artifacts=("best_model",))
    run.execute()
    images = np.random.default_rng(0).normal(size=(250, 2, 2))
    scores = run.predict("best_model", images, batch_size=100)
    np.testing.assert_array_equal(scores, images.reshape(250, 4) @ np.arange(12.0).reshape(4, 3))
    assert len(run.notebook.cells) == 2  # the probe cell is not left in the notebook


def test_artifacts_that_are_not_models_get_a_message_saying_why(make_run) -> None:
    run = make_run(MODELS, "none_model = None", "broken_model = Tiny(undefined_weights)",
                   "class Flat:\n    def loss(self, X):\n        return np.zeros(3)\n"
                   "flat_model = Flat()", "number_model = 3")
    run.execute()
    images = np.zeros((5, 4))
    expected = {
        "none_model": "none_model is None: the notebook never stored a trained model in it",
        "missing_model": "Homework.ipynb never assigns missing_model; store your trained "
                         "model in a variable called missing_model",
        "broken_model": "broken_model was not produced: cell 3 (In [3]) of Homework.ipynb "
                        "failed with NameError: name 'undefined_weights' is not defined",
        "flat_model": "flat_model.loss(X) gave scores of shape (3,) (float64); expected "
                      "(5, number of classes)",
        "number_model": "number_model is a int, not a model with a loss(X) method",
    }
    for name, message in expected.items():
        with pytest.raises(ArtifactError) as error:
            run.predict(name, images)
        assert str(error.value) == message
    with pytest.raises(ValueError, match="artifact names are Python identifiers"):
        run.predict("__import__('os').system('id')", images)


def test_scores_swapped_for_a_link_or_a_pickle_are_refused_unread(make_run,
                                                                  tmp_path: Path) -> None:
    marker = tmp_path / "unpickled-in-the-grader"
    sneaky = f"""\
import numpy, os
real_save = numpy.save

class Payload:
    def __reduce__(self):
        return (os.mkdir, ({str(marker)!r},))

def link_to_passwd(path, array, allow_pickle=False):
    os.symlink('/etc/passwd', path)

def pickled(path, array, allow_pickle=False):
    real_save(path, numpy.array([Payload()], dtype=object), allow_pickle=True)

class Sneaky:
    def __init__(self, save):
        self.save = save

    def loss(self, X):
        numpy.save = self.save
        return X
"""
    run = make_run(sneaky, "link_model = Sneaky(link_to_passwd)\npickle_model = Sneaky(pickled)")
    run.execute()
    assert run.status == "completed", run.message
    with pytest.raises(ArtifactError, match=r"link_model's scores: refused, a link or not"):
        run.predict("link_model", np.zeros((2, 3)))
    with pytest.raises(ArtifactError, match="pickle_model's scores could not be read"):
        run.predict("pickle_model", np.zeros((2, 3)))
    assert not marker.exists()
    assert json.loads(json.dumps(run.report().to_dict()))["status"] == "completed"
