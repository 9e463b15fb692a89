"""``gradekit data``: download data sets and show where gradekit looks for them."""

from __future__ import annotations

from pathlib import Path

import click

from gradekit.data.registry import DATASETS, get_dataset


@click.group()
def data() -> None:
    """Find and download the data sets the assignments use."""


@data.command()
@click.argument("name", type=click.Choice(sorted(DATASETS)))
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to unpack into (default: the user cache dir).")
@click.option("--force", is_flag=True, help="Download again even if a copy exists.")
def fetch(name: str, dest: Path | None, force: bool) -> None:
    """Download a data set into the folder gradekit looks in.

    The md5 of each download is checked before anything is unpacked or kept; archives are
    unpacked, other files (MNIST's gzipped idx files) kept as downloaded. An interrupted
    download resumes when the command is run again.
    """
    from gradekit.data.fetch import FetchError
    from gradekit.data.fetch import fetch as fetch_dataset
    from gradekit.data.locate import ENV_VAR, cache_dir

    dataset = get_dataset(name)
    try:
        folder = fetch_dataset(dataset, dest, force=force)
    except FetchError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{dataset.title}: {folder}")
    if dest is not None and dest.resolve() != cache_dir().resolve():
        click.echo(f"set {ENV_VAR}={dest.resolve()} so that gradekit finds it")


@data.command()
def where() -> None:
    """Print the data search path and which data sets were found on it."""
    import os

    from gradekit.data.locate import ENV_VAR, candidates, find_dataset, search_path

    click.echo(f"search path (${ENV_VAR} first, then the cache dir):")
    if not os.environ.get(ENV_VAR):
        click.echo(f"  ${ENV_VAR} is not set")
    for root in search_path():
        click.echo(f"  {root}{'' if root.is_dir() else '  (missing)'}")
    for name, dataset in sorted(DATASETS.items()):
        found = find_dataset(dataset)
        shown = found if found is not None else f"not found; run `gradekit data fetch {name}`"
        click.echo(f"{name}: {shown}")
        for folder in candidates(dataset):
            missing = dataset.missing_from(folder)
            if missing:
                click.echo(f"  skipped {folder}: incomplete, no {', '.join(missing)}")
