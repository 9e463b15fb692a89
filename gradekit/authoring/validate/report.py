"""What ``gradekit author validate`` prints and writes: a table per part, the survivors with
their diffs, the tests that misjudged the reference or the starter; as JSON and HTML too."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from gradekit.authoring.validate.run import Validation


def show(found: Validation, console: Console) -> None:
    """The validation of one pack, for a terminal."""
    table = Table(title=f"{found.pack}: mutation score {found.score():.3f} "
                        f"(at least {found.min_score})")
    for column in ("part", "mutants", "killed", "survived", "other", "score"):
        table.add_column(column, justify="left" if column == "part" else "right")
    for part in found.parts():
        mine = [v for v in found.verdicts if v.part == part]
        counted = found.counted(part)
        killed = sum(v.status == "killed" for v in counted)
        table.add_row(part, str(len(mine)), str(killed), str(len(counted) - killed),
                      str(len(mine) - len(counted)),
                      f"{found.score(part):.3f}" if counted else "-")
    console.print(table)
    console.print(f"{len(found.verdicts)} mutants graded ({found.generated} generated before "
                  "sampling, plus the named ones)")
    _problems(console, "The reference loses points", found.reference)
    _problems(console, "The starter is misjudged", found.starter)
    if found.unchecked:
        console.print(f"[yellow]not checked without the notebooks:[/] "
                      f"{', '.join(found.unchecked)} (run with --notebooks)")
    for verdict in found.verdicts:
        if verdict.status in ("survived", "misgraded", "error", "equivalent"):
            console.print(f"\n[bold]{verdict.status}[/]: {verdict.mutant.name} in "
                          f"{verdict.mutant.component} ({verdict.part}): {verdict.mutant.what}"
                          + (f"\n  {verdict.message}" if verdict.message else ""),
                          highlight=False, markup=True)
            console.print(verdict.diff, highlight=False, markup=False)
    if found.untested:
        console.print(f"\n[yellow]no test asks for[/] {', '.join(found.untested)}: a bug there "
                      "costs nothing (list them under \\[components] absent if this version "
                      "does not grade them)", highlight=False)
    if found.not_applicable:
        console.print(f"\nnamed mutants of a base that do not apply here: "
                      f"{', '.join(found.not_applicable)}")
    for failure in found.failures:
        console.print(f"[red]FAIL[/]: {failure}")
    if not found.failures:
        console.print("[green]the pack's tests hold[/]")


def _problems(console: Console, title: str, problems: list) -> None:
    if problems:
        console.print(f"\n[bold red]{title}:[/]")
        for problem in problems:
            console.print(f"  {problem.test} ({problem.part}): {problem.message}",
                          highlight=False, markup=False)


def write_report(found: Validation, path: Path) -> list[Path]:
    """``path`` as JSON and the same beside it as an HTML page; returns both paths."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    data = found.to_dict()
    json_path, html_path = path.with_suffix(".json"), path.with_suffix(".html")
    path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    env = Environment(loader=PackageLoader("gradekit.authoring.validate", "templates"),
                      autoescape=select_autoescape(default=True))
    html_path.write_text(env.get_template("validate.html.j2").render(v=data), encoding="utf-8")
    return [json_path, html_path]
