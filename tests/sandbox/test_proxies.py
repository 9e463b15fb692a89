"""Remote objects: state lives in the worker; Python's protocols work on the proxies; a
remote model's numerical gradient is one run of requests."""

from __future__ import annotations

import numpy as np
import pytest
from sandbox_helpers import FILES, MODULES

from gradekit.harness.models import model_gradient
from gradekit.sandbox import proxies
from gradekit.sandbox.errors import StudentError, WireError
from gradekit.sandbox.proxies import RemoteObject, central_losses, fetch


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


NET = '''\
import numpy as np


class Net:
    """A loss with a dropout mask drawn from the global generator, and a counter."""

    def __init__(self, fail_after=None):
        self.params = {"W": np.linspace(-1, 1, 12).reshape(3, 4).astype(np.float32)}
        self.calls, self.fail_after = 0, fail_after

    def loss(self, X, y):
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise FloatingPointError("the loss blew up")
        mask = np.random.rand(*X.shape) < 0.8
        scores = (X * mask) @ self.params["W"]
        return float(np.sum(scores[np.arange(len(y)), y] ** 2)), {}
'''
NET_MODULES = {"net": "pkg.net"}


def _local_net(**kwargs):
    space: dict = {}
    exec(NET, space)
    return space["Net"](**kwargs)


def _inputs():
    rng = np.random.RandomState(0)
    return rng.randn(5, 3), rng.randint(4, size=5)


def test_a_remote_models_numerical_gradient_is_the_local_loops(make_client, mode: str) -> None:
    client = make_client({"pkg/net.py": NET}, NET_MODULES, sandbox=mode)
    X, y = _inputs()
    np.random.seed(3)
    local = model_gradient(_local_net(), X, y, "W")
    local_state = np.random.get_state()[1].copy()
    np.random.seed(3)
    net = client.call("net.Net")
    remote = model_gradient(net, X, y, "W")
    np.testing.assert_array_equal(remote, local)  # the same draws, in the same order
    np.testing.assert_array_equal(np.random.get_state()[1], local_state)
    restored = net.params["W"]
    assert restored.dtype == np.float32
    np.testing.assert_array_equal(restored, _local_net().params["W"])
    assert net.calls == 2 * 12


def test_a_loss_that_raises_midway_leaves_the_parameter_as_it_was(make_client,
                                                                 mode: str) -> None:
    client = make_client({"pkg/net.py": NET}, NET_MODULES, sandbox=mode)
    net = client.call("net.Net", fail_after=7)
    with pytest.raises(StudentError, match="the loss blew up"):
        model_gradient(net, *_inputs(), "W")
    np.testing.assert_array_equal(net.params["W"], _local_net().params["W"])


def test_a_slow_loss_is_asked_for_in_several_requests(make_client, monkeypatch) -> None:
    client = make_client({"pkg/net.py": NET}, NET_MODULES)
    net = client.call("net.Net")
    X, y = _inputs()
    np.random.seed(5)
    whole = model_gradient(net, X, y, "W")
    sent = []
    request = client._request
    monkeypatch.setattr(client, "_request", lambda message, context: (
        sent.append(message["op"]), request(message, context))[1])
    monkeypatch.setattr(proxies, "LOSSES_SECONDS", 0.0)  # one row per request
    np.random.seed(5)
    np.testing.assert_array_equal(model_gradient(net, X, y, "W"), whole)
    assert sent.count("losses") == 12


class _Forger:
    """A worker that answers a losses request with whatever it was given."""

    def __init__(self, reply: object) -> None:
        self.reply = reply

    def request(self, op: str, target: object, **fields: object) -> object:
        return self.reply


@pytest.mark.parametrize("reply", [np.zeros((4, 2)), np.zeros((3, 2), np.float32),
                                   np.zeros((0, 2)), np.zeros((3, 3)), [[0.0, 0.0]] * 3])
def test_losses_that_do_not_fit_the_parameter_are_refused(reply) -> None:
    model = RemoteObject(_Forger(reply), "net.Net")
    with pytest.raises(WireError, match="do not fit its 3 elements"):
        central_losses(model, "W", 1e-6, 3, [np.zeros(2), np.zeros(2)])
