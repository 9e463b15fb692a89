"""The ``gradekit`` command line.

Sub-commands live in their own modules and are imported only when invoked, so
``gradekit --help`` stays instant (no NumPy, no Jupyter on that path).
"""

from __future__ import annotations

import difflib
import importlib
import os
import sys
from typing import Any

import click

#: sub-command name -> "module:attribute" of its click command
COMMANDS = {
    "assignments": "gradekit.cli.assignments:assignments",
    "author": "gradekit.cli.author:author",
    "check": "gradekit.cli.grade:check",
    "data": "gradekit.cli.data:data",
    "grade": "gradekit.cli.grade:grade",
    "inspect": "gradekit.cli.inspect:inspect_submission",
    "plugins": "gradekit.cli.plugins:plugins",
}


def drop_working_directory() -> None:
    """Take the working directory off ``sys.path``, however it is spelled there (``""``,
    ``.``, its absolute path): the grader is often run inside a folder of student files, and
    a ``numpy.py`` there must never be imported in the grader's place."""
    here = os.path.realpath(os.curdir)
    sys.path[:] = [entry for entry in sys.path if os.path.realpath(entry or os.curdir) != here]


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported on first use."""

    def main(self, args: Any = None, *rest: Any, **options: Any) -> Any:
        """Run as the program (arguments from ``sys.argv``), the process is the command
        line's own, so the working directory leaves ``sys.path`` before any sub-command is
        imported; called with arguments (tests, embedding) it leaves the caller's alone."""
        if args is None:
            drop_working_directory()
        return super().main(args, *rest, **options)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        """As click's, but a mistyped command name gets the nearest ones as a suggestion."""
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in COMMANDS:
            close = difflib.get_close_matches(name, COMMANDS, n=2, cutoff=0.6)
            hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
            ctx.fail(f"No such command {name!r}.{hint} Commands: {', '.join(sorted(COMMANDS))}.")
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gradekit")
def main() -> None:
    """Grade NumPy deep-learning homework: safely, exactly, fast."""
