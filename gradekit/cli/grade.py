"""``gradekit grade`` (course staff) and ``gradekit check`` (students).

Exit codes of ``grade``: 0 every submission got a result row (whatever its score), 1 some
submission could not be graded because the tests or the grader failed, or a data set the
tests need is missing (the rows say which), 2 usage error.
Exit codes of ``check``: 0 every visible test passed, 1 some visible test did not, 2 usage.

The two commands find their pack differently on purpose. ``grade`` runs a pack's tests on
the staff's machine, so it takes a registered pack (``-a NAME``), a folder staff wrote as a
path (``-a ./NAME``), or the registered pack the submissions' file names fit best
(:func:`gradekit.packs.detect_pack`), never a pack file found near the submissions.
``check`` is the student's tool and may use the release bundle their code sits in.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    import pluggy

    from gradekit.packs import AssignmentPack

FORMATS = ("table", "json", "csv", "gradescope", "html")


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


def _grading_pack(name: str | None, paths: tuple[Path, ...],
                  pm: pluggy.PluginManager) -> tuple[AssignmentPack, list[Path]]:
    """The pack ``grade`` uses and the submissions under ``paths``. Instructor material comes
    only from the course root, installed plugins or a folder staff wrote as a path, never
    from around the submissions: a pack decides which code the grader runs (its tests and
    their conftest files), so a student must not be able to bring their own."""
    from gradekit.packs import detect_pack, find_packs, get_pack

    with _pack_errors():
        named = get_pack(name, pm) if name else None
        candidates = [named] if named else list(find_packs(pm).values())
        submissions = expand_submissions(paths, candidates)
        if not submissions:
            raise click.UsageError(f"no submissions found in {', '.join(map(str, paths))}")
        pack = named or detect_pack(submissions, candidates)
    _refuse_inside_submissions(pack.path, f"the pack {pack.name!r}", paths)
    return pack, submissions


def _refuse_inside_submissions(folder: Path | None, what: str, paths: tuple[Path, ...]) -> None:
    """Instructor material inside a submission (a ``reference/`` the working directory's
    course search found in a student's folder, a pack path into one) is the student's."""
    if folder is None:
        return
    for path in paths:
        if folder.resolve().is_relative_to(path.resolve()):
            raise click.UsageError(f"{what} at {folder} lies inside {path}, which is graded "
                                   "as student work; run gradekit from outside the "
                                   "submissions (or set GRADEKIT_COURSE), with packs from "
                                   "outside them")


def _release_pack(name: str | None, near: Path) -> AssignmentPack:
    """The pack ``check`` uses: named, the student release bundle around ``near``, or the
    only one registered. Finding it next to the code is right here and only here: ``check``
    runs on the student's own machine, over their own files, for their own eyes."""
    from gradekit.packs import PACK_FILE, AssignmentPack, find_packs, get_pack

    with _pack_errors():
        if name:
            return get_pack(name)
        for folder in (near, *near.parents):
            if (folder / PACK_FILE).is_file():
                return AssignmentPack.load(folder)
        packs = find_packs()
    if len(packs) == 1:
        return next(iter(packs.values()))
    listed = ", ".join(sorted(packs)) or "none found"
    raise click.UsageError(f"cannot tell which assignment to check (packs: {listed}); "
                           "pass --assignment NAME")


def expand_submissions(paths: tuple[Path, ...], packs: Sequence[AssignmentPack]) -> list[Path]:
    """Each path is one submission, or a folder whose entries are submissions: a folder is
    one submission when it holds a module file of one of ``packs`` one or two levels down."""
    wanted = {Path(rel).name for pack in packs for rel in pack.modules.values()}
    found: list[Path] = []
    for path in paths:
        if path.is_dir() and not _looks_like_submission(path, wanted):
            found += sorted(p for p in path.iterdir()
                            if not p.name.startswith(".") and (p.is_dir() or p.suffix in
                                                               (".zip", ".ipynb")))
        else:
            found.append(path)
    return found


def _looks_like_submission(folder: Path, wanted: set[str]) -> bool:
    return any(p.name in wanted for depth in ("*", "*/*") for p in folder.glob(depth))


def _grade_all(submissions: list[Path], pack, options, jobs: int, show_progress: bool):
    from rich.progress import Progress

    from gradekit.grading import grade_submission

    outcomes: list = [None] * len(submissions)
    with Progress(transient=True, disable=not show_progress, console=_stderr()) as progress:
        task = progress.add_task(f"grading {pack.name}", total=len(submissions))
        if jobs <= 1:
            for i, path in enumerate(submissions):
                outcomes[i] = _safely(grade_submission, path, pack, options)
                progress.advance(task)
        else:
            from concurrent.futures import ProcessPoolExecutor, as_completed

            with ProcessPoolExecutor(max_workers=jobs, max_tasks_per_child=1) as pool:
                futures = {pool.submit(_safely, grade_submission, path, pack, options): i
                           for i, path in enumerate(submissions)}
                for future in as_completed(futures):
                    outcomes[futures[future]] = future.result()
                    progress.advance(task)
    return outcomes


def _safely(grade, path: Path, pack, options):
    """Grade one submission; a failure of the grader itself becomes an error row."""
    from gradekit.grading import failed_row

    try:
        return grade(path, pack, options)
    except Exception as exc:  # one broken submission must not stop the batch
        return failed_row(path.name, pack, "grader-error", f"{type(exc).__name__}: {exc}"), None


def _stderr():
    from rich.console import Console

    return Console(stderr=True)


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
@click.option("--sandbox", type=click.Choice(["auto", "bwrap", "subprocess"]), default="auto",
              show_default=True, help="Isolation of student code (auto: bubblewrap if usable).")
@click.option("--notebooks/--no-notebooks", default=True, show_default=True,
              help="Execute the pack's notebooks (they train models; slow). Without them the "
                   "tests that need a notebook score 0 and say so.")
@click.option("--timings", is_flag=True, help="Print where the time went per submission.")
def grade(paths: tuple[Path, ...], assignment: str | None, fmt: str, out: Path | None,
          jobs: int, sandbox: str, notebooks: bool, timings: bool) -> None:
    """Grade one submission, or every submission in each folder of PATHS."""
    import time

    from gradekit.course import find_course_root
    from gradekit.grading import GradingOptions
    from gradekit.harness.reports import write_per_submission, write_report
    from gradekit.plugin_manager import create_plugin_manager

    try:
        course_root = find_course_root()
    except FileNotFoundError as exc:  # GRADEKIT_COURSE points at no course
        raise click.UsageError(str(exc)) from exc
    # before the reference is imported from it: a working directory inside a submission
    # must not make the student's reference/ the course's
    _refuse_inside_submissions(course_root, "the course repository", paths)
    pm = create_plugin_manager(course_root)
    pack, submissions = _grading_pack(assignment, paths, pm)
    protected = (out.resolve(),) if out else ()
    options = GradingOptions(course_root=course_root, sandbox=sandbox,
                             protected=protected, notebooks=notebooks,
                             output_dir=out.resolve() if out else None)
    outcomes = _grade_all(submissions, pack, options, jobs, show_progress=sys.stderr.isatty())
    results = [result for result, _ in outcomes]

    clock = time.perf_counter()
    write_report(pm, fmt, results, sys.stdout)
    if out:
        out.mkdir(parents=True, exist_ok=True)
        for kind in ("json", "gradescope", "table", "html"):
            write_per_submission(pm, kind, results, out)
        write_report(pm, "csv", results, out / "grades.csv")
    report_seconds = time.perf_counter() - clock
    if timings:
        for result, spent in outcomes:
            if spent is not None:
                click.echo(f"{result.submission}: load {spent.load:.2f} s, notebooks "
                           f"{spent.notebooks:.2f} s, worker start {spent.start:.2f} s, "
                           f"tests {spent.tests:.2f} s", err=True)
        click.echo(f"reports: {report_seconds:.2f} s", err=True)
    missing = sorted({f.message for r in results for f in r.findings if f.kind == "data-missing"})
    for message in missing:
        click.echo(f"warning: {message}", err=True)
    if missing or any(f.kind == "grader-error" for r in results for f in r.findings):
        sys.exit(1)


@click.command()
@click.argument("path", required=False, default=".",
                type=click.Path(exists=True, path_type=Path))
@click.option("--assignment", "-a", help="Pack name, or a pack folder written as a path "
                                         "(found automatically in a student release).")
@click.option("--sandbox", type=click.Choice(["subprocess", "bwrap", "none"]),
              default="subprocess", show_default=True,
              help="'none' runs your code inside gradekit itself (fastest, least protected).")
@click.option("--notebooks", is_flag=True,
              help="Also run the assignment's notebooks, as the graders will (slow: they train).")
def check(path: Path, assignment: str | None, sandbox: str, notebooks: bool) -> None:
    """Run the visible tests on your code (PATH, default: here) and show what to fix."""
    from rich.console import Console

    from gradekit.grading import VISIBLE_ONLY, GradingOptions, grade_submission
    from gradekit.harness.reports.table import render

    pack = _release_pack(assignment, path.resolve())
    options = GradingOptions(sandbox=sandbox, visibility=VISIBLE_ONLY, notebooks=notebooks)
    result, _ = grade_submission(path, pack, options)
    console = Console()
    console.print(render([result]))
    console.print(f"visible points: {result.score:g} / {result.max_score:g} "
                  "(the graders also run hidden tests)")
    if any(t.status != "passed" for t in result.tests) or not result.tests:
        sys.exit(1)
