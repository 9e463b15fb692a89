"""``gradekit assignments``: the assignment packs gradekit can grade."""

from __future__ import annotations

import click


@click.command()
def assignments() -> None:
    """List the assignment packs found (course repository and plugins)."""
    from rich.console import Console
    from rich.table import Table

    from gradekit.packs import find_packs

    table = Table(title="assignment packs")
    for column in ("name", "title", "api", "parts", "points", "folder"):
        table.add_column(column)
    for pack in find_packs().values():
        table.add_row(pack.name, pack.title, pack.api, ", ".join(p.name for p in pack.parts),
                      f"{pack.max_score:g}", str(pack.path))
    Console().print(table)
