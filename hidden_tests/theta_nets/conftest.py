"""Shared inputs of the hidden theta_nets tests, and the nets on the reference's layers.

Everything students write here lives in one module (``nets``, from the notebook), and
gradekit's ``isolated`` stands the reference in only for components of *other* modules. So
:func:`standalone` asks ``isolated`` for a net and stands the reference in for every other
component of ``nets`` as well (the layers, the sandwiches, the loss): a layer bug then costs
the layers' tests, not the nets'. Being built on ``isolated``, its tests run after all
others, as stand-in tests must. To be replaced by ``isolated`` itself once it can stand in
within a module (see the pack's report).
"""

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from gradekit.components import Components, _lazy
from gradekit.sandbox.proxies import RemoteObject, with_standins
from gradekit.versions import Dialect, Version


@pytest.fixture
def rng() -> np.random.RandomState:
    """A fresh, seeded generator per test: failures reproduce exactly."""
    return np.random.RandomState(4004)


@pytest.fixture
def make_params(rng) -> Callable[[list[int]], dict[str, np.ndarray]]:
    """Weights and NON-ZERO biases ``theta{l}``, ``theta{l}_0`` for layer sizes ``dims``."""

    def make(dims: list[int], scale: float = 0.3) -> dict[str, np.ndarray]:
        params = {}
        for layer in range(1, len(dims)):
            params[f"theta{layer}"] = scale * rng.randn(dims[layer - 1], dims[layer])
            params[f"theta{layer}_0"] = 0.2 * rng.randn(dims[layer])
        return params

    return make


class Standalone:
    """``get(name)``: the student's ``name`` with the reference answering every other
    component of the API it calls, in its own module too."""

    def __init__(self, isolated: Components) -> None:
        self.isolated = isolated

    def get(self, name: str) -> Any:
        student = self.isolated.get(name)
        if not isinstance(student, RemoteObject):
            return student  # not sandboxed (a student's own check): their code as it is
        reference = Components(self.isolated.api, "ref", self.isolated.pm)
        available = set(reference.names())
        dialect = self.isolated.dialect or Dialect(Version())
        answered = self.isolated._stood_in  # shared, so later tests know what was answered
        standins = {other: _lazy(reference, dialect, other, answered)
                    for other in self.isolated.names() if other != name and other in available}
        return with_standins(student, standins) if standins else student


@pytest.fixture
def standalone(isolated) -> Standalone:
    """The student's nets on the reference's layers (see the module docstring)."""
    return Standalone(isolated)
