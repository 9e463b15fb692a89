"""Helpers for sandbox tests: tiny submission folders, tight limits, a grader-side verdict."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gradekit.sandbox.client import WorkerClient
from gradekit.sandbox.launcher import bwrap_works
from gradekit.sandbox.limits import MB, Limits

#: Tight enough that a hostile case costs about two seconds, loose enough for numpy.
TIGHT = Limits(call_seconds=2, submission_seconds=120, cpu_seconds=30,
               address_space=512 * MB, file_size=16 * MB, tmp_bytes=64 * MB, processes=32,
               output_bytes=64 * 1024, wire_bytes=64 * MB, kill_grace_seconds=0.3)

HONEST_LAYERS = '''\
import numpy as np


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    return dx, x.reshape(x.shape[0], -1).T @ dout, dout.sum(axis=0)
'''

needs_bwrap = pytest.mark.skipif(not bwrap_works(), reason="bubblewrap is not available")


def write_package(root: Path, files: dict[str, str]) -> Path:
    """Write ``{"cs231n/layers.py": source, ...}`` under ``root`` (with ``__init__.py``s)."""
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        init = path.parent / "__init__.py"
        if not init.exists():
            init.write_text("")
        path.write_text(source)
    return root


def affine_verdict(client: WorkerClient) -> str:
    """Grade ``layers.affine_forward`` the way a test would: compare in the grader."""
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(4, 3, 2)), rng.normal(size=(6, 5)), rng.normal(size=5)
    out, _ = client.call("layers.affine_forward", x, w, b)
    return "pass" if np.allclose(out, x.reshape(4, -1) @ w + b) else "fail"


#: A submission with honest layers and small tools for exercising the client.
TOOLS = '''\
import os
import time


class Counter:
    def __init__(self, start):
        self.count = start
        self.history = []

    def bump(self, by=1):
        self.count += by
        self.history.append(by)
        return self.count


def divide(a, b):
    return a / b


def chatty(n):
    print("line", n)
    os.write(2, b"from C-level stderr\\n")
    return n


def nap(seconds):
    time.sleep(seconds)
    return seconds


def normalize(x, bn_param):
    bn_param["running_mean"] = x.mean(axis=0)
    x -= x.mean(axis=0)
    return x


def draw(n):
    import numpy as np

    return np.random.randn(n)


def die(code):
    os._exit(code)


def whoami():
    return os.getuid(), os.getgid(), os.getgroups()


def kernel_limits():
    import resource

    return [resource.getrlimit(r)[0] for r in (resource.RLIMIT_CPU, resource.RLIMIT_AS,
                                               resource.RLIMIT_FSIZE, resource.RLIMIT_CORE)]
'''

FILES = {"cs231n/layers.py": HONEST_LAYERS, "cs231n/tools.py": TOOLS}
MODULES = {"layers": "cs231n.layers", "tools": "cs231n.tools"}
