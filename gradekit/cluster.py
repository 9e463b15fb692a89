"""Grade a batch's submissions on a Dask cluster: one task per submission.

``gradekit grade --cluster ADDRESS`` (a ``dask.distributed`` scheduler, or ``local:N`` for a
:class:`~distributed.LocalCluster` of N one-thread workers) hands :class:`gradekit.batch.Batch`'s
pending submissions to :func:`supervise_on_cluster` instead of the local process supervisor;
the journal, ids, resume, progress and reports stay the batch's.

What travels, and why so:

* the course material (the pack family's ``assignments/``, ``hidden_tests/`` and the
  ``reference/``, as :func:`gradekit.authoring.gradescope.bundle_contents` lists them) goes
  as zip bytes inside each task and is unpacked once per worker into a private folder (mode
  0700), which becomes that worker's course root and is passed as ``protected``: the
  sandbox never mounts it, and a student uid cannot read it;
* each upload goes as tar bytes (links and special files kept as they are, never followed,
  so the worker's loader refuses them as a local run's does);
* on the worker, the submission is graded by the local supervisor itself (a grading process
  of its own, forked from the worker's fork server), so a grading process that dies gives the
  same row as locally;
* the row comes back as JSON text (:meth:`SubmissionResult.to_dict`), with the executed
  notebooks as bytes for the output folder: nothing pickled of student origin.

The client hands out a task only when a worker thread is free for it, so a worker that dies
mid-task (the out-of-memory killer, a lost machine) costs only the submission it was grading a
retry on another worker, as the scheduler's ``allowed-failures`` says (``local:N`` sets it to
1; give a scheduler of your own ``DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=1``); then
the submission gets an error row and the batch goes on.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import queue
import tarfile
import tempfile
import threading
import uuid
import zipfile
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gradekit.grading import GradingOptions, Timings
from gradekit.packs import AssignmentPack, PackError

if TYPE_CHECKING:
    from distributed import Client

    from gradekit.batch import Entry, _Ended

LOCAL = "local:"
INSTALL = "pip install 'gradekit[cluster]'"
#: what the scheduler of ``local:N`` is told: one retry after a worker's death
LOCAL_CONFIG = {"distributed.scheduler.allowed-failures": 1}
#: how often the client looks for workers that joined, to hand them submissions
TOP_UP_SECONDS = 1.0


class ClusterError(RuntimeError):
    """The cluster cannot be used; the message says what to do."""


def parse_local(address: str) -> int | None:
    """N of ``local:N``, or ``None`` when ``address`` names a scheduler."""
    if not address.startswith(LOCAL):
        return None
    count = address[len(LOCAL):]
    if not count.isdigit() or int(count) < 1:
        raise ClusterError(f"--cluster {address}: write local:N with N workers, e.g. local:2")
    return int(count)


def connect(address: str, stack: ExitStack) -> Client:
    """A client of the cluster at ``address`` (``local:N`` starts one), closed with ``stack``."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ClusterError(f"--cluster needs dask.distributed, which is not installed: "
                           f"{INSTALL}") from exc
    workers = parse_local(address)
    if workers is not None:
        with dask.config.set(LOCAL_CONFIG):
            cluster = stack.enter_context(LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True,
                dashboard_address=None))
        return stack.enter_context(Client(cluster))
    try:
        return stack.enter_context(Client(address, timeout=10))
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"no Dask scheduler answers at {address} ({exc}); start one "
                           "(`dask scheduler`, then `dask worker ADDRESS` on each machine) or "
                           "grade on this machine with --cluster local:N") from exc


# -- what travels ------------------------------------------------------------------------------

def course_material(pack: AssignmentPack, course_root: Path,
                    family: Sequence[AssignmentPack] = ()) -> bytes:
    """The course material a worker grades ``pack`` with, as zip bytes: the lineages of
    ``pack`` and of its ``family`` (the versions the worker tells a submission it fits
    better), their hidden tests and the reference. The same material gives the same bytes."""
    import gradekit
    from gradekit.authoring.gradescope import bundle_contents

    root = Path(gradekit.__file__).resolve().parents[1]
    files: dict[str, Path] = {}
    for each in (pack, *family):
        files |= {name.removeprefix("course/"): path
                  for name, path in bundle_contents(each, course_root, root).items()
                  if name.startswith("course/")}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in sorted(files.items()):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)),
                             path.read_bytes())
    return out.getvalue()


def pack_upload(path: Path) -> bytes:
    """An upload (folder or file) as tar bytes, links stored as links, never followed."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        archive.add(path, arcname=path.name, recursive=True)
    return out.getvalue()


def unpack_upload(data: bytes, folder: Path) -> Path:
    """Unpack :func:`pack_upload`'s bytes into ``folder``; the upload's path there. The
    ``tar`` filter refuses members that would land outside ``folder``."""
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        top = archive.getmembers()[0].name
        archive.extractall(folder, filter="tar")
    return folder / top


_courses: dict[str, Path] = {}
_lock = threading.Lock()


def worker_course(material: bytes) -> Path:
    """This worker's private copy of the course material, unpacked on first use."""
    digest = hashlib.sha256(material).hexdigest()
    with _lock:
        if digest not in _courses:
            course = Path(tempfile.mkdtemp(prefix="gradekit-course-"))  # mode 0700
            with zipfile.ZipFile(io.BytesIO(material)) as archive:
                archive.extractall(course)
            _courses[digest] = course
        return _courses[digest]


