"""Golden values: expected outputs recorded from the reference, checked against a submission.

Students have no reference solution, so visible tests compare with values an instructor
recorded (``gradekit author goldens PACK``). A *case* is a small function that builds its
inputs deterministically, calls components from whatever view it is given, and returns named
results::

    cases = GoldenSet()

    @cases.case("layers.affine_forward", part="layers", tol=1e-9)
    def affine_forward(c):
        x = np.linspace(-0.1, 0.5, num=240).reshape(2, 4, 5, 6)
        ...
        return {"out": c.get("layers.affine_forward")(x, w, b)[0]}

Recording runs every case on the reference and stores the results in an ``.npz`` (no pickle);
checking runs the same case on the student's view and compares result by result.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

META_KEY = "__cases__"
SEP = "::"


class GoldenError(LookupError):
    """Golden values are missing or stale: re-record them with ``gradekit author goldens``."""


@dataclass(frozen=True)
class GoldenCase:
    """One recorded check: ``build(view)`` returns ``{result name: value}``."""

    name: str
    component: str
    part: str
    points: float
    tol: float
    build: Callable[[Any], dict[str, Any]]


class GoldenSet:
    """The golden cases of one pack, in definition order."""

    def __init__(self) -> None:
        self.cases: dict[str, GoldenCase] = {}

    def case(self, component: str, *, part: str, points: float = 1.0, tol: float = 1e-7,
             name: str | None = None) -> Callable:
        """Decorator registering a case function under ``name`` (default: its own name)."""

        def register(build: Callable[[Any], dict[str, Any]]) -> Callable:
            key = name or build.__name__
            if key in self.cases:
                raise ValueError(f"golden case {key!r} is defined twice")
            self.cases[key] = GoldenCase(key, component, part, points, tol, build)
            return build

        return register

    def __iter__(self) -> Iterator[GoldenCase]:
        return iter(self.cases.values())

    def run(self, name: str, view: Any) -> dict[str, np.ndarray]:
        """Run one case on ``view`` and return its results as arrays."""
        results = self.cases[name].build(view)
        return {key: np.asarray(value) for key, value in results.items()}

    def record(self, view: Any, path: Path) -> int:
        """Run every case on ``view`` (the reference) and write ``path``; returns the count."""
        arrays: dict[str, np.ndarray] = {}
        for case in self:
            for key, value in self.run(case.name, view).items():
                if value.dtype == object:
                    raise TypeError(f"golden case {case.name!r} returned a non-numeric {key!r}")
                arrays[f"{case.name}{SEP}{key}"] = value
        arrays[META_KEY] = np.array(json.dumps(sorted(self.cases)))
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **arrays)
        return len(self.cases)


class Goldens:
    """Recorded values of a pack's ``goldens.npz``, read case by case: each visible test
    opens the file for its own case, and decoding every case's arrays each time cost a
    test 7 ms instead of 1."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise GoldenError(f"{path} is missing: record it with 'gradekit author goldens'")
        self.path = path

    def expected(self, case: str) -> dict[str, np.ndarray]:
        prefix = f"{case}{SEP}"
        with np.load(self.path, allow_pickle=False) as data:
            found = {k.removeprefix(prefix): data[k] for k in data.files if k.startswith(prefix)}
        if not found:
            raise GoldenError(f"no recorded values for case {case!r} in {self.path}; "
                              "re-record with 'gradekit author goldens'")
        return found

    def check(self, cases: GoldenSet, name: str, view: Any) -> None:
        """Run case ``name`` on ``view`` and assert every result matches the recording."""
        from gradekit.harness.checks import assert_rel_close

        case = cases.cases[name]
        actual = cases.run(name, view)
        for key, expected in self.expected(name).items():
            if key not in actual:
                raise AssertionError(f"{case.component}: result {key!r} was not produced")
            assert_rel_close(actual[key], expected, case.tol, what=f"{case.component} {key}")


def load_cases(path: Path, attribute: str = "cases") -> GoldenSet:
    """Import the case module at ``path`` under a name unique to that file."""
    path = Path(path).resolve()
    name = f"_gradekit_cases_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise GoldenError(f"cannot import golden cases from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, attribute)


def golden_params(cases: GoldenSet) -> list:
    """pytest parameters, one per case, carrying the case's part and points markers."""
    import pytest

    return [pytest.param(case.name, id=case.name,
                         marks=[pytest.mark.part(case.part), pytest.mark.points(case.points)])
            for case in cases]
