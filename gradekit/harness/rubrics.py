"""Rubrics: map an accuracy to a credit fraction in [0, 1].

Packs declare their accuracy rubric by kind and parameters; the kinds come from the
``gradekit_rubrics`` hook, so a course can add its own. Built in:

* ``threshold(at)``       — full credit from ``at`` percent on, nothing below;
* ``linear(zero, full)``  — 0 at ``zero`` percent, 1 at ``full`` percent, linear between;
* ``formula(expression)`` — a formula in X (percent), see :mod:`gradekit.harness.formula`.

Parameters are in percent (``55`` or ``"55%"``), like the handouts. Every rubric's credit is
clamped to [0, 1]: a formula may go negative below its zero point, a grade may not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pluggy

from gradekit.harness.formula import compile_formula

RubricFactory = Callable[..., "Rubric"]


@dataclass(frozen=True)
class Rubric:
    """A named accuracy-to-credit map; call it with an accuracy fraction (0.564 for 56.4%)."""

    description: str
    credit_at_percent: Callable[[float], float]

    def __call__(self, accuracy: float) -> float:
        if not 0.0 <= accuracy <= 1.0:
            raise ValueError(
                f"accuracy must be a fraction in [0, 1], got {accuracy!r}; "
                f"for {accuracy}% pass {accuracy / 100:g}"
            )
        # 0.57 * 100 is 56.999999999999993 in floating point; rounding keeps floor() honest.
        percent = round(accuracy * 100.0, 9)
        return min(max(float(self.credit_at_percent(percent)), 0.0), 1.0)

    def __str__(self) -> str:
        return self.description


def percent(value: float | str) -> float:
    """Read a rubric parameter given as ``55`` or ``"55%"`` (both mean 55 percent)."""
    if isinstance(value, str):
        return float(value.strip().removesuffix("%"))
    return float(value)


def threshold(at: float | str) -> Rubric:
    """Full credit at or above ``at`` percent, none below."""
    cutoff = percent(at)
    return Rubric(f"full credit from {cutoff:g}%", lambda x: 1.0 if x >= cutoff else 0.0)


def linear(zero: float | str, full: float | str) -> Rubric:
    """No credit at ``zero`` percent, full credit at ``full`` percent, linear in between."""
    low, high = percent(zero), percent(full)
    if high <= low:
        raise ValueError(f"linear rubric needs zero < full, got zero={low:g}%, full={high:g}%")
    return Rubric(f"linear from {low:g}% to {high:g}%", lambda x: (x - low) / (high - low))


def formula(expression: str) -> Rubric:
    """A rubric written as a formula in X, e.g. ``min(floor((X - 32%)) / 23%, 1)``."""
    return Rubric(expression, compile_formula(expression))


BUILTIN_RUBRICS: dict[str, RubricFactory] = {
    "threshold": threshold,
    "linear": linear,
    "formula": formula,
}


def available_rubrics(pm: pluggy.PluginManager) -> dict[str, RubricFactory]:
    """Rubric kinds from every plugin; later-registered plugins override earlier ones."""
    kinds: dict[str, RubricFactory] = {}
    for contributed in reversed(pm.hook.gradekit_rubrics()):
        kinds.update(contributed or {})
    return kinds


def make_rubric(pm: pluggy.PluginManager, spec: str | Mapping[str, Any]) -> Rubric:
    """Build the rubric a pack declares: a formula string, or ``{"kind": ..., **params}``."""
    if isinstance(spec, str):
        spec = {"kind": "formula", "expression": spec}
    params = dict(spec)
    kind = params.pop("kind", None)
    kinds = available_rubrics(pm)
    if kind not in kinds:
        raise ValueError(
            f"unknown rubric kind {kind!r}; declare one of {', '.join(sorted(kinds))} "
            "as kind = \"...\" in the pack's rubric table"
        )
    try:
        return kinds[kind](**params)
    except TypeError as exc:
        raise ValueError(f"rubric {kind!r}: {exc}; check its parameters in the pack") from exc