def grade_task(material: bytes, upload: bytes, sid: str, pack_name: str,
               options: GradingOptions, topic: str) -> str:
    """A Dask task: grade one upload on this worker, in a grading process of its own, and
    return its row as JSON text (with the executed notebooks, base64)."""
    import multiprocessing
    import shutil

    from distributed import get_worker

    from gradekit.batch import Entry, _row, _supervise

    get_worker().log_event(topic, {"sid": sid, "pid": os.getpid()})
    # a Dask worker is a daemonic process, which multiprocessing forbids children; the
    # grading process ends with the worker anyway (batch._end_with_parent)
    multiprocessing.current_process().daemon = False
    course = worker_course(material)
    work = Path(tempfile.mkdtemp(prefix="gradekit-task-"))  # mode 0700
    try:
        path = unpack_upload(upload, work / "upload")
        pack = AssignmentPack.load(course / "assignments" / pack_name)
        out = work / "out" if options.output_dir is not None else None
        here = replace(options, course_root=course, output_dir=out,
                       protected=(course, work))
        entry = Entry(sid, path, "")
        [ended] = _supervise([entry], 1, lambda e: (e.path, e.id, pack, here), None)
        result, timings = _row(ended, pack)
        files = {p.relative_to(out).as_posix(): base64.b64encode(p.read_bytes()).decode()
                 for p in sorted(out.rglob("*")) if p.is_file() and not p.is_symlink()
                 } if out is not None and out.is_dir() else {}
        return json.dumps({"result": result.to_dict(), "files": files,
                           "timings": asdict(timings) if timings is not None else None})
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- the client's side -------------------------------------------------------------------------

def supervise_on_cluster(address: str, entries: Sequence[Entry], pack: AssignmentPack,
                         options: GradingOptions, family: Sequence[AssignmentPack],
                         on_start: Callable[[Entry, int], None] | None) -> Iterator[_Ended]:
    """Grade each entry as a task on the cluster at ``address`` and say how each ended, in the
    order they end (:func:`gradekit.batch._supervise`'s contract). However this generator
    is left, no task of it goes on."""
    from gradekit.batch import _Ended

    if not entries:
        return
    if options.course_root is None:
        raise PackError("grading on a cluster needs the course repository; set "
                        "GRADEKIT_COURSE to the course's folder")
    with ExitStack() as stack:
        client = connect(address, stack)
        events: queue.Queue[tuple[str, Any]] = queue.Queue()
        topic = f"gradekit-started-{uuid.uuid4().hex}"
        client.subscribe_topic(topic, lambda event: events.put(("started", event[1])))
        # inside each task, not scattered: a task that depends on data goes only to the
        # workers holding it, and the data dies with them (each task in flight holds a copy
        # of about 200 KB; a worker unpacks it once)
        material = course_material(pack, options.course_root, family)
        # paths of this machine mean nothing on a worker, which puts its own in their place
        sent = replace(options, course_root=None, protected=())
        by_sid = {entry.id: entry for entry in entries}
        waiting = deque(entries)
        running: dict[str, Any] = {}

        def top_up() -> None:
            # a task goes out only when a worker thread is free for it: a worker's death
            # counts against every task the scheduler gave it, started or not
            free = max(1, sum(client.nthreads().values())) - len(running)
            for _ in range(min(free, len(waiting))):
                entry = waiting.popleft()
                future = client.submit(grade_task, material, pack_upload(entry.path), entry.id,
                                       pack.name, sent, topic,
                                       key=f"gradekit-{entry.id}-{topic}", pure=False)
                future.add_done_callback(lambda f, e=entry: events.put(("done", (e, f))))
                running[entry.id] = future

        try:
            top_up()
            while running:
                try:
                    kind, message = events.get(timeout=TOP_UP_SECONDS)
                except queue.Empty:
                    top_up()
                    continue
                if kind == "started":
                    if on_start is not None and message["sid"] in by_sid:
                        on_start(by_sid[message["sid"]], message["pid"])
                    continue
                entry, future = message
                ended = _Ended(entry, _outcome(entry, pack, future, options.output_dir), None)
                del running[entry.id]
                future.release()  # else a later death of its worker would grade it again
                top_up()
                yield ended
        finally:
            client.cancel(list(running.values()))
            client.unsubscribe_topic(topic)


def _outcome(entry: Entry, pack: AssignmentPack, future: Any,
             output_dir: Path | None) -> tuple[Any, Timings | None]:
    """The row a finished task sent (its notebooks written to ``output_dir``), or the error
    row of a task whose workers died or that failed."""
    from concurrent.futures import CancelledError

    from distributed import KilledWorker

    from gradekit.batch import died_row
    from gradekit.grading import failed_row
    from gradekit.harness.results import Finding, SubmissionResult

    error = future.exception() if future.status == "error" else None
    if isinstance(error, KilledWorker):
        tries = error.allowed_failures + 1
        why = (f"the Dask worker grading it died, {tries} times in all (the last was "
               f"{getattr(error.last_worker, 'address', error.last_worker)}), e.g. killed by "
               "the out-of-memory killer")
        return died_row(entry, pack, why, "on workers with more memory"), None
    if error is not None or future.status != "finished":
        what = f"{type(error).__name__}: {error}" if error is not None else future.status
        finding = Finding("grader-error", f"on the cluster: {what}")
        return failed_row(entry.id, pack, [finding]), None
    try:
        document = json.loads(future.result())
    except CancelledError as exc:  # finished, but the client lost the scheduler fetching it
        finding = Finding("grader-error", f"on the cluster: {type(exc).__name__}: {exc}")
        return failed_row(entry.id, pack, [finding]), None
    for rel, data in document["files"].items():
        target = output_dir / rel if output_dir is not None else None
        if target is not None and ".." not in Path(rel).parts and not Path(rel).is_absolute():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(base64.b64decode(data))
    timings = Timings(**document["timings"]) if document["timings"] else None
    return SubmissionResult.from_dict(document["result"]), timings
