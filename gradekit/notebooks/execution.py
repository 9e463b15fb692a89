"""Execute one notebook headlessly in its sandboxed kernel, then serve its artifacts.

A :class:`NotebookRun` runs every code cell with nbclient under a per-cell and a whole-notebook
time limit. A failing cell does not stop the run (students' later cells often still work); a
cell that overruns is interrupted, and if the kernel does not come back, stopped for good; a
kernel that dies ends the run. Afterwards the kernel stays up so that tests can ask an artifact
(the notebook's ``best_model``) to predict on the grader's images; only numbers come back.
"""

from __future__ import annotations

import os
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import nbformat
import numpy as np
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

from gradekit.harness.results import CellFailure, NotebookReport, NotebookStatus
from gradekit.notebooks import ArtifactError
from gradekit.notebooks.cells import defining_cells, failed_cells, plain
from gradekit.notebooks.client import GradingClient
from gradekit.notebooks.kernel import SandboxedKernelManager, exchange_folder, inbox_path
from gradekit.notebooks.reading import NotebookError, read_submitted
from gradekit.packs import NotebookSpec
from gradekit.sandbox.beneath import FilesBeneath
from gradekit.sandbox.capture import OutputCapture
from gradekit.sandbox.confinement import Confinement
from gradekit.sandbox.launcher import inside_workdir

MAX_FILE_BYTES = 256 << 20   # a file the kernel wrote, as stored
MAX_SAVED_BYTES = 1 << 30    # a saved .npz, once uncompressed
RESPONSIVE_SECONDS = 10.0
STARTUP_SECONDS = 60
KERNEL_LOG_BYTES = 64 * 1024  # what the kernel process itself prints (a crash's last words)


