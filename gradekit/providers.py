"""A plugin that serves components straight from Python modules.

Both the reference solutions and the code gradekit gives to students are plain modules; this
adapter turns a map ``{"layers": "reference.cs231n.layers", ...}`` into the two
implementation hooks, importing each module only when one of its names is asked for.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from gradekit import hookimpl


def public_names(module: ModuleType) -> list[str]:
    """Functions and classes defined by ``module`` itself (not imported into it)."""
    return sorted(name for name, obj in vars(module).items() if _own_public(module, name, obj))


def _own_public(module: ModuleType, name: str, obj: Any) -> bool:
    """Whether ``obj``, found as ``name`` in ``module``, is a public function or class that
    the module defines itself."""
    return (not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
            and getattr(obj, "__module__", None) == module.__name__)


def modules_of(package: str, folder: str | Path) -> dict[str, str]:
    """The module map of a whole package: ``{"layers": "<package>.layers",
    "classifiers.fc_net": "<package>.classifiers.fc_net", ...}`` for every module file under
    ``folder`` (the package's own folder), so a new module needs no list edited by hand.
    Nothing is imported to find them; private modules (``_x.py``) are left out."""
    folder = Path(folder)
    found = {}
    for path in folder.rglob("*.py"):
        parts = path.relative_to(folder).with_suffix("").parts
        if any(part.startswith("_") for part in parts):
            continue
        if all((folder.joinpath(*parts[:i]) / "__init__.py").is_file()
               for i in range(1, len(parts))):  # inside packages only
            found[".".join(parts)] = f"{package}.{'.'.join(parts)}"
    return dict(sorted(found.items()))


#: The ``api`` of a provider whose code serves every assignment API (the Solver, the data
#: loaders: what a course gives is the same whatever its students' API).
EVERY_API = "*"


class ModuleProvider:
    """Provide ``<prefix>.<name>`` for every public function or class of the mapped modules."""

    def __init__(self, api: str, modules: Mapping[str, str]) -> None:
        self.api = api
        self.modules = dict(modules)

    def _serves(self, api: str) -> bool:
        return self.api in (api, EVERY_API)

    def _module(self, prefix: str) -> ModuleType:
        return importlib.import_module(self.modules[prefix])

    @hookimpl
    def gradekit_implementation(self, api: str, name: str) -> Any | None:
        if not self._serves(api):
            return None
        prefix, _, attr = name.rpartition(".")
        if prefix not in self.modules or attr.startswith("_"):
            return None
        module = self._module(prefix)
        obj = vars(module).get(attr)  # one name looked up, not the module's list of them
        return obj if _own_public(module, attr, obj) else None

    @hookimpl
    def gradekit_components(self, api: str) -> list[str] | None:
        if not self._serves(api):
            return None
        return [f"{p}.{n}" for p in self.modules for n in public_names(self._module(p))]

    def __repr__(self) -> str:
        return f"ModuleProvider(api={self.api!r}, modules={sorted(self.modules)})"


class ApiProviders:
    """One plugin made of several :class:`ModuleProvider`, one per assignment API: a course's
    reference holds a package per API (``reference/cs231n/``, ``reference/dlvc/``, ...)."""

    def __init__(self, providers: Iterable[ModuleProvider]) -> None:
        self.providers = {provider.api: provider for provider in providers}

    @classmethod
    def of_folders(cls, package: str, folder: str | Path) -> ApiProviders:
        """A provider for every package folder under ``folder``, named after its folder: the
        API it serves. A new API needs a folder, no entry in a list."""
        folder = Path(folder)
        return cls(ModuleProvider(sub.name, modules_of(f"{package}.{sub.name}", sub))
                   for sub in sorted(folder.iterdir())
                   if (sub / "__init__.py").is_file() and not sub.name.startswith("_"))

    @property
    def apis(self) -> list[str]:
        return sorted(self.providers)

    @hookimpl
    def gradekit_implementation(self, api: str, name: str) -> Any | None:
        provider = self.providers.get(api)
        return provider.gradekit_implementation(api=api, name=name) if provider else None

    @hookimpl
    def gradekit_components(self, api: str) -> list[str] | None:
        provider = self.providers.get(api)
        return provider.gradekit_components(api=api) if provider else None

    def __repr__(self) -> str:
        return f"ApiProviders({', '.join(map(repr, self.providers.values()))})"
