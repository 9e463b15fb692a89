"""The version hint reads constructor keywords, state keys and the package name."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gradekit.course import find_course_root
from gradekit.packs import find_packs
from gradekit.submission.version_fit import better_versions, read_signatures

PACKS = find_packs()

# Written the way each course's students write them (not the reference's code).
UCLA_FC_NET = """
class FullyConnectedNet(object):
    def __init__(self, hidden_dims, input_dim=3*32*32, num_classes=10,
                 dropout=0, use_batchnorm=False, reg=0.0,
                 weight_scale=1e-2, dtype=np.float32, seed=None):
        self.use_batchnorm = use_batchnorm
"""
UCLA_OPTIM = """
def rmsprop(w, dw, config=None):
    config.setdefault('a', np.zeros_like(w))
    config['a'] = config['decay_rate'] * config['a'] + (1 - config['decay_rate']) * dw**2

def adam(w, dw, config=None):
    config.setdefault('v', np.zeros_like(w))
    config.setdefault('a', np.zeros_like(w))
    config['t'] += 1
"""
CS231N_2018_FC_NET = """
class FullyConnectedNet(object):
    def __init__(self, hidden_dims, input_dim=3*32*32, num_classes=10, dropout=1,
                 normalization=None, reg=0.0, weight_scale=1e-2, dtype=np.float32, seed=None):
        pass
"""
CS231N_OPTIM = """
def rmsprop(w, dw, config=None):
    cache = config['cache']

def adam(w, dw, config=None):
    m, v = config['m'], config['v']
"""


def sources(tmp_path: Path, **files: str) -> list[Path]:
    out = []
    for name, text in files.items():
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(text))
        out.append(path)
    return out


def test_signatures_are_read_without_running_the_code(tmp_path):
    files = sources(tmp_path, fc_net=UCLA_FC_NET + "\nraise SystemExit('never run')\n",
                    optim=UCLA_OPTIM, broken="def (:\n")
    signatures = read_signatures(files)
    assert {"use_batchnorm", "dropout", "hidden_dims"} <= signatures.arguments["FullyConnectedNet"]
    assert {"a", "v", "t"} <= signatures.strings["adam"]


def test_a_ucla_submission_graded_as_cs231n_gets_the_ucla_hint(tmp_path):
    files = sources(tmp_path, fc_net=UCLA_FC_NET, optim=UCLA_OPTIM)
    winners, seen = better_versions(PACKS["cs231n_2018"], PACKS, files, "nndl")
    assert [p.name for p in winners] == ["ucla_hw4"]
    assert "package 'nndl'" in seen and "adam state key 'a'" in seen
    assert "FullyConnectedNet keyword 'use_batchnorm'" in seen
    assert better_versions(PACKS["ucla_hw4"], PACKS, files, "nndl") == ([], [])


def test_a_2018_submission_graded_as_2017_or_2021_gets_the_2018_hint(tmp_path):
    files = sources(tmp_path, fc_net=CS231N_2018_FC_NET, optim=CS231N_OPTIM)
    for graded in ("cs231n_2017", "cs231n_2021", "ucla_hw4"):
        winners, _ = better_versions(PACKS[graded], PACKS, files, "cs231n")
        assert [p.name for p in winners] == ["cs231n_2018", "cs231n_2020"], graded
    winners, seen = better_versions(PACKS["cs231n_2018"], PACKS, files, "cs682")
    assert [p.name for p in winners] == ["cs682"] and seen == ["package 'cs682'"]


def test_no_hint_when_the_graded_version_fits_as_well_as_any(tmp_path):
    files = sources(tmp_path, fc_net=CS231N_2018_FC_NET, optim=CS231N_OPTIM)
    assert better_versions(PACKS["cs231n_2018"], PACKS, files, "cs231n") == ([], [])
    assert better_versions(PACKS["cs231n_2020"], PACKS, files, "cs231n") == ([], [])
    nothing = sources(tmp_path, layers="def affine_forward(x, w, b):\n    pass\n")
    assert better_versions(PACKS["cs231n_2018"], PACKS, nothing, "cs231n") == ([], [])


@pytest.mark.skipif(find_course_root() is None, reason="needs the course repository")
def test_a_pack_without_versions_never_hints(tmp_path):
    files = sources(tmp_path, fc_net=UCLA_FC_NET)
    alone = {"fc_nets": PACKS["fc_nets"]}
    assert better_versions(PACKS["fc_nets"], alone, files, "nndl") == ([], [])
