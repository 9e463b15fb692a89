"""``gradekit plugins``: which plugins are registered and what each provides."""

from __future__ import annotations

import click


@click.command()
@click.option("--api", default="cs231n", show_default=True, help="Assignment API flavour.")
@click.option("--verbose", "-v", is_flag=True, help="List every component name.")
def plugins(api: str, verbose: bool) -> None:
    """List registered plugins and the components each provides."""
    from rich.console import Console
    from rich.table import Table

    from gradekit.plugin_manager import get_plugin_manager

    pm = get_plugin_manager()
    table = Table(title=f"gradekit plugins ({api} API)")
    table.add_column("plugin", style="bold")
    table.add_column("components", justify="right")
    table.add_column("provides")
    for name, plugin in pm.list_name_plugin():
        hook = getattr(plugin, "gradekit_components", None)
        names = sorted(hook(api=api) or []) if hook else []
        if verbose:
            shown = "\n".join(names)
        else:
            groups = sorted({n.rpartition(".")[0] for n in names})
            shown = ", ".join(groups)
        table.add_row(name, str(len(names)), shown or "-")
    Console().print(table)
