"""The swap-in: a submission's proxies registered above the reference, compared in the grader."""

from __future__ import annotations

import numpy as np
import pytest
from sandbox_helpers import HONEST_LAYERS

from gradekit.components import Components, MissingComponent
from gradekit.course import find_course_root
from gradekit.plugin_manager import create_plugin_manager
from gradekit.sandbox.plugin import SubmissionPlugin
from gradekit.sandbox.proxies import RemoteObject, fetch

LAYERS = HONEST_LAYERS + '''

def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def softmax_loss(x, y):
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = x.shape[0]
    dx = np.exp(log_probs)
    dx[np.arange(n), y] -= 1
    return -log_probs[np.arange(n), y].mean(), dx / n
'''

FC_NET = '''\
import numpy as np

from cs231n.layers import (affine_backward, affine_forward, relu_backward, relu_forward,
                           softmax_loss)


class FullyConnectedNet:
    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10,
                 dropout_keep_ratio=1, normalization=None, reg=0.0, weight_scale=1e-2,
                 dtype=np.float32, seed=None):
        self.reg = reg
        self.num_layers = len(hidden_dims) + 1
        dims = [input_dim, *hidden_dims, num_classes]
        self.params = {}
        for i in range(self.num_layers):
            self.params[f"W{i + 1}"] = weight_scale * np.random.randn(dims[i], dims[i + 1])
            self.params[f"b{i + 1}"] = np.zeros(dims[i + 1])
        self.params = {k: v.astype(dtype) for k, v in self.params.items()}

    def loss(self, X, y=None):
        out, caches = X, []
        for i in range(1, self.num_layers):
            out, fc = affine_forward(out, self.params[f"W{i}"], self.params[f"b{i}"])
            out, rc = relu_forward(out)
            caches.append((fc, rc))
        last = self.num_layers
        scores, cache = affine_forward(out, self.params[f"W{last}"], self.params[f"b{last}"])
        if y is None:
            return scores
        loss, dout = softmax_loss(scores, y)
        grads = {}
        dout, grads[f"W{last}"], grads[f"b{last}"] = affine_backward(dout, cache)
        for i in range(last - 1, 0, -1):
            fc, rc = caches[i - 1]
            dout, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(relu_backward(dout, rc), fc)
        for i in range(1, last + 1):
            W = self.params[f"W{i}"]
            loss += 0.5 * self.reg * np.sum(W * W)
            grads[f"W{i}"] += self.reg * W
        return loss, grads
'''

FILES = {"cs231n/layers.py": LAYERS, "cs231n/classifiers/fc_net.py": FC_NET}
MODULES = {"layers": "cs231n.layers", "classifiers.fc_net": "cs231n.classifiers.fc_net"}


@pytest.fixture
def views(make_client, mode: str) -> dict[str, Components]:
    root = find_course_root()
    if root is None or not (root / "reference" / "cs231n" / "classifiers" / "fc_net.py").exists():
        pytest.skip("the course reference is not available")
    pm = create_plugin_manager(root, entry_points=False)
    client = make_client(FILES, MODULES, sandbox=mode)
    plugin = SubmissionPlugin(client, "alice").register(pm)
    assert pm.get_plugin("submission:alice") is plugin
    return {source: Components(source=source, pm=pm) for source in ("impl", "ref", "mixed")}


def test_remote_net_with_set_params_matches_the_reference(views) -> None:
    impl, ref = views["impl"], views["ref"]
    rng = np.random.default_rng(1)
    N, D, H1, H2, C = 4, 6, 5, 3, 3
    net = impl.FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=0.3,
                                 dtype=np.float64)
    ref_net = ref.FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=0.3,
                                    dtype=np.float64)
    assert isinstance(net, RemoteObject) and not isinstance(ref_net, RemoteObject)
    for name, shape in {"W1": (D, H1), "b1": (H1,), "W2": (H1, H2), "b2": (H2,),
                        "W3": (H2, C), "b3": (C,)}.items():
        value = rng.normal(size=shape)
        net.params[name] = value
        ref_net.params[name] = value
    X, y = rng.normal(size=(N, D)), rng.integers(C, size=N)

    loss, grads = net.loss(X, y)
    ref_loss, ref_grads = ref_net.loss(X, y)

    assert np.isclose(loss, ref_loss, rtol=1e-10)
    assert sorted(grads) == sorted(ref_grads)
    for name, grad in grads.items():
        assert type(grad) is np.ndarray and np.allclose(grad, ref_grads[name], rtol=1e-8)
    assert np.allclose(net.loss(X), ref_net.loss(X))
    assert sorted(net.params) == sorted(ref_net.params) and "W1" in net.params
    assert np.array_equal(fetch(net.params)["W2"], ref_net.params["W2"])


def test_sources_resolve_student_reference_and_mixed(views) -> None:
    impl, ref, mixed = views["impl"], views["ref"], views["mixed"]
    assert isinstance(impl.get("layers.affine_forward"), RemoteObject)
    assert not isinstance(ref.get("layers.affine_forward"), RemoteObject)
    assert isinstance(mixed.get("layers.affine_forward"), RemoteObject)
    with pytest.raises(MissingComponent, match=r"does not implement 'layers\.batchnorm_forward'"):
        impl.get("layers.batchnorm_forward")
    assert callable(mixed.get("layers.batchnorm_forward"))
    assert "classifiers.fc_net.FullyConnectedNet" in impl.names()


def test_missing_attribute_and_key_raise_the_usual_errors(views) -> None:
    net = views["impl"].FullyConnectedNet([2], input_dim=3, num_classes=2)
    assert not hasattr(net, "no_such_attribute")
    with pytest.raises(KeyError):
        net.params["W9"]
    del net.params["b2"]
    assert len(net.params) == 3
