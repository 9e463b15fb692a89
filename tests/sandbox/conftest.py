"""Fixtures for sandbox tests: a mode switch and a factory of clients over fresh folders."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sandbox_helpers import TIGHT, needs_bwrap, write_package

from gradekit.sandbox.client import WorkerClient
from gradekit.sandbox.confinement import Confinement, new_confinement
from gradekit.sandbox.limits import Limits


@pytest.fixture(params=[pytest.param("bwrap", marks=needs_bwrap), "subprocess"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Callable[..., WorkerClient]]:
    """Build a client over a fresh submission folder; every client is closed afterwards."""
    clients: list[WorkerClient] = []

    def make(files: dict[str, str], modules: dict[str, str], sandbox: str = "subprocess",
             limits: Limits = TIGHT, **kwargs: object) -> WorkerClient:
        root = write_package(tmp_path / f"submission{len(clients)}", files)
        with warnings.catch_warnings():  # the weak-isolation warning has its own test
            warnings.simplefilter("ignore", RuntimeWarning)
            client = WorkerClient(root, modules, sandbox=sandbox, limits=limits, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def confined() -> Iterator[Callable[..., Confinement]]:
    """Make confinements (the weak-isolation warning silenced), all released afterwards."""
    with ExitStack() as stack:
        def make(sandbox: str = "subprocess", limits: Limits = TIGHT,
                 **kwargs: object) -> Confinement:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                return stack.enter_context(new_confinement(sandbox, limits, **kwargs))

        yield make
