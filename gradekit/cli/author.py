"""``gradekit author``: instructor commands (starter code, goldens, student release)."""

from __future__ import annotations

from pathlib import Path

import click


def _pack_and_root(name: str):
    from gradekit.course import find_course_root
    from gradekit.packs import get_pack

    root = find_course_root()
    if root is None:
        raise click.ClickException(
            "no course repository found (a folder with reference/ and assignments/); run "
            "this inside it or set GRADEKIT_COURSE")
    return get_pack(name), root


@click.group()
def author() -> None:
    """Instructor tools: build starter code, record goldens, release to students."""


@author.command()
@click.argument("pack")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True,
              help="Folder to write the starter package into.")
def starter(pack: str, out: Path) -> None:
    """Generate the starter package and notebooks of PACK (solutions stripped)."""
    from gradekit.authoring.release import build_starter

    assignment, root = _pack_and_root(pack)
    folder = build_starter(assignment, root, out)
    click.echo(f"starter package written to {folder}")


@author.command()
@click.argument("pack")
def goldens(pack: str) -> None:
    """Record the expected values of PACK's visible checks from the reference."""
    from gradekit.components import components
    from gradekit.goldens import load_cases

    assignment, _ = _pack_and_root(pack)
    cases = load_cases(assignment.golden_cases)
    count = cases.record(components("ref", api=assignment.api), assignment.goldens)
    click.echo(f"recorded {count} golden cases to {assignment.goldens}")


@author.command()
@click.argument("pack")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True,
              help="New folder for the student bundle.")
@click.option("--install", "install", default=None, metavar="SPEC",
              help="What students give 'pip install' to get gradekit (a URL, a wheel's path); "
                   "the README says so. Default: the source archive gradekit-<version>.tar.gz.")
def release(pack: str, out: Path, install: str | None) -> None:
    """Write the student bundle of PACK: starter code, notebooks, visible tests, goldens and
    a README saying what to implement, how to check it and how it is graded."""
    from gradekit.authoring.release import build_release

    assignment, root = _pack_and_root(pack)
    folder = build_release(assignment, root, out, install=install)
    click.echo(f"student release of {assignment.name} written to {folder}")


@author.command()
@click.argument("pack")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The zip to write (upload it as the assignment's autograder).")
def gradescope(pack: str, out: Path) -> None:
    """Write PACK's Gradescope autograder: setup.sh, run_autograder, gradekit and the course
    material, which student code graded in the sandbox never reads."""
    from gradekit.authoring.gradescope import build_bundle

    assignment, root = _pack_and_root(pack)
    written = build_bundle(assignment, root, out)
    click.echo(f"Gradescope autograder of {assignment.name} written to {written} "
               f"({written.stat().st_size >> 10} KB)")


@author.command()
@click.argument("name")
@click.option("--extends", "base", default=None, metavar="BASE",
              help="Make NAME a version of the pack BASE: only what differs is written.")
def new(name: str, base: str | None) -> None:
    """Scaffold the pack NAME (toml, visible tests and goldens, hidden tests, notebook
    folder), or with --extends a version of BASE."""
    from gradekit.authoring.scaffold import scaffold
    from gradekit.course import find_course_root
    from gradekit.packs import PackError

    root = find_course_root()
    if root is None:
        raise click.ClickException(
            "no course repository found (a folder with reference/ and assignments/); run "
            "this inside it or set GRADEKIT_COURSE")
    try:
        written = scaffold(root, name, base)
    except PackError as exc:
        raise click.ClickException(str(exc)) from exc
    for path in written:
        click.echo(f"wrote {path.relative_to(root)}")
    if base is None:
        click.echo(f"next: edit assignments/{name}/assignment.toml, then "
                   f"'gradekit author goldens {name}'")


@author.command()
@click.argument("pack")
@click.option("--mutants", "count", type=click.IntRange(min=0), default=None,
              help="Grade at most N generated mutants (a fixed sample spread over the "
                   "components); all of them when not given. Named mutants always run.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              help="Mutants graded at once, each in a process and sandbox of its own.")
@click.option("--report", "report", type=click.Path(path_type=Path), default=None,
              help="Also write the results as FILE.json and FILE.html.")
@click.option("--sandbox", type=click.Choice(["auto", "bwrap", "subprocess"]), default="auto",
              show_default=True, help="How each graded copy is confined, as for 'grade'.")
@click.option("--notebooks", is_flag=True,
              help="Run the solution notebooks too, so the reference's accuracy tests are "
                   "checked (slow: they train).")
@click.option("--component", "components", multiple=True, metavar="NAME",
              help="Only mutants of this component (layers.relu_backward); repeat for more.")
@click.option("--own-named", is_flag=True,
              help="Only the named mutants of PACK's own mutants.toml, not its bases'.")
def validate(pack: str, count: int | None, jobs: int, report: Path | None, sandbox: str,
             notebooks: bool, components: tuple[str, ...], own_named: bool) -> None:
    """Prove PACK's tests strong: the reference gets every point, the starter none, and
    mutants of the reference (generated bugs and the pack's named real ones) lose points.

    Exits 1 when the reference loses a point, the starter earns one, a named mutant costs
    other parts than its entry says, or the mutation score is below [validate] min_score.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from gradekit.authoring.validate.report import show, write_report
    from gradekit.authoring.validate.run import validate_pack

    assignment, root = _pack_and_root(pack)
    console = Console(stderr=True)
    with Progress(TextColumn("grading mutants"), BarColumn(), MofNCompleteColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("mutants", total=None)

        def graded(verdict: object, total: int) -> None:
            progress.update(task, total=total, advance=1)

        found = validate_pack(assignment, root, mutants=count, jobs=jobs, sandbox=sandbox,
                              notebooks=notebooks, components=components,
                              inherited=not own_named, on_verdict=graded)
    show(found, Console())
    if report is not None:
        for path in write_report(found, report):
            click.echo(f"wrote {path}")
    if found.failures:
        raise SystemExit(1)
