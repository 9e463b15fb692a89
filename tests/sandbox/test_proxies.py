"""Remote objects: state lives in the worker; Python's protocols work on the proxies."""

from __future__ import annotations

from sandbox_helpers import FILES, MODULES

from gradekit.sandbox.proxies import RemoteObject, fetch


def test_remote_objects_keep_state(make_client, mode: str) -> None:
    client = make_client(FILES, MODULES, sandbox=mode)
    counter = client.call("tools.Counter", 10)
    assert counter.bump(5) == 15 and counter.count == 15
    counter.count = 1
    history = counter.history
    history.append(7)  # a remote list: the append happens in the worker
    assert counter.bump() == 2 and list(counter.history) == [5, 7, 1]
    assert len(history) == 3 and 7 in history and history and counter
    history.clear()
    assert not history


def test_fetch_copies_a_remote_container(make_client, mode: str) -> None:
    client = make_client(FILES, MODULES, sandbox=mode)
    counter = client.call("tools.Counter", 0)
    counter.bump(4)
    history = fetch(counter.history)
    assert isinstance(counter.history, RemoteObject) and history == [4]
    history.append(5)  # a local copy: the worker's list is unchanged
    assert list(counter.history) == [4]
