"""What differs between versions of one assignment, as data the tests and the reference follow.

A correct student of 2017 writes ``FullyConnectedNet(..., use_batchnorm=True, dropout=0.25)``
where one of 2023 writes ``normalization='batchnorm', dropout_keep_ratio=0.75``, and UCLA keys
Adam's moments ``'v'``/``'a'`` where CS231n keys them ``'m'``/``'v'``. The hidden tests are
written once, in the *canonical* API (the base pack's); a :class:`Version` read from the pack
translates each call into the version's API on its way to the student's code and back, so a
test never needs a copy per year. It also says which components the course gave (never
charged) and which are not part of the version at all (their tests do not count).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from gradekit.packs import AssignmentPack

DropoutReading = Literal["keep", "drop", "either"]
READINGS: tuple[str, ...] = ("keep", "drop", "either")
SHAPES: tuple[str, ...] = ("strict", "lenient")


class NotInVersion(LookupError):  # noqa: N818 - reads as the outcome a test reports
    """A test asked for something this version does not grade: a component the course gave,
    one that is not part of the version, or an option (``normalization='layernorm'``) the
    version's API lacks. The test is reported as not applicable and weighs nothing."""

    def __init__(self, message: str, name: str) -> None:
        super().__init__(message)
        self.name = name


@dataclass(frozen=True)
class Keyword:
    """How one canonical keyword of a constructor reads in this version.

    ``name`` is the version's keyword; ``values`` maps canonical values (``None`` written as
    ``"none"``) to the version's (``{"batchnorm": True, "none": False}``), and a canonical
    value it does not list is not in the version; ``dropout`` marks a keep probability the
    version writes in its own dropout reading (keep, or drop = 1 - keep); ``only`` lists the
    canonical values the version has at all (``normalization`` only ``None`` in a course
    without normalization), passed on as they are.
    """

    name: str
    values: Mapping[str, Any] | None = None
    dropout: bool = False
    only: tuple[Any, ...] | None = None

    @property
    def omitted(self) -> tuple[Any, ...]:
        """Canonical values passed on as no keyword at all: a version with one value of an
        option (normalization ``None``) may predate the keyword, and its default means it."""
        return self.only if self.only is not None and len(self.only) == 1 else ()

    def translate(self, value: Any, reading: str, component: str, canonical: str) -> Any:
        if self.only is not None and value not in self.only:
            shown = ", ".join("None" if v is None else repr(v) for v in self.only)
            raise NotInVersion(f"{canonical}={value!r} is not part of this version's "
                               f"{component.rsplit('.', 1)[-1]} (it only has {canonical}="
                               f"{shown})", component)
        if self.dropout:
            return value if reading == "keep" else 1 - value
        if self.values is None:
            return value
        key = "none" if value is None else str(value)
        if key not in self.values:
            raise NotInVersion(f"{canonical}={value!r} is not part of this version's "
                               f"{component.rsplit('.', 1)[-1]} (its {self.name} takes "
                               f"{', '.join(map(repr, self.values.values()))})", component)
        return self.values[key]


@dataclass(frozen=True)
class Version:
    """The conventions of one pack version (see ``[conventions]`` and ``[components]`` in
    docs/packs.md). The default is the canonical API itself: nothing is translated."""

    name: str = ""
    dropout_p: DropoutReading = "keep"
    state_keys: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    adam_first_t: int = 0
    keywords: Mapping[str, Mapping[str, Keyword]] = field(default_factory=dict)
    shapes: Literal["strict", "lenient"] = "strict"
    given: frozenset[str] = frozenset()
    absent: frozenset[str] = frozenset()
    waivers: Mapping[str, str] = field(default_factory=dict)  # test -> why it is not charged
    # parts this version cannot grade here (``[not_applicable]``, or a framework a part
    # ``requires`` is missing): their tests are not run
    parts_not_graded: frozenset[str] = frozenset()
    # modules written in a notebook (``[notebook_modules]``): one file holds every component,
    # so ``isolated`` stands the reference in for the others of the same module too
    notebook_modules: frozenset[str] = frozenset()

    @classmethod
    def of(cls, pack: AssignmentPack) -> Version:
        """The version ``pack`` declares; :class:`ValueError` names a malformed convention."""
        conventions = pack.conventions
        reading = conventions.get("dropout_p", "keep")
        if reading not in READINGS:
            raise ValueError(f"conventions.dropout_p must be one of {READINGS}, got {reading!r}")
        shapes = conventions.get("shapes", "strict")
        if shapes not in SHAPES:
            raise ValueError(f"conventions.shapes must be one of {SHAPES}, got {shapes!r}")
        keywords = {}
        for component, table in conventions.get("keywords", {}).items():
            keywords[component] = {canonical: _keyword(component, canonical, spec)
                                   for canonical, spec in table.items()}
        return cls(name=pack.name, dropout_p=reading,
                   state_keys={rule: dict(keys)
                               for rule, keys in conventions.get("state_keys", {}).items()},
                   adam_first_t=int(conventions.get("adam_first_t", 0)), keywords=keywords,
                   shapes=shapes, given=frozenset(pack.given_components),
                   absent=frozenset(pack.absent_components),
                   waivers=dict(pack.data.get("waivers", {})),
                   parts_not_graded=frozenset(pack.not_applicable),
                   notebook_modules=frozenset(prefix for prefix, rel in pack.modules.items()
                                              if rel in pack.notebook_modules))

    def waiver(self, test: str) -> str | None:
        """Why ``test`` (``file::name``, parameters and all) is run but not charged in this
        version: the course's own given code fails it (``[waivers]`` names the test without
        its parameters to waive them all)."""
        return self.waivers.get(test) or self.waivers.get(test.split("[", 1)[0])

    def check_available(self, name: str, source: str) -> None:
        """Raise :class:`NotInVersion` when a test asks ``source`` for ``name`` and this
        version does not grade it (a given component asked of the student's code)."""
        if name in self.absent:
            raise NotInVersion(f"{name} is not part of this version of the assignment", name)
        if name in self.given and source == "impl":
            raise NotInVersion(f"{name} was given by the course: it is not graded", name)


