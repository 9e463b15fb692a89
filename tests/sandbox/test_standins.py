"""Stand-ins: the grader answers for some of the submission's components, for one call only."""

from __future__ import annotations

import numpy as np
import pytest
from sandbox_helpers import needs_bwrap

from gradekit.sandbox.errors import StudentError, WireError
from gradekit.sandbox.proxies import RemoteObject, with_standins

FILES = {
    "pkg/__init__.py": "",
    "pkg/layers.py": (
        "def double(x):\n    return 2 * x\n\n"
        "def fill(param):\n    param['seen'] = True\n    return 0\n"),
    "pkg/net.py": (
        "from .layers import double, fill\nfrom . import layers\nKEPT = []\n\n"
        "def forward(x):\n    return double(x) + layers.double(x)\n\n"
        "def remember(x):\n    KEPT.append(double)\n    return double(x)\n\n"
        "def replay(x):\n    return KEPT[0](x)\n\n"
        "def state(param):\n    fill(param)\n    return param\n\n"
        "class Net:\n    def score(self, x):\n        return double(x)\n"),
}
MODULES = {"layers": "pkg.layers", "net": "pkg.net"}
TRIPLE = {"layers.double": lambda x: 3 * x,
          "layers.fill": lambda param: param.update(by="grader") or 1}


@pytest.fixture(params=[pytest.param("bwrap", marks=needs_bwrap), "subprocess", "none"])
def client(request, make_client):
    return make_client(FILES, MODULES, sandbox=request.param)


def test_a_call_with_stand_ins_runs_the_students_code_on_the_graders_components(client):
    forward = with_standins(RemoteObject(client, "net.forward"), TRIPLE)
    assert np.array_equal(forward(np.arange(3)), 6 * np.arange(3))  # both ways of naming it
    assert np.array_equal(client.call("net.forward", np.arange(3)), 4 * np.arange(3))


def test_models_built_with_stand_ins_keep_them_in_their_methods(client):
    net = with_standins(RemoteObject(client, "net.Net"), TRIPLE)()
    assert net.score(2) == 6


def test_what_the_grader_writes_into_a_dict_reaches_the_students_dict(client):
    state = with_standins(RemoteObject(client, "net.state"), TRIPLE)
    assert state({"mode": "train"}) == {"mode": "train", "by": "grader"}


def test_a_stand_in_kept_past_its_call_gets_no_answer(client):
    assert with_standins(RemoteObject(client, "net.remember"), TRIPLE)(5) == 15
    with pytest.raises(StudentError, match="answers only during the grader's call"):
        client.call("net.replay", 5)


def test_the_grader_answers_only_the_names_the_call_declared(make_client):
    hostile = dict(FILES)
    hostile["pkg/net.py"] = FILES["pkg/net.py"] + (
        "\n\ndef sneak(x):\n"
        "    cells = [c.cell_contents for c in double.__closure__]\n"
        "    [session] = [c for c in cells if type(c).__name__ == 'Session']\n"
        "    return session.ask('layers.secret', [x], {})\n")
    client = make_client(hostile, MODULES, sandbox="subprocess")
    sneak = with_standins(RemoteObject(client, "net.sneak"), TRIPLE)
    with pytest.raises(WireError, match="does not stand in for"):
        sneak(1)
    assert client.call("layers.double", 4) == 8  # a fresh worker grades on
