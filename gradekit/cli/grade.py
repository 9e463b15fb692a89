"""``gradekit grade`` (course staff) and ``gradekit check`` (students).

Exit codes of ``grade``: 0 every submission got a full grade (whatever its score); 1 some row
needs a look (:func:`gradekit.grading.needs_attention`: nothing could be graded in the upload,
it is another pack's homework, the grader failed, or a data set is missing; the rows and a
warning say which), or the pack's material is broken or incomplete; 2 usage error (an unknown
pack, no single pack fitting the submissions, ``--format gradescope`` with several, an output
folder inside a submission); 130 interrupted (with ``--out``, a re-run resumes).
Exit codes of ``check``: 0 every visible test passed, 1 some visible test did not, 2 usage
(among them a path that is no submission at all).

``grade`` hands the class to :class:`gradekit.batch.Batch` and only parses options, shows
progress and writes the reports.

The two commands find their pack differently on purpose. ``grade`` runs a pack's tests on
the staff's machine, so it takes a registered pack (``-a NAME``), a folder staff wrote as a
path (``-a ./NAME``), or the registered pack the submissions' file names fit best
(:func:`gradekit.packs.detect_pack`), never a pack file found near the submissions.
``check`` is the student's tool and may use the release bundle their code sits in
(:func:`gradekit.checking.release_pack`); its code path is :mod:`gradekit.checking`, shared
with ``gradekit.check()`` in a notebook.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    import pluggy

    from gradekit.batch import Batch, Entry, Graded
    from gradekit.packs import AssignmentPack

FORMATS = ("table", "json", "csv", "gradescope", "html")
#: what ``--out`` writes into each submission's folder
PER_SUBMISSION = ("json", "gradescope", "table", "html")


@contextmanager
def _pack_errors() -> Iterator[None]:
    """A pack that cannot be told (unknown name, no clear fit) is a usage error, exit 2; a
    malformed one is a failure of the course's material, exit 1."""
    from gradekit.packs import PackChoiceError, PackError

    try:
        yield
    except PackChoiceError as exc:
        raise click.UsageError(str(exc)) from exc
    except PackError as exc:
        raise click.ClickException(str(exc)) from exc


def _grading_pack(name: str | None, paths: tuple[Path, ...], pm: pluggy.PluginManager
                  ) -> tuple[AssignmentPack, list[Path], list[AssignmentPack]]:
    """The pack ``grade`` uses, the submissions under ``paths`` and the registered packs.
    Instructor material comes only from the course root, installed plugins or a folder staff
    wrote as a path, never from around the submissions: a pack decides which code the grader
    runs (its tests and their conftest files), so a student must not be able to bring their
    own."""
    from gradekit.batch import find_submissions
    from gradekit.packs import detect_pack, find_packs, get_pack

    with _pack_errors():
        named = get_pack(name, pm) if name else None
        registered = list(find_packs(pm).values())
        submissions = find_submissions(paths, [named] if named else registered)
        if not submissions:
            raise click.UsageError(f"no submissions found in {', '.join(map(str, paths))}: "
                                   "pass submission folders, zips or notebooks, or folders of "
                                   "them")
        pack = named or detect_pack(submissions, registered)
    _refuse_inside_submissions(pack.path, f"the pack {pack.name!r}", paths)
    return pack, submissions, registered


def _refuse_inside_submissions(folder: Path | None, what: str, paths: tuple[Path, ...],
                               fix: str = "run gradekit from outside the submissions (or set "
                                          "GRADEKIT_COURSE), with packs from outside them"
                               ) -> None:
    """Instructor material inside a submission (a ``reference/`` the working directory's
    course search found in a student's folder, a pack path into one) is the student's; so is
    an output folder there, which a later run would grade."""
    if folder is None:
        return
    for path in paths:
        if folder.resolve().is_relative_to(path.resolve()):
            raise click.UsageError(f"{what} at {folder} lies inside {path}, which is graded "
                                   f"as student work; {fix}")


def _stderr():
    from rich.console import Console

    return Console(stderr=True)


