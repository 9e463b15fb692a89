from pathlib import Path

import platformdirs
import pytest
from click.testing import CliRunner

import gradekit.data.fetch
from gradekit.cli import main
from gradekit.data.registry import CIFAR10, MNIST


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache dir, and no ``$GRADEKIT_DATA``."""
    monkeypatch.delenv("GRADEKIT_DATA", raising=False)
    monkeypatch.setattr(platformdirs, "user_cache_dir", lambda appname: str(tmp_path / appname))
    return tmp_path / "gradekit"


def run(*args: str):
    return CliRunner().invoke(main, ["data", *args])


def where_with(tmp_path, monkeypatch, folder: str, dataset):
    """``gradekit data where`` with only ``dataset``'s files under ``folder`` on the path."""
    subset = tmp_path / "env" / folder
    subset.mkdir(parents=True)
    for name in dataset.contents:
        (subset / name).touch()
    monkeypatch.setenv("GRADEKIT_DATA", str(tmp_path / "env"))
    return run("where")


def test_where_lists_the_search_path_and_what_was_found(cache, tmp_path, monkeypatch):
    result = where_with(tmp_path, monkeypatch, "cifar-10-subset", CIFAR10)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].strip() == str(tmp_path / "env")
    assert lines[2].strip() == f"{cache}  (missing)"
    assert f"cifar10: {tmp_path / 'env' / 'cifar-10-subset'}" in lines
    assert "mnist: not found; run `gradekit data fetch mnist`" in lines


def test_where_finds_the_mnist_subset(cache, tmp_path, monkeypatch):
    result = where_with(tmp_path, monkeypatch, "mnist-subset", MNIST)
    assert result.exit_code == 0, result.output
    assert f"mnist: {tmp_path / 'env' / 'mnist-subset'}" in result.output.splitlines()
    assert "cifar10: not found" in result.output


def test_where_explains_an_incomplete_copy(cache):
    (cache / "cifar-10-batches-py").mkdir(parents=True)
    (cache / "cifar-10-batches-py" / "test_batch").touch()
    result = run("where")
    assert result.exit_code == 0, result.output
    assert "cifar10: not found" in result.output
    assert (f"skipped {cache / 'cifar-10-batches-py'}: incomplete, no data_batch_1, "
            "data_batch_2") in result.output


def test_where_tells_how_to_get_missing_data(cache):
    result = run("where")
    assert result.exit_code == 0, result.output
    assert "$GRADEKIT_DATA is not set" in result.output
    assert "cifar10: not found; run `gradekit data fetch cifar10`" in result.output


def test_fetch_unknown_data_set_lists_the_known_ones(cache):
    result = run("fetch", "imagenet")
    assert result.exit_code == 2
    assert "'imagenet' is not" in result.output
    assert "{cifar10|mnist}" in result.output


def test_fetch_passes_the_registered_data_set_and_dest(cache, tmp_path, monkeypatch):
    calls = []

    def fake_fetch(dataset, dest, *, force):
        calls.append((dataset, dest, force))
        return dest / dataset.folders[0]

    monkeypatch.setattr(gradekit.data.fetch, "fetch", fake_fetch)
    result = run("fetch", "cifar10", "--dest", str(tmp_path / "d"), "--force")
    assert result.exit_code == 0, result.output
    assert calls == [(CIFAR10, tmp_path / "d", True)]
    assert str(tmp_path / "d" / "cifar-10-batches-py") in result.output
    assert f"GRADEKIT_DATA={tmp_path / 'd'}" in result.output


def test_fetch_mnist_passes_its_registry_entry(cache, monkeypatch):
    calls = []

    def fake_fetch(dataset, dest, *, force):
        calls.append((dataset, dest, force))
        return cache / dataset.folders[0]

    monkeypatch.setattr(gradekit.data.fetch, "fetch", fake_fetch)
    result = run("fetch", "mnist")
    assert result.exit_code == 0, result.output
    assert calls == [(MNIST, None, False)]
    assert result.output == f"MNIST (idx files): {cache / 'mnist'}\n"


def test_fetch_into_the_cache_needs_no_hint(cache, monkeypatch):
    monkeypatch.setattr(gradekit.data.fetch, "fetch",
                        lambda dataset, dest, *, force: cache / dataset.folders[0])
    result = run("fetch", "cifar10")
    assert result.exit_code == 0, result.output
    assert "GRADEKIT_DATA" not in result.output


def test_fetch_failure_is_a_clean_error(cache, monkeypatch):
    def failing_fetch(dataset, dest, *, force):
        raise gradekit.data.fetch.ChecksumError("md5 mismatch; nothing was unpacked")

    monkeypatch.setattr(gradekit.data.fetch, "fetch", failing_fetch)
    result = run("fetch", "cifar10")
    assert result.exit_code == 1
    assert "Error: md5 mismatch; nothing was unpacked" in result.output