class NotebookRun:
    """One notebook of one submission: execute it, report on it, predict with its artifacts.

    ``path`` is the notebook inside ``source`` (the submission as loaded, which the kernel
    gets a private copy of); ``scratch`` is a grader-owned folder for the kernel's inbox (and,
    without bubblewrap, its work dir and exchange folder); ``confinement`` is the submission's
    isolation.
    """

    def __init__(self, spec: NotebookSpec, path: Path | None, source: Path, scratch: Path,
                 confinement: Confinement) -> None:
        self.spec, self.path, self.source, self.scratch = spec, path, source, scratch
        self.confinement = confinement
        self.inbox = scratch / "inbox"  # grader-written, read-only to the kernel
        self.output = OutputCapture(KERNEL_LOG_BYTES)
        self.notebook: NotebookNode | None = None
        self.saved_out_of_order: tuple[int, int] | None = None  # see read_submitted
        self.client: GradingClient | None = None
        self.files: FilesBeneath | None = None  # what the kernel wrote, read link-proof
        self.status: NotebookStatus = "not-run"
        self.message = ""
        self.duration = 0.0
        self.cells_run = 0
        self.stopped_at: int | None = None  # the cell the run ended in, if it ended early
        self.log_start = 0
        self.predictions = 0

    @property
    def folder(self) -> str:
        """The notebook's folder inside the submission (where its kernel starts)."""
        return self.path.parent.relative_to(self.source).as_posix() if self.path else "."

    def kernel_path(self, name: str) -> str:
        """Where ``name``, next to the notebook, is for its kernel."""
        return os.path.normpath(f"{inside_workdir(self.confinement, self.scratch)}/"
                                f"{self.folder}/{name}")

    # -- executing -----------------------------------------------------------------------
    def execute(self) -> None:
        """Run every code cell; never raises for what the notebook does."""
        if self.path is None:
            self.status, self.message = "missing", f"{self.spec.path} was not submitted"
            return
        try:
            self.notebook, self.saved_out_of_order = read_submitted(self.path)
        except NotebookError as exc:
            self.status, self.message = "invalid", str(exc)
            return
        start = time.perf_counter()
        try:
            self._start_kernel()
        except (RuntimeError, TimeoutError, OSError) as exc:
            self.status = "kernel-died"
            self.message = f"the kernel did not start ({exc}){self._kernel_log()}"
            self.close()
            return
        # The notebook's budget is the student's own time: it starts once the kernel is up,
        # however long a loaded machine took to start it.
        self._run_cells(time.perf_counter() + self.spec.timeout)
        self.duration = time.perf_counter() - start
        if self.status == "not-run":
            self.status = "cell-errors" if failed_cells(self.notebook) else "completed"

    def _start_kernel(self) -> None:
        self.inbox.mkdir(mode=0o755, parents=True, exist_ok=True)
        uid = self.confinement.uid
        if self.confinement.mode != "bwrap":  # the kernel's sockets go in a folder of its own
            exchange = Path(exchange_folder(self.confinement, self.scratch))
            exchange.mkdir(mode=0o700, exist_ok=True)
            if uid is not None:
                os.chown(exchange, uid, uid)
        km = SandboxedKernelManager(confinement=self.confinement, source=self.source,
                                    scratch=self.scratch, folder=self.folder,
                                    capture=self.output)
        self.client = GradingClient(
            self.notebook, km=km, timeout=int(self.spec.cell_timeout), allow_errors=True,
            interrupt_on_timeout=True, startup_timeout=STARTUP_SECONDS,
            error_on_timeout={"ename": "CellTimeoutError", "evalue": "", "traceback": []},
            shutdown_kernel="immediate", record_timing=False)
        try:
            self.client.start_new_kernel()
        finally:
            self.files = km.files
        self.client.start_new_kernel_client()
        self.log_start = self.output.kept  # past ipykernel's banner

    def _run_cells(self, deadline: float) -> None:
        assert self.client is not None and self.notebook is not None
        for index, cell in enumerate(self.notebook.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                self._stop(index, "timed-out", f"the notebook ran past its {self.spec.timeout:g} s"
                                               f" limit; {_label(cell, index)} and later cells "
                                               "did not run", started=False)
                return
            limit = max(1, int(min(self.spec.cell_timeout, remaining)))
            self.client.timeout = limit
            began = time.perf_counter()
            try:
                self.client.execute_cell(cell, index)
            except DeadKernelError:
                self._stop(index, "kernel-died", f"the kernel died in {_label(cell, index)} "
                           "(out of memory, os._exit, or a crash)", detail=self._kernel_log())
                return
            except CellTimeoutError:
                self._stop(index, "timed-out", f"{_label(cell, index)} ran past {limit} s")
                return
            self.cells_run += 1
            if time.perf_counter() - began >= limit:
                _mark_timeout(cell, limit)
                if not self._responsive():
                    self._stop(index, "timed-out", f"{_label(cell, index)} ran past its {limit} s"
                               " limit and did not stop when interrupted; the notebook was "
                               "stopped there")
                    return

    def _responsive(self) -> bool:
        """True when the kernel answers an empty request soon (after an interrupt, say)."""
        assert self.client is not None and self.client.kc is not None
        kc = self.client.kc

        async def ping() -> bool:
            msg_id = kc.execute("", silent=True, store_history=False)
            deadline = time.monotonic() + RESPONSIVE_SECONDS
            while (left := deadline - time.monotonic()) > 0:
                try:
                    reply = await kc.get_shell_msg(timeout=left)
                except Exception:  # queue.Empty: no answer in time
                    return False
                if reply["parent_header"].get("msg_id") == msg_id:
                    return True
            return False

        return run_sync(ping)()

    def _stop(self, index: int, status: NotebookStatus, message: str,
              started: bool = True, detail: str = "") -> None:
        """End the run in cell ``index``, which gets the reason as its error if it had
        started (the kernel may die before it even numbers the cell); ``detail`` goes only
        into the run's message."""
        self.status, self.message, self.stopped_at = status, message + detail, index
        cell = self.notebook.cells[index] if self.notebook is not None else None
        if cell is not None and started and not any(
                o.get("output_type") == "error" for o in cell.outputs):
            ename = "DeadKernelError" if status == "kernel-died" else "CellTimeoutError"
            cell.outputs.append(nbformat.v4.new_output("error", ename=ename, evalue=message,
                                                       traceback=[]))
        self.close()

    def _kernel_log(self) -> str:
        """What the kernel wrote to its stderr after it started (a crash's last words)."""
        self.output.join(0.5)
        tail = plain(self.output.text(self.log_start), 600).strip()
        return f"; the kernel's last words: {tail}" if tail else ""

    def close(self) -> None:
        """Stop the kernel, then let go of its sandbox (idempotent)."""
        client, self.client = self.client, None
        if client is not None:
            client._cleanup_kernel()
        if self.files is not None:
            self.files.close()
            self.files = None

    # -- reporting -----------------------------------------------------------------------
    def report(self, needed_by: dict[str, set[str]] | None = None,
               executed: str | None = None) -> NotebookReport:
        """The run as a report; ``needed_by`` maps each artifact to the tests that wanted it
        and did not pass, so a failed cell can name the tests it cost."""
        failures = failed_cells(self.notebook) if self.notebook is not None else []
        if needed_by and self.notebook is not None:
            defined_in = {artifact: set(defining_cells(self.notebook, artifact))
                          for artifact in needed_by}
            failures = [_with_dependents(f, defined_in, needed_by) for f in failures]
        cells = self.notebook.cells if self.notebook is not None else []
        return NotebookReport(
            name=self.spec.name, status=self.status, message=self.message,
            duration=round(self.duration, 3), cells_run=self.cells_run,
            cells_total=sum(c.cell_type == "code" for c in cells),
            failed_cells=tuple(failures), executed=executed,
            saved_out_of_order=self.saved_out_of_order or ())

    def write_executed(self, path: Path) -> None:
        """Save the executed notebook, outputs included (for the student's feedback)."""
        if self.notebook is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(self.notebook, str(path))

    # -- artifacts -----------------------------------------------------------------------
    def predict(self, name: str, images: np.ndarray, batch_size: int = 100) -> np.ndarray:
        """Scores ``(N, classes)`` of the artifact model ``name`` on ``images``, computed in
        the kernel; the images go in as ``.npy``, the scores come back as ``.npy``."""
        path = self._probe(name, images, "save_scores", f"{name}, {name!r}", int(batch_size))
        assert self.files is not None
        return read_scores(self.files, path, len(images), name)

    def labels(self, name: str, images: np.ndarray, via: str, *, features_first: bool = False,
               batch_size: int | None = None) -> np.ndarray:
        """The labels ``via(X, name)`` gives ``images`` in the kernel, one per image: for
        courses whose model is a dict of parameters and a function (``classify(X,
        parameters)``). ``features_first`` hands ``X`` over as (features, images); ``batch_size``
        ``None`` asks for all images at once (batchnorm in test mode uses batch statistics)."""
        if not via.isidentifier():
            raise ValueError(f"the function asked is a Python identifier, got {via!r}")
        path = self._probe(name, images, "save_labels", f"{via}, {name}, {name!r}",
                           0 if batch_size is None else int(batch_size),
                           f", features_first={bool(features_first)}, called={via!r}")
        assert self.files is not None
        return read_labels(self.files, path, len(images), f"{via}(X, {name})")

    def _probe(self, name: str, images: np.ndarray, saver: str, arguments: str,
               batch_size: int, options: str = "") -> str:
        """Run ``gradekit.notebooks.probe.<saver>`` on ``images`` in the kernel; the path
        (inside the sandbox) of the ``.npy`` it wrote."""
        if not name.isidentifier():
            raise ValueError(f"artifact names are Python identifiers, got {name!r}")
        self.require(name)
        self.predictions += 1  # a fresh name each time: nothing left from an earlier call counts
        out_path = (f"{exchange_folder(self.confinement, self.scratch)}/"
                    f"out-{self.predictions}.npy")
        np.save(self.inbox / "images.npy", np.ascontiguousarray(images), allow_pickle=False)
        images_path = inbox_path(self.confinement, self.scratch, "images.npy")
        probe = nbformat.v4.new_code_cell(
            "import gradekit.notebooks.probe as __gradekit_probe\n"
            f"__gradekit_probe.{saver}({arguments}, {images_path!r}, {out_path!r}, "
            f"{batch_size}{options})")
        self.client.timeout = int(self.spec.cell_timeout)
        self.notebook.cells.append(probe)  # nbclient stores the cell back at its index
        try:
            self.client.execute_cell(probe, len(self.notebook.cells) - 1, store_history=False)
        except (DeadKernelError, CellTimeoutError) as exc:
            self.close()
            raise ArtifactError(f"the kernel failed while {name} predicted: {exc}") from exc
        finally:
            self.notebook.cells.pop()
        errors = [o for o in probe.outputs if o.get("output_type") == "error"]
        if errors:
            raise ArtifactError(self._missing_artifact(name, errors[0]))
        return out_path

    def require(self, name: str) -> None:
        """Raise :class:`ArtifactError` when no kernel is left to ask for ``name``."""
        if self.client is None or self.notebook is None:
            raise ArtifactError(f"{name} is not available: {self._why_no_kernel()}")

    def _why_no_kernel(self) -> str:
        if self.status in ("missing", "invalid"):
            return f"{self.spec.name}: {self.message}"
        return f"{self.spec.name} stopped early: {self.message}"

    def _missing_artifact(self, name: str, error: dict[str, Any]) -> str:
        assert self.notebook is not None
        failed = {f.index: f for f in failed_cells(self.notebook)}
        defined_in = defining_cells(self.notebook, name)
        culprits = [failed[i] for i in defined_in if i in failed]
        if culprits:
            cell = culprits[-1]
            return f"{name} was not produced: {cell.label} of {self.spec.name} failed with " \
                   f"{cell.error}"
        if error.get("ename") == "NameError" and not defined_in:
            return f"{self.spec.name} never assigns {name}; store your trained model in a " \
                   f"variable called {name}"
        if str(error.get("evalue", "")).startswith(f"{name} is "):  # the probe's own check
            return plain(error["evalue"], 500)
        return f"{name} could not predict: {plain(error.get('ename', 'Error'))}: " \
               f"{plain(error.get('evalue', ''), 500)}"


def read_scores(files: FilesBeneath, path: str, rows: int, name: str) -> np.ndarray:
    """The kernel's ``scores.npy``: numbers only, one row per image."""
    with open_written(files, path, f"{name}'s scores") as stream:
        try:
            scores = np.load(stream, allow_pickle=False)
        except ValueError as exc:
            raise ArtifactError(f"{name}'s scores could not be read: {exc}") from exc
    if scores.ndim != 2 or scores.shape[0] != rows or scores.dtype.kind not in "fiu":
        raise ArtifactError(f"{name}.loss(X) gave scores of shape {scores.shape} "
                            f"({scores.dtype}); expected ({rows}, number of classes)")
    return scores


def read_labels(files: FilesBeneath, path: str, rows: int, what: str) -> np.ndarray:
    """The kernel's labels: whole numbers only, one per image."""
    with open_written(files, path, f"the labels of {what}") as stream:
        try:
            labels = np.load(stream, allow_pickle=False)
        except ValueError as exc:
            raise ArtifactError(f"the labels of {what} could not be read: {exc}") from exc
    if labels.shape != (rows,) or labels.dtype.kind not in "fiu" or not np.all(
            np.isfinite(labels)) or not np.all(labels == np.round(labels)):
        raise ArtifactError(f"{what} gave {labels.shape} {labels.dtype} values; expected one "
                            f"whole-number label per image ({rows})")
    return labels.astype(np.int64)


def read_saved_arrays(files: FilesBeneath, path: str) -> dict[str, np.ndarray]:
    """A ``.npz`` the student's code saved (a model's parameters): numeric arrays only, nothing
    unpickled, and no more than :data:`MAX_SAVED_BYTES` once uncompressed."""
    name = Path(path).name
    with open_written(files, path, name) as stream:
        try:
            with zipfile.ZipFile(stream) as archive:
                unpacked = sum(member.file_size for member in archive.infolist())
                if unpacked > MAX_SAVED_BYTES:
                    raise ArtifactError(f"{name} unpacks to {unpacked >> 20} MB, over "
                                        f"the {MAX_SAVED_BYTES >> 20} MB limit")
            stream.seek(0)
            with np.load(stream, allow_pickle=False) as saved:
                arrays = {key: saved[key] for key in saved.files}
        except (ValueError, zipfile.BadZipFile, OSError) as exc:
            raise ArtifactError(f"{name} is not a readable .npz of numeric arrays "
                                f"(save it with np.savez): {exc}") from exc
    odd = sorted(key for key, value in arrays.items() if value.dtype.kind not in "fiub")
    if odd:
        raise ArtifactError(f"{name} holds non-numeric arrays ({', '.join(odd)})")
    return arrays


@contextmanager
def open_written(files: FilesBeneath, path: str, what: str) -> Iterator[BinaryIO]:
    """Open a file the kernel wrote, refusing links, pipes and devices (which could point the
    grader at its own files or hang it) and anything over :data:`MAX_FILE_BYTES`."""
    try:
        stream = files.open(path, MAX_FILE_BYTES)
    except OSError as exc:
        raise ArtifactError(f"{what}: refused, {exc.args[-1]}") from exc
    with stream:
        yield stream


def _label(cell: NotebookNode, index: int) -> str:
    return CellFailure(index, cell.get("execution_count"), "").label


def _mark_timeout(cell: NotebookNode, limit: int) -> None:
    """Replace the interrupt's KeyboardInterrupt by an error that says what happened."""
    interrupted = [o for o in cell.outputs if o.get("output_type") == "error"]
    cell.outputs = [o for o in cell.outputs if o.get("output_type") != "error"]
    cell.outputs.append(nbformat.v4.new_output(
        "error", ename="CellTimeoutError",
        evalue=f"the cell ran past its {limit} s limit and was interrupted",
        traceback=interrupted[0].get("traceback", []) if interrupted else []))


def _with_dependents(failure: CellFailure, defined_in: dict[str, set[int]],
                     needed_by: dict[str, set[str]]) -> CellFailure:
    tests = sorted({test for artifact, wanting in needed_by.items()
                    if failure.index in defined_in[artifact] for test in wanting})
    return CellFailure(**{**failure.to_dict(), "dependents": tuple(tests)})
