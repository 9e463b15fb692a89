"""Model helpers on local and sandboxed models."""

from __future__ import annotations

import warnings

import numpy as np

from gradekit.harness.models import load_state
from gradekit.sandbox.client import WorkerClient
from reference.cs231n.classifiers.fc_net import FullyConnectedNet


def test_load_state_restores_a_batchnorm_net_by_dotted_path():
    trained = FullyConnectedNet([5], input_dim=4, num_classes=3, normalization="batchnorm",
                                seed=0)
    X = np.random.default_rng(1).normal(size=(8, 4))
    trained.loss(X, np.arange(8) % 3)  # running statistics move away from their start
    saved = {f"params.{k}": v for k, v in trained.params.items()}
    saved |= {"bn_params.0.running_mean": trained.bn_params[0]["running_mean"],
              "bn_params.0.running_var": trained.bn_params[0]["running_var"]}
    fresh = FullyConnectedNet([5], input_dim=4, num_classes=3, normalization="batchnorm",
                              seed=7)
    load_state(fresh, saved)
    np.testing.assert_array_equal(fresh.loss(X), trained.loss(X))


def test_load_state_takes_plain_names_as_params():
    net = FullyConnectedNet([2], input_dim=3, num_classes=2)
    load_state(net, {"W1": np.ones((3, 2))})
    np.testing.assert_array_equal(net.params["W1"], np.ones((3, 2)))


def test_load_state_writes_into_a_model_in_the_sandbox(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "net.py").write_text(
        "import numpy as np\n"
        "class Net:\n"
        "    def __init__(self):\n"
        "        self.params = {'W': np.zeros((2, 2))}\n"
        "        self.bn_params = [{'running_mean': np.zeros(2)}]\n"
        "    def loss(self, X):\n"
        "        return X @ self.params['W'] + self.bn_params[0]['running_mean']\n")
    with warnings.catch_warnings():  # the weak-isolation warning has its own test
        warnings.simplefilter("ignore", RuntimeWarning)
        client = WorkerClient(tmp_path, {"net": "pkg.net"}, sandbox="subprocess")
    with client:
        net = client.call("net.Net")
        load_state(net, {"params.W": np.eye(2), "bn_params.0.running_mean": np.ones(2)})
        np.testing.assert_array_equal(net.loss(np.full((1, 2), 2.0)), [[3.0, 3.0]])
