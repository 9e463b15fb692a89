"""``gradekit assignments``: the assignment packs gradekit can grade."""

from __future__ import annotations

import click


@click.command()
def assignments() -> None:
    """List the assignment packs found (course repository and plugins)."""
    from rich.console import Console
    from rich.table import Table

    from gradekit.packs import find_packs

    table = Table(title="assignment packs (a version grades one course's year of its family)")
    for column in ("name", "version of", "what it is", "package", "points"):
        table.add_column(column)
    for pack in find_packs().values():
        family = " > ".join(name for name, _ in pack.lineage[1:]) or "-"
        table.add_row(pack.name, family, pack.description or pack.title, pack.package,
                      f"{pack.max_score:g}")
    Console().print(table)
