"""Resolve component names to implementations from a chosen source.

Tests ask for a source explicitly:

* ``impl``  — the student's code only; a missing function is an error, never a fallback;
* ``ref``   — reference plugins only (everything that does not serve a submission);
* ``mixed`` — the student's code where present, the reference elsewhere;
* ``plugin:NAME`` — one registered plugin, e.g. ``plugin:reference``.

A :class:`Components` view supports ``view.get("layers.affine_forward")``, attribute paths
(``view.layers.affine_forward``, ``view.classifiers.fc_net.FullyConnectedNet``) and unique
short names (``view.FullyConnectedNet``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

from gradekit.plugin_manager import get_plugin_manager, is_submission

if TYPE_CHECKING:
    from gradekit.versions import Dialect

SOURCES = ("impl", "ref", "mixed", "isolated")


class MissingComponent(LookupError):  # noqa: N818 - reads as the outcome a test reports
    """The chosen source has no implementation of component ``name``; ``reason`` says why,
    when a plugin knows (its module failed to import), and is empty when it simply is not
    there. ``known`` is false for a name no plugin has heard of (a typo in a test)."""

    def __init__(self, message: str, name: str, reason: str = "", known: bool = True) -> None:
        super().__init__(message)
        self.name = name
        self.reason = reason
        self.known = known


class Components:
    """Implementations of one assignment API, from one source."""

    def __init__(
        self, api: str = "cs231n", source: str = "ref", pm: pluggy.PluginManager | None = None,
        dialect: Dialect | None = None, answered: set[str] | None = None,
        asked: Callable[[str], None] | None = None,
    ) -> None:
        if source not in SOURCES and not source.startswith("plugin:"):
            raise ValueError(f"unknown source {source!r}: use one of {SOURCES} or 'plugin:NAME'")
        self.api = api
        self.source = source
        self.pm = pm or get_plugin_manager()
        self.dialect = dialect  # the pack version's API, when it is not the canonical one
        # what "isolated" had the reference answer for: shared by the views of one grading
        # run (``answered``), since the submission may have kept the answers
        self._stood_in: set[str] = set() if answered is None else answered
        self._asked = asked  # told each component a test asks this view for

    # -- which plugins speak for this source -------------------------------------------
    def _included(self, name: str) -> bool:
        if self.source == "mixed":
            return True
        if self.source in ("impl", "isolated"):
            return is_submission(name)
        if self.source == "ref":
            return not is_submission(name)
        return name == self.source.removeprefix("plugin:")

    def plugins(self) -> list[tuple[str, object]]:
        """(name, plugin) pairs consulted by this view, first-asked first."""
        pairs = [(self.pm.get_name(p), p) for p in self.pm.get_plugins()]
        order = {id(impl.plugin): i for i, impl in
                 enumerate(reversed(self.pm.hook.gradekit_implementation.get_hookimpls()))}
        pairs = [(n, p) for n, p in pairs if n is not None and self._included(n)]
        return sorted(pairs, key=lambda np_: order.get(id(np_[1]), len(order)))

    def _caller(self, hook: str = "gradekit_implementation"):
        excluded = [p for n, p in ((self.pm.get_name(p), p) for p in self.pm.get_plugins())
                    if n is None or not self._included(n)]
        return self.pm.subset_hook_caller(hook, remove_plugins=excluded)

    # -- lookups ----------------------------------------------------------------------
    def names(self) -> list[str]:
        """Component names this source can provide."""
        found: set[str] = set()
        for _, plugin in self.plugins():
            hook = getattr(plugin, "gradekit_components", None)
            if hook is not None:
                found.update(hook(api=self.api) or ())
        return sorted(found)

    def known_names(self) -> list[str]:
        """Component names any registered plugin knows for this API (the name universe)."""
        found: set[str] = set()
        for names in self.pm.hook.gradekit_components(api=self.api):
            found.update(names or ())
        return sorted(found)

    def get(self, name: str) -> Any:
        """The implementation of ``name``, called in the canonical API (the pack version's
        dialect translates); :class:`MissingComponent` if the source lacks it,
        :class:`~gradekit.versions.NotInVersion` if the version does not grade it."""
        if self._asked is not None:
            self._asked(name)
        if self.dialect is not None:
            self.dialect.version.check_available(
                name, "impl" if self.source == "isolated" else self.source)
        if self.source == "impl" and name in self._stood_in:
            raise MissingComponent(f"{name!r} was stood in for by the reference in an earlier "
                                   "isolated test, so the submission may replay its answers: "
                                   "grade it before (tests without 'isolated' run first)",
                                   name, known=False)
        result = self.raw(name)
        if self.source == "isolated":
            result = self._isolated(name, result)
        if self.dialect is None:
            return result
        if self.source == "ref":
            return self.dialect.reference(name, result)
        return self.dialect.student(name, result) if self.source != "mixed" else result

    def _isolated(self, name: str, student: Any) -> Any:
        """The student's ``name`` with the reference standing in for the submission's
        components of every *other* module (of every other component, in a module students
        write in a notebook: it holds them all), so a composite's test charges the composite
        alone. Only a sandboxed submission can be isolated; otherwise (no reference, as in
        a student's own check) it is the student's code as it is."""
        from gradekit.sandbox.proxies import RemoteObject, with_standins
        from gradekit.versions import Dialect, Version

        if not isinstance(student, RemoteObject):
            return student
        if name in self._stood_in:  # the submission may have kept what the reference said
            raise MissingComponent(f"{name!r} was stood in for by the reference in an earlier "
                                   "isolated test, so it cannot be graded through 'isolated' "
                                   "after it: grade it with 'impl'", name, known=False)
        reference = Components(self.api, "ref", self.pm)
        available = set(reference.names())
        dialect = self.dialect or Dialect(Version())
        own = name.rsplit(".", 1)[0]
        whole_module = own in dialect.version.notebook_modules
        standins = {}
        for other in self.names():
            apart = other != name if whole_module else other.rsplit(".", 1)[0] != own
            if apart and other in available:
                standins[other] = _lazy(reference, dialect, other, self._stood_in)
        if "layers.dropout_forward" in standins:
            dialect.student_reading()  # asks the student's layer now, never mid-call
        return with_standins(student, standins) if standins else student

    def raw(self, name: str) -> Any:
        """The implementation of ``name`` in the version's own API, untranslated."""
        result = self._caller()(api=self.api, name=name)
        if result is None:
            raise self._missing(name)
        if self.source == "ref" and inspect.isfunction(result):
            return _on_pristine_inputs(result)
        return result

    def _missing(self, name: str) -> MissingComponent:
        if name not in self.known_names():
            return MissingComponent(f"no plugin knows a component named {name!r} in the "
                                    f"{self.api} API", name, known=False)
        reason = self._caller("gradekit_why_missing")(api=self.api, name=name) or ""
        if reason:
            return MissingComponent(f"{name!r} is unavailable: {reason}", name, reason)
        if self.source == "impl":
            return MissingComponent(f"the submission does not implement {name!r}", name)
        return MissingComponent(f"{name!r} is not provided by source {self.source!r}", name)

    def resolve_short(self, short: str) -> str:
        """Map a unique last segment (``'adam'``) to its full name (``'optim.adam'``)."""
        matches = [n for n in self.known_names() if n.rsplit(".", 1)[-1] == short]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise AttributeError(f"{short!r} is ambiguous: {', '.join(matches)}")
        raise AttributeError(f"no component or namespace {short!r} in the {self.api} API")

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        return _Path(self, attr).resolve_or_namespace()

    def __repr__(self) -> str:
        return f"Components(api={self.api!r}, source={self.source!r})"


def _lazy(reference: Components, dialect: Dialect, name: str,
          answered: set[str]) -> Callable[..., Any]:
    """The reference's ``name`` in the course's API, looked up when first called; a call
    adds ``name`` to ``answered`` (a stand-in never called told the submission nothing)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        answered.add(name)
        return dialect.course(name, reference.raw(name))(*args, **kwargs)

    return call


@functools.cache
def _on_pristine_inputs(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` called with the value each argument had before any student call wrote into it,
    so a submission cannot steer what the reference computes (see
    :func:`gradekit.sandbox.mutations.pristine`)."""
    from gradekit.sandbox.mutations import pristine

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        return fn(*pristine(args), **pristine(kwargs))

    return call


class _Path:
    """An attribute path such as ``view.classifiers.fc_net`` on the way to a component."""

    def __init__(self, view: Components, prefix: str) -> None:
        self._view = view
        self._prefix = prefix

    def resolve_or_namespace(self) -> Any:
        known = self._view.known_names()
        if self._prefix in known:
            return self._view.get(self._prefix)
        if any(n.startswith(self._prefix + ".") for n in known):
            return self
        if "." not in self._prefix:
            return self._view.get(self._view.resolve_short(self._prefix))
        raise AttributeError(f"no component or namespace {self._prefix!r} in the "
                             f"{self._view.api} API")

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        return _Path(self._view, f"{self._prefix}.{attr}").resolve_or_namespace()

    def __repr__(self) -> str:
        return f"<components namespace {self._prefix!r} from {self._view.source!r}>"


def components(source: str = "ref", api: str = "cs231n") -> Components:
    """Shortcut for :class:`Components` on the process-wide plugin manager."""
    return Components(api=api, source=source)