def _keyword(component: str, canonical: str, spec: Any) -> Keyword:
    if isinstance(spec, str):
        return Keyword(spec)
    if isinstance(spec, Mapping) and isinstance(spec.get("only"), list) and set(spec) == {"only"}:
        return Keyword(canonical, only=tuple(None if v == "none" else v for v in spec["only"]))
    if isinstance(spec, Mapping) and isinstance(spec.get("as"), str):
        values = spec.get("values")
        return Keyword(spec["as"], dict(values) if values is not None else None,
                       bool(spec.get("dropout", False)))
    raise ValueError(f"conventions.keywords.{component}.{canonical} must be a keyword name, "
                     "a table {{ as = \"name\", values = {{...}} }} or {{ only = [...] }}")


class Dialect:
    """One grading session's translation between the canonical API and a version's.

    ``probe`` says how the student's own ``dropout_forward`` reads ``p``; it is asked once,
    the first time it matters.
    """

    def __init__(self, version: Version, probe: Callable[[], DropoutReading] | None = None):
        self.version = version
        self._probe = probe
        self._reading: DropoutReading | None = None

    def dropout_reading(self) -> DropoutReading:
        """How the version reads ``p``: as it declares, or as the student's code does when
        it allows either."""
        if self.version.dropout_p != "either":
            return self.version.dropout_p
        return self.student_reading()

    def student_reading(self) -> DropoutReading:
        """How the student's own ``dropout_forward`` reads ``p``, asked once. A stand-in for
        it follows this, so a net that hands its own layer the share that layer expects is
        not charged again for the layer's reading."""
        if self._reading is None:
            self._reading = self._probe() if self._probe is not None else "keep"
        return self._reading

    # -- wrapping what a view hands out ------------------------------------------------------
    def student(self, name: str, obj: Any) -> Any:
        """``obj`` (the student's component ``name``) called in the canonical API."""
        version = self.version
        rule = name.removeprefix("optim.")
        if name in version.keywords:
            return _with_keywords(obj, name, version.keywords[name], self)
        if name.startswith("optim.") and rule in version.state_keys:
            return _with_state_keys(obj, version.state_keys[rule])
        if name in ("layers.dropout_forward",) and self.dropout_reading() == "drop":
            return _with_drop_probability(obj)
        return obj

    def reference(self, name: str, obj: Any) -> Any:
        """The reference's component ``name`` following this version's defaults."""
        if name == "optim.adam" and self.version.adam_first_t:
            return _with_first_step(obj, self.version.adam_first_t)
        return obj

    def course(self, name: str, obj: Any) -> Any:
        """The reference's component ``name`` called as the course's own code calls it (a
        stand-in for the student's: see :mod:`gradekit.sandbox.worker`)."""
        obj = self.reference(name, obj)
        rule = name.removeprefix("optim.")
        if name.startswith("optim.") and rule in self.version.state_keys:
            keys = self.version.state_keys[rule]
            return _with_state_keys(obj, {theirs: ours for ours, theirs in keys.items()})
        if name == "layers.dropout_forward" and self.student_reading() == "drop":
            return _with_drop_probability(obj)  # 1 - p both ways
        return obj


def _with_keywords(cls: Any, name: str, keywords: Mapping[str, Keyword],
                   dialect: Dialect) -> Callable[..., Any]:
    @functools.wraps(cls, assigned=("__name__", "__qualname__", "__doc__"), updated=())
    def build(*args: Any, **canonical: Any) -> Any:
        translated = {}
        for key, value in canonical.items():
            keyword = keywords.get(key)
            if keyword is None:
                translated[key] = value
            elif any(value is v or value == v for v in keyword.omitted):
                continue
            else:
                translated[keyword.name] = keyword.translate(value, dialect.dropout_reading(),
                                                             name, key)
        return cls(*args, **translated)

    return build


def _renamed(config: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    return {names.get(key, key): value for key, value in config.items()}


def _with_state_keys(rule: Callable[..., Any], keys: Mapping[str, str]) -> Callable[..., Any]:
    back = {version: canonical for canonical, version in keys.items()}

    @functools.wraps(rule)
    def step(w: Any, dw: Any, config: dict[str, Any] | None = None) -> Any:
        theirs = None if config is None else _renamed(config, keys)
        next_w, returned = rule(w, dw, theirs)
        if config is not None and theirs is not None:  # their in-place writes, in our names
            config.clear()
            config.update(_renamed(theirs, back))
        if isinstance(returned, Mapping):
            returned = _renamed(returned, back)
        return next_w, returned

    return step


def _with_drop_probability(forward: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(forward)
    def call(x: Any, dropout_param: dict[str, Any]) -> Any:
        theirs = dict(dropout_param)
        if "p" in theirs:
            theirs["p"] = 1 - theirs["p"]
        return forward(x, theirs)

    return call


def _with_first_step(adam: Callable[..., Any], first_t: int) -> Callable[..., Any]:
    @functools.wraps(adam)
    def step(w: Any, dw: Any, config: dict[str, Any] | None = None) -> Any:
        config = dict(config or {})
        config.setdefault("t", first_t)
        return adam(w, dw, config)

    return step
