"""Grade a class: every submission in a process of its own, one row each, a journal to resume.

:class:`Batch` takes a class's submissions, a pack and the grading options, gives every
submission an id of its own (:func:`~gradekit.submission.loader.submission_ids`: also the name
of its output folder), and :meth:`Batch.grade` grades each in a grading process of its own,
``jobs`` at a time, yielding each row as it finishes. No submission can cost another its row:
a grading process that dies (the out-of-memory killer, a SIGKILL) costs its own submission an
error row, and the batch goes on.

With an output folder the batch keeps a journal there (:class:`Journal`, a folder student
code never sees): each finished row is written as soon as it arrives, atomically, under the
content hash of the upload and of everything it was graded with (pack, hidden tests,
reference, gradekit, options). Run again, a batch grades only what the journal lacks for
those hashes, so a run stopped by Ctrl-C, ``kill -9`` or a reboot resumes where it was, and a
changed upload or pack is graded again. Rows that say the grader failed or data was missing
are not kept: the next run grades them again.

Grading processes are forked by the fork server (:mod:`gradekit.fork_server`), which imports
the grader once: each process starts warm, yet none inherits the caller's state, and each
takes the caller's environment and working directory as they are when it starts. Under
bubblewrap they share a private folder (:func:`_shared_folder`): the data sets are loaded
into it once, and the course code is compiled into it once.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import json
import multiprocessing
import os
import random
import shutil
import signal
import stat
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gradekit import fork_server
from gradekit.grading import (
    GradingOptions,
    Timings,
    failed_row,
    grade_submission,
    test_folders,
    wants_hidden_tests,
)
from gradekit.harness.results import Finding, SubmissionResult
from gradekit.packs import AssignmentPack, PackError, best_fit, pack_fit, submission_files
from gradekit.submission.limits import is_junk
from gradekit.submission.loader import submission_ids

if TYPE_CHECKING:
    from gradekit.sandbox.launcher import HostFacts

#: the journal's folder inside the output folder (ids never start with a dot)
JOURNAL = ".gradekit-journal"
JOURNAL_FORMAT = 1
#: rows with these findings are never kept: the next run grades them again
RETRIED = frozenset({"grader-error", "data-missing"})
#: entries of a class folder that are submissions besides folders: what students upload,
#: archives gradekit cannot open included, so that their rows say so
UPLOADS = (".zip", ".ipynb", ".tar", ".tgz", ".gz", ".bz2", ".xz", ".rar", ".7z")
#: what the grading processes of a batch share, in folders of :func:`_shared_folder`
DATA, BYTECODE = "data", "bytecode"
#: seconds a stopped grading process gets to clean up (its sandbox, its scratch folder)
STOP_SECONDS = 10.0


@dataclass(frozen=True)
class Entry:
    """One submission of a batch: its id, where it is, and the hash of its content."""

    id: str
    path: Path
    digest: str


@dataclass(frozen=True)
class Graded:
    """A finished row; ``resumed`` when it came from the journal of an earlier run."""

    entry: Entry
    result: SubmissionResult
    timings: Timings | None = None
    resumed: bool = False


def find_submissions(paths: Iterable[Path], packs: Sequence[AssignmentPack]) -> list[Path]:
    """Each path is one submission, or a folder whose entries are submissions: a folder is
    one submission when it holds a module file of one of ``packs`` (or the notebook one is
    written in) one or two levels down.
    A path named twice counts once."""
    wanted = {Path(rel).name for pack in packs
              for rel in (*pack.modules.values(), *pack.notebook_modules.values())}
    found: list[Path] = []
    for path in paths:
        if path.is_dir() and not _looks_like_submission(path, wanted):
            found += sorted(p for p in path.iterdir() if not p.name.startswith(".") and (
                p.is_dir() or p.name.lower().endswith(UPLOADS)))
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def _looks_like_submission(folder: Path, wanted: set[str]) -> bool:
    return any(p.name in wanted for depth in ("*", "*/*") for p in folder.glob(depth))


class Batch:
    """The submissions of a class, graded with one pack (see the module docstring).

    ``packs`` are the other packs staff could have meant: a submission that fits one of them
    better than ``pack`` gets an ``other-pack`` finding first in its row. Raises
    :class:`PackError` before anything is graded when the pack's hidden tests are missing.
    """

    def __init__(self, submissions: Sequence[Path], pack: AssignmentPack,
                 options: GradingOptions, *, packs: Iterable[AssignmentPack] = ()) -> None:
        if wants_hidden_tests(options) and options.course_root is None:
            raise PackError(f"no course repository was found, so the hidden tests of pack "
                            f"{pack.name!r} cannot be either; set GRADEKIT_COURSE to the "
                            "course's folder (without them grades would be visible-only)")
        test_folders(pack, options)
        paths = list(dict.fromkeys(Path(p).resolve() for p in submissions))
        self.pack = pack
        # a batch's folders are never visible to student code, whichever submission runs
        self.options = replace(options, protected=tuple(dict.fromkeys(
            (*options.protected, *(p.parent for p in paths)))))
        self.entries = [Entry(sid, path, content_digest(path))
                        for sid, path in zip(submission_ids(paths), paths, strict=True)]
        others = [p for p in packs if p.name != pack.name]
        self.others = others
        self._other_pack = {e.id: other_pack_finding(e.path, pack, others) for e in self.entries}
        self.key = grading_digest(pack, self.options)
        self.journal = (Journal(options.output_dir / JOURNAL)
                        if options.output_dir is not None else None)
        self._kept = {}
        if self.journal is not None:
            for entry in self.entries:
                if (kept := self.journal.lookup(entry, self.key)) is not None:
                    self._kept[entry.id] = kept

    @property
    def kept(self) -> list[Entry]:
        """Submissions whose rows an earlier run left in the journal, still valid."""
        return [e for e in self.entries if e.id in self._kept]

    @property
    def pending(self) -> list[Entry]:
        """Submissions this run grades."""
        return [e for e in self.entries if e.id not in self._kept]

    def grade(self, jobs: int = 1, *, on_start: Callable[[Entry, int], None] | None = None,
              cluster: str | None = None) -> Iterator[Graded]:
        """Every submission's row: the kept ones first, then each pending one as it finishes.

        ``jobs`` grading processes run at once; ``on_start(entry, pid)`` is told each one's
        process id as it starts. With ``cluster`` (a Dask scheduler's address, or
        ``local:N``) the submissions are graded on its workers instead
        (:mod:`gradekit.cluster`; ``pid`` is then the worker's, told again on a retry). A row
        is in the journal before it is yielded.
        """
        for entry in self.kept:
            yield Graded(entry, self._kept[entry.id], resumed=True)
        if cluster is None:
            ended_all = _supervise(self.pending, jobs, self._job, on_start)
        else:
            from gradekit.cluster import supervise_on_cluster

            family = [p for p in self.others if p.family == self.pack.family]
            ended_all = supervise_on_cluster(cluster, self.pending, self.pack, self.options,
                                             family, on_start)
        for ended in ended_all:
            entry = ended.entry
            result, timings = _row(ended, self.pack)
            if (other := self._other_pack[entry.id]) is not None:
                result.findings.insert(0, other)
            if self.journal is not None and not any(f.kind in RETRIED for f in result.findings):
                self.journal.record(entry, self.key, result)
            yield Graded(entry, result, timings)

    def _job(self, entry: Entry) -> tuple[Any, ...]:
        return entry.path, entry.id, self.pack, self.options


def grade_batch(submissions: Sequence[Path], pack: AssignmentPack, options: GradingOptions,
                *, jobs: int = 1, packs: Iterable[AssignmentPack] = (),
                cluster: str | None = None) -> Iterator[Graded]:
    """Grade a class and yield each submission's row as it finishes (see :class:`Batch`)."""
    return Batch(submissions, pack, options, packs=packs).grade(jobs, cluster=cluster)


def grade_each(work: Sequence[tuple[Entry, GradingOptions]], pack: AssignmentPack,
               jobs: int = 1) -> Iterator[Graded]:
    """Grade each entry with its own options, in processes of its own as a batch does, and
    yield its row as it finishes; no journal. ``gradekit author validate`` grades mutants so,
    each told which tests to run first."""
    options = {entry.id: chosen for entry, chosen in work}
    for ended in _supervise([entry for entry, _ in work], jobs,
                            lambda e: (e.path, e.id, pack, options[e.id]), None):
        result, timings = _row(ended, pack)
        yield Graded(ended.entry, result, timings)


# -- telling what a submission is ------------------------------------------------------------

def other_pack_finding(path: Path, pack: AssignmentPack,
                       others: Sequence[AssignmentPack]) -> Finding | None:
    """A finding when the submission's file names fit another pack better than ``pack``
    (:func:`gradekit.packs.best_fit`), unless it holds every module file ``pack`` needs."""
    files = submission_files(path)
    wanted = sorted(set(pack.modules.values()))
    found, _ = pack_fit(pack, files)
    best = best_fit(files, [pack, *others])
    if best is None or best.name == pack.name or found == len(wanted):
        return None
    theirs, _ = pack_fit(best, files)
    return Finding("other-pack", (
        f"this looks like homework for {best.name} ({best.title}): it holds {theirs} of the "
        f"{len(set(best.modules.values()))} module files of {best.name} but only {found} of "
        f"the {len(wanted)} that {pack.name} needs ({', '.join(wanted)}). Check that the "
        f"student submitted the right assignment, or grade it with --assignment {best.name}."))


def content_digest(path: Path) -> str:
    """SHA-256 of what is at ``path``: a file's bytes, or a folder's entries (each one's
    path, kind and bytes, a link's target), read without following a link or opening
    anything but a regular file; clutter (``__pycache__``, ``.DS_Store``) does not count."""
    digest = hashlib.sha256()

    def feed(kind: bytes, rel: str, data: bytes = b"") -> None:
        name = os.fsencode(rel)
        digest.update(kind + len(name).to_bytes(8, "big") + name + len(data).to_bytes(8, "big"))
        digest.update(data)

    def visit(at: Path, rel: str) -> None:
        try:
            info = os.lstat(at)
        except FileNotFoundError:
            return feed(b"-", rel)
        if stat.S_ISDIR(info.st_mode):
            feed(b"d", rel)
            for name in sorted(os.listdir(at)):
                if not is_junk((name,)):
                    visit(at / name, f"{rel}/{name}")
        elif stat.S_ISREG(info.st_mode):
            feed(b"f", rel, _file_digest(at))
        elif stat.S_ISLNK(info.st_mode):
            feed(b"l", rel, os.fsencode(os.readlink(at)))
        else:
            feed(b"o", rel, stat.S_IFMT(info.st_mode).to_bytes(4, "big"))
        return None

    visit(Path(path), "")
    return digest.hexdigest()


def _file_digest(path: Path) -> bytes:
    """SHA-256 of a regular file, opened without following a link or blocking on a FIFO."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as stream:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            return b"not a regular file"
        return hashlib.file_digest(stream, "sha256").digest()


def grading_digest(pack: AssignmentPack, options: GradingOptions) -> str:
    """What a row was graded with: the pack, its hidden tests, the course's reference,
    gradekit itself and the options that change a grade."""
    import gradekit

    course = options.course_root
    material = {
        "pack": [content_digest(folder) for _, folder in pack.chain],
        "hidden": [content_digest(course / "hidden_tests" / name)
                   for name, _ in pack.chain] if course else "",
        "reference": content_digest(course / "reference") if course else "",
        "gradekit": content_digest(Path(gradekit.__file__).parent),
        "options": [sorted(options.visibility), options.notebooks, options.sandbox,
                    options.stop_at_first_loss, options.one_loss_per_part,
                    sorted(options.skip_tests)],
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


# -- the journal -----------------------------------------------------------------------------

class Journal:
    """Finished rows, one file per submission id, each replaced atomically and synced to
    disk, so that a run stopped at any moment leaves whole rows or none."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _file(self, entry: Entry) -> Path:
        return self.folder / f"{entry.id}.json"

    def lookup(self, entry: Entry, key: str) -> SubmissionResult | None:
        """The row kept for ``entry`` if it was graded from the same upload with the same
        material (``key``); ``None`` otherwise, or when the file is unreadable."""
        try:
            document = json.loads(self._file(entry).read_text(encoding="utf-8"))
            if (document["format"], document["source"], document["submission"],
                    document["grading"]) != (JOURNAL_FORMAT, str(entry.path), entry.digest, key):
                return None
            return SubmissionResult.from_dict(document["result"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def record(self, entry: Entry, key: str, result: SubmissionResult) -> None:
        """Keep ``result`` for ``entry``: written to a temporary file, synced, renamed."""
        self.folder.mkdir(parents=True, exist_ok=True)
        document = {"format": JOURNAL_FORMAT, "source": str(entry.path),
                    "submission": entry.digest, "grading": key, "result": result.to_dict()}
        temporary = self.folder / f".{entry.id}.{os.getpid()}.tmp"
        with temporary.open("w", encoding="utf-8") as out:
            out.write(json.dumps(document))  # dumps: json.dump never takes the C encoder
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self._file(entry))
        folder = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


# -- grading processes -----------------------------------------------------------------------

Outcome = tuple[SubmissionResult, Timings | None]


@dataclass
class _Running:
    """A grading process, and what it sent back (one message, or nothing if it died)."""

    entry: Entry
    process: multiprocessing.process.BaseProcess
    results: Connection | None
    cpu: Any  # a shared int: the CPU the process keeps to, -1 until it has chosen
    outcome: Outcome | None = None

    def receive(self) -> None:
        """Take the process's message; the pipe is done with after one, or at its end."""
        assert self.results is not None
        try:
            if self.results.poll():
                self.outcome = self.results.recv()
        except (EOFError, OSError, ValueError, TypeError, AttributeError, ImportError):
            pass  # it died while sending, or before
        self.results.close()
        self.results = None


@dataclass(frozen=True)
class _Ended:
    entry: Entry
    outcome: Outcome | None  # None: the process ended without sending a result
    exitcode: int | None


def _supervise(entries: Sequence[Entry], jobs: int, job: Callable[[Entry], tuple[Any, ...]],
               on_start: Callable[[Entry, int], None] | None) -> Iterator[_Ended]:
    """Grade each entry in a process of its own, ``jobs`` at a time, and say how each ended,
    in the order they end. However this generator is left (Ctrl-C, an exception, the caller
    stopping early), no grading process outlives it."""
    if not entries:
        return
    from gradekit.sandbox.launcher import host_facts

    context = fork_server.start()
    waiting: deque[Entry] = deque(entries)
    running: dict[int, _Running] = {}  # by the process's sentinel
    facts = host_facts()
    shared = _shared_folder(job(entries[0])[-1]) if len(entries) > 1 else None
    ended: list[_Running] = []  # sent their row or died, not yet reported

    def start_next() -> None:
        entry = waiting.popleft()
        *work, options = job(entry)
        if shared is not None:
            options = replace(options, shared_data=shared / DATA,
                              protected=(*options.protected, shared))
        results, sender = context.Pipe(duplex=False)
        cpu = context.RawValue("i", -1)
        bytecode = shared / BYTECODE if shared is not None else None
        process = context.Process(target=_grade_one, name=f"gradekit {entry.id}",
                                  args=(sender, dict(os.environ), facts, _cpus_taken(running),
                                        cpu, bytecode, *work, options))
        process.start()
        sender.close()
        running[process.sentinel] = _Running(entry, process, results, cpu)
        if on_start is not None:
            on_start(entry, process.pid)

    try:
        while waiting and len(running) < jobs:
            start_next()
        while running:
            pipes = [r.results for r in running.values() if r.results is not None]
            ready = set(wait([*running, *pipes]))
            for sentinel, run in list(running.items()):
                if run.results is not None and (run.results in ready or sentinel in ready):
                    run.receive()
                if run.outcome is None and sentinel not in ready:
                    continue
                del running[sentinel]
                ended.append(run)
            while waiting and len(running) < jobs:  # before the caller files these rows
                start_next()
            while ended:
                run = ended.pop(0)
                run.process.join(STOP_SECONDS)  # it sent its row, or died: it only has to exit
                _stop([run.process])
                yield _Ended(run.entry, run.outcome, run.process.exitcode)
    finally:
        _stop([run.process for run in (*running.values(), *ended)])
        if shared is not None:
            shutil.rmtree(shared, ignore_errors=True)


def _cpus_taken(running: dict[int, _Running]) -> frozenset[int]:
    """The CPUs the running grading processes keep to, once each has said (within
    milliseconds of starting; one that has died or is slow to say is left out)."""
    deadline = time.monotonic() + 1.0
    while any(r.cpu.value < 0 and r.process.is_alive() for r in running.values()):
        if time.monotonic() > deadline:
            break
        time.sleep(0.001)
    return frozenset(r.cpu.value for r in running.values() if r.cpu.value >= 0)


def _keep_to_a_cpu(taken: frozenset[int], chosen: Any) -> None:
    """Keep this process, and the processes it starts, to one CPU, with NumPy's BLAS on
    one thread (more would only take turns on that CPU), and put the CPU in ``chosen``.

    A grading process and its sandboxed worker (or notebook kernel) take turns, one waiting
    on the other's answer over a pipe, a few thousand times per submission. On one CPU a
    turn costs a context switch; across two it wakes the other CPU, which on a virtual
    machine costs about ten times as much. The CPU is the one Linux forked the process onto
    (the least busy one then, so two batches side by side spread out) unless another
    process of this batch keeps to it (``taken``); then it is one of the others.
    """
    if not sys.platform.startswith("linux"):
        return
    from threadpoolctl import threadpool_limits

    allowed = os.sched_getaffinity(0)
    free = sorted(allowed - taken) or sorted(allowed)
    here = _libc().sched_getcpu()
    cpu = here if here in free else random.choice(free)
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError:  # a cgroup took the CPU away meanwhile: run anywhere
        return
    chosen.value = cpu
    threadpool_limits(limits=1)


def _shared_folder(options: GradingOptions) -> Path | None:
    """A private folder the grading processes of a batch share, where no student code can
    reach it: the data sets they load once (:data:`DATA`, :mod:`gradekit.data.shared`) and
    the course code they compile once (:data:`BYTECODE`). Only under bubblewrap, whose
    sandbox mounts nothing of the grader's temporary folder: a plain subprocess may run as
    the grader's own user, who could rewrite the arrays or plant compiled code that the
    next grading process would run; so there each process loads and compiles its own."""
    from gradekit.sandbox.launcher import bwrap_works

    if options.sandbox not in ("auto", "bwrap") or not bwrap_works():
        return None
    folder = Path(tempfile.mkdtemp(prefix="gradekit-batch-"))
    for each in (DATA, BYTECODE):
        (folder / each).mkdir(mode=0o700)
    return folder


def _stop(processes: Sequence[multiprocessing.process.BaseProcess]) -> None:
    """Let processes end, asking those still running to stop (they clean up their sandbox
    and scratch folder on SIGTERM), and kill whatever is left after :data:`STOP_SECONDS`."""
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for process in processes:
        process.join(max(deadline - time.monotonic(), 0))
        if process.is_alive():
            process.kill()
            process.join()


def _row(ended: _Ended, pack: AssignmentPack) -> Outcome:
    """What a grading process sent, or the row saying it died without sending it."""
    return ended.outcome or (_died(ended.entry, pack, ended.exitcode), None)


def _died(entry: Entry, pack: AssignmentPack, exitcode: int | None) -> SubmissionResult:
    """The row of a submission whose grading process ended without a result."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "unknown"
        why = f"killed by signal {-exitcode} ({name})"
        if -exitcode == signal.SIGKILL:
            why += ", which the out-of-memory killer sends when the machine runs out of memory"
    else:
        why = f"it exited with status {exitcode} before sending a result"
    return died_row(entry, pack, why, "with fewer --jobs")


def died_row(entry: Entry, pack: AssignmentPack, why: str, fewer: str) -> SubmissionResult:
    """The error row of a submission whose grading died for ``why``; ``fewer`` is what to
    grade it again with if it keeps happening."""
    return failed_row(entry.id, pack, [Finding("grader-error", (
        f"grading process died: {why}. Nothing of this submission was graded: grade it again "
        f"({fewer} if it keeps happening)."))])


def _grade_one(results: Connection, environment: dict[str, str], facts: HostFacts,
               taken: frozenset[int], cpu: Any, bytecode: Path | None, path: Path, sid: str,
               pack: AssignmentPack, options: GradingOptions) -> None:
    """A grading process: grade one submission and send its row. It runs in the caller's
    environment of when it started (the fork server's is older), takes the caller's
    :class:`~gradekit.sandbox.launcher.HostFacts` instead of asking again, keeps to a CPU
    none of ``taken`` (:func:`_keep_to_a_cpu`), and stops cleanly on SIGINT or SIGTERM,
    which it also gets when the batch's process is gone.

    With ``bytecode`` (:func:`_shared_folder`) the course code it imports, the reference
    and the hidden tests as pytest rewrites them, is compiled there by the first grading
    process and read back by the others (about 0.09 s a submission for fc_nets), even
    where ``PYTHONDONTWRITEBYTECODE`` is set: the folder goes when the batch ends. No
    student code runs in this process, so none of it is compiled there."""
    from gradekit.sandbox.launcher import adopt_host_facts

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupted)
    _end_with_parent()
    _keep_to_a_cpu(taken, cpu)
    os.environ.clear()
    os.environ.update(environment)
    adopt_host_facts(facts)
    if bytecode is not None:
        sys.pycache_prefix = str(bytecode)
        sys.dont_write_bytecode = False
    try:
        outcome: Outcome = grade_submission(path, pack, options, sid)
    except KeyboardInterrupt:
        return  # the batch is stopping; this submission has no row yet
    except Exception as exc:  # a failure of the grader costs this row only
        outcome = failed_row(sid, pack, [Finding("grader-error",
                                                 f"{type(exc).__name__}: {exc}")]), None
    results.send(outcome)


def _interrupted(signum: int, frame: object) -> None:
    """Stop grading, once: a second signal must not cut short the clean-up of the first."""
    for each in (signal.SIGINT, signal.SIGTERM):
        signal.signal(each, signal.SIG_IGN)
    raise KeyboardInterrupt


_PR_SET_PDEATHSIG = 1


@functools.cache
def _libc() -> ctypes.CDLL:
    """The C library, for the Linux calls Python's os module lacks."""
    return ctypes.CDLL(None, use_errno=True)


def _end_with_parent() -> None:
    """Have Linux send SIGTERM to this process when the fork server ends, as it does once
    the batch's process is gone, even killed with SIGKILL: no grading goes on unseen."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    if _libc().prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0 and os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)  # it ended before the request took effect
