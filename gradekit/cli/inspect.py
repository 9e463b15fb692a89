"""``gradekit inspect PATH``: how gradekit reads a submission, before anything is graded.

Students run it on the zip they are about to upload; instructors on a puzzling submission.
It shows the package found, the module map handed to the sandbox, and every finding.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from gradekit.submission import Submission


@click.command("inspect")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--pack", "pack_name", default=None,
              help="Assignment pack whose module map to expect (default: the CS231n map).")
@click.option("--package-name", default=None,
              help="The course's package name (cs231n, cs682, ...), for loose files.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the prepared copy here (default: a temporary folder).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def inspect_submission(
    path: Path, pack_name: str | None, package_name: str | None, workdir: Path | None,
    as_json: bool,
) -> None:
    """Show the package, module map and findings of the submission at PATH."""
    from gradekit.submission import CS231N_MODULES, SubmissionError, load_submission

    expected, from_notebooks = CS231N_MODULES, {}
    if pack_name is not None:
        from gradekit.packs import PackError, get_pack

        try:
            pack = get_pack(pack_name)
        except PackError as exc:
            raise click.ClickException(str(exc)) from exc
        expected, package_name = pack.modules, package_name or pack.package
        from_notebooks = pack.notebook_modules
    with tempfile.TemporaryDirectory(prefix="gradekit-inspect-") as scratch:
        try:
            submission = load_submission(
                path, workdir or scratch, expected=expected, package_name=package_name,
                from_notebooks=from_notebooks,
            )
        except SubmissionError as exc:
            raise click.ClickException(str(exc)) from exc
        if as_json:
            click.echo(_as_json(submission))
        else:
            _show(submission, expected, kept=workdir is not None)


def _as_json(submission: Submission) -> str:
    import dataclasses
    import json

    from gradekit.harness.inert import inert_data

    return json.dumps(inert_data({
        "id": submission.id,
        "source": str(submission.source),
        "package": submission.package,
        "modules": submission.modules,
        "findings": [dataclasses.asdict(f) for f in submission.findings],
    }), indent=2)


def _show(submission: Submission, expected: Mapping[str, str], *, kept: bool) -> None:
    from rich.console import Console
    from rich.markup import escape as markup_escape
    from rich.table import Table

    from gradekit.harness.inert import inert

    def escape(text: str) -> str:  # names and messages come from the upload: plain text
        return markup_escape(inert(text))

    console = Console()
    package = escape(submission.package) if submission.package else "[red]none found[/red]"
    console.print(f"[bold]{escape(submission.id)}[/bold]  package: [bold]{package}[/bold]")
    if kept:
        console.print(f"prepared copy: {escape(str(submission.root))}")

    modules = Table(title="modules")
    modules.add_column("component", style="bold")
    modules.add_column("module")
    for prefix in expected:
        found = submission.modules.get(prefix)
        modules.add_row(prefix, escape(found) if found else "[red]missing[/red]")
    console.print(modules)

    if not submission.findings:
        console.print("[green]no findings[/green]")
        return
    findings = Table(title="findings")
    for column in ("kind", "affects", "message"):
        findings.add_column(column, overflow="fold")
    for finding in submission.findings:
        findings.add_row(finding.kind.value, escape(finding.prefix or "-"),
                         escape(finding.message))
    console.print(findings)