def _grade_batch(batch: Batch, jobs: int, show_progress: bool, cluster: str | None = None,
                 on_row: Callable[[Graded], None] | None = None) -> dict[str, Graded]:
    """Every row of ``batch`` by submission id, with a progress bar on a terminal: done of
    total, rows needing attention so far, the time left, and what is being graded.
    ``on_row`` is given each row as it arrives, kept ones included."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from gradekit.grading import needs_attention

    graded: dict[str, Graded] = {}
    running: list[str] = []
    columns = (TextColumn("grading {task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[failed]} failed"), TimeRemainingColumn(),
               TextColumn("{task.fields[running]}"))
    with Progress(*columns, console=_stderr(), transient=True,
                  disable=not show_progress) as progress:
        task = progress.add_task(batch.pack.name, total=len(batch.pending), failed=0,
                                 running="")

        def started(entry: Entry, pid: int) -> None:
            if entry.id in running:  # a cluster's retry
                return
            running.append(entry.id)
            progress.update(task, running=", ".join(running))

        failed = 0
        for done in batch.grade(jobs, on_start=started, cluster=cluster):
            graded[done.entry.id] = done
            if on_row is not None:
                on_row(done)
            if done.resumed:
                continue
            running.remove(done.entry.id)
            failed += needs_attention(done.result)
            progress.update(task, advance=1, failed=failed, running=", ".join(running))
    return graded


def _folder_writer(pm: pluggy.PluginManager, batch: Batch, out: Path
                   ) -> Callable[[Graded], None]:
    """What writes each row's own folder under ``out`` (:data:`PER_SUBMISSION`) as the row
    arrives: the reports of a class are done when its last row is."""
    from gradekit.harness.reports import submission_folders, write_submission_reports

    ids = [entry.id for entry in batch.entries]
    folders = dict(zip(ids, submission_folders(ids), strict=True))

    def write(done: Graded) -> None:
        write_submission_reports(pm, PER_SUBMISSION, done.result, out / folders[done.entry.id])
    return write


@click.command()
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@click.option("--assignment", "-a",
              help="A registered pack's name, or a pack folder written as a path (./NAME). "
                   "Default: the pack whose module files the submissions hold.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table",
              show_default=True, help="What to print on standard output.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Write one folder per submission (JSON, Gradescope, text) and grades.csv.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              help="Submissions graded in parallel, each in its own process.")
@click.option("--cluster", metavar="ADDRESS",
              help="Grade on a Dask cluster: a scheduler's address, or local:N for N workers "
                   "on this machine (needs pip install 'gradekit[cluster]'; replaces -j).")
@click.option("--sandbox", type=click.Choice(["auto", "bwrap", "subprocess"]), default="auto",
              show_default=True, help="Isolation of student code (auto: bubblewrap if usable).")
@click.option("--notebooks/--no-notebooks", default=True, show_default=True,
              help="Execute the pack's notebooks (they train models; slow). Without them the "
                   "tests that need a notebook score 0 and say so.")
@click.option("--timings", is_flag=True, help="Print where the time went per submission.")
def grade(paths: tuple[Path, ...], assignment: str | None, fmt: str, out: Path | None,
          jobs: int, cluster: str | None, sandbox: str, notebooks: bool, timings: bool) -> None:
    """Grade one submission, or every submission in each folder of PATHS."""
    if cluster is not None and jobs != 1:
        raise click.UsageError("--cluster grades as many submissions at once as the cluster "
                               "has worker threads; leave out -j")
    if cluster is None:  # before the imports below, which its own imports then run beside
        from gradekit.fork_server import start

        start()
    import time

    from gradekit.batch import Batch
    from gradekit.cluster import ClusterError
    from gradekit.course import find_course_root
    from gradekit.grading import GradingOptions, needs_attention
    from gradekit.harness.reports import write_report
    from gradekit.plugin_manager import create_plugin_manager

    try:
        course_root = find_course_root()
    except FileNotFoundError as exc:  # GRADEKIT_COURSE points at no course
        raise click.UsageError(str(exc)) from exc
    # before the reference is imported from it: a working directory inside a submission
    # must not make the student's reference/ the course's
    _refuse_inside_submissions(course_root, "the course repository", paths)
    _refuse_inside_submissions(out, "the output folder", paths,
                               "write the reports outside the submissions")
    pm = create_plugin_manager(course_root)
    pack, submissions, registered = _grading_pack(assignment, paths, pm)
    if fmt == "gradescope" and len(submissions) > 1:
        raise click.UsageError(f"--format gradescope prints one submission's results.json, "
                               f"and there are {len(submissions)}; pass --out DIR to write "
                               "one per submission folder")
    options = GradingOptions(course_root=course_root, sandbox=sandbox, notebooks=notebooks,
                             output_dir=out.resolve() if out else None)
    with _pack_errors():
        batch = Batch(submissions, pack, options, packs=registered)
    if batch.kept:
        click.echo(f"{len(batch.kept)} of {len(batch.entries)} already graded (kept in {out}); "
                   f"grading {len(batch.pending)}", err=True)
    try:
        graded = _grade_batch(batch, jobs, show_progress=sys.stderr.isatty(), cluster=cluster,
                              on_row=_folder_writer(pm, batch, out) if out else None)
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from exc
    except KeyboardInterrupt:
        kept = (f"; the finished ones are kept in {out}: run the same command to grade the "
                "rest" if out else "; nothing was kept (pass --out DIR to resume next time)")
        click.echo(f"interrupted{kept}", err=True)
        sys.exit(130)
    results = [graded[entry.id].result for entry in batch.entries]

    clock = time.perf_counter()
    write_report(pm, fmt, results, sys.stdout)
    if out:
        out.mkdir(parents=True, exist_ok=True)
        write_report(pm, "csv", results, out / "grades.csv")
    report_seconds = time.perf_counter() - clock
    if timings:
        for entry in batch.entries:
            spent = graded[entry.id].timings
            if spent is not None:
                click.echo(f"{entry.id}: load {spent.load:.2f} s, notebooks "
                           f"{spent.notebooks:.2f} s, worker start {spent.start:.2f} s, "
                           f"tests {spent.tests:.2f} s", err=True)
        click.echo(f"reports: {report_seconds:.2f} s", err=True)
    missing = sorted({f.message for r in results for f in r.findings if f.kind == "data-missing"})
    for message in missing:
        click.echo(f"warning: {message}", err=True)
    attention = [r for r in results if needs_attention(r)]
    for result in attention:
        kinds = ", ".join(dict.fromkeys(f.kind for f in result.findings))
        click.echo(f"warning: {result.submission} needs a look ({kinds})", err=True)
    if attention:
        sys.exit(1)


@click.command()
@click.argument("path", required=False, default=".",
                type=click.Path(exists=True, path_type=Path))
@click.option("--assignment", "-a", help="Pack name, or a pack folder written as a path "
                                         "(found automatically in a student release).")
@click.option("--part", "-p", "parts", multiple=True, metavar="PART",
              help="Only show the tests of PART (repeat for several; default: every part).")
@click.option("--sandbox", type=click.Choice(["subprocess", "bwrap", "none"]),
              default="subprocess", show_default=True,
              help="'none' runs your code inside gradekit itself (fastest, least protected).")
@click.option("--notebooks", is_flag=True,
              help="Also run the assignment's notebooks, as the graders will (slow: they train).")
def check(path: Path, assignment: str | None, parts: tuple[str, ...], sandbox: str,
          notebooks: bool) -> None:
    """Run the visible tests on your code (PATH, default: here) and show what to fix.

    In a notebook cell, gradekit.check("PART") runs the same checks.
    """
    from gradekit.checking import CheckUsageError, all_passed, run_check, show

    with _pack_errors():
        try:
            result = run_check(path, assignment=assignment, parts=parts, sandbox=sandbox,
                               notebooks=notebooks)
        except CheckUsageError as exc:
            raise click.UsageError(str(exc)) from exc
    show(result)
    if not all_passed(result):
        sys.exit(1)
