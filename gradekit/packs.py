"""Assignment packs: one folder per assignment, described by ``assignment.toml``.

A pack says which API flavour and student package it grades, where each component lives in a
submission, how the points are split into parts, which conventions the reference follows, and
which files a student release contains. Packs are discovered through the
``gradekit_assignment_packs`` hook; the course repository's ``assignments/`` is built in.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from gradekit import hookimpl

PACK_FILE = "assignment.toml"


class PackError(ValueError):
    """An assignment pack is missing or malformed."""


@dataclass(frozen=True)
class Part:
    """A graded part: its tests share ``points`` in proportion to their own weights."""

    name: str
    title: str
    points: float


@dataclass(frozen=True)
class NotebookSpec:
    """A notebook the grader executes: where it sits in a submission and how long it may run.

    ``artifacts`` are the names of values the tests may take from the executed kernel (the
    ``best_model`` a student trained, say); ``timeout`` bounds the whole notebook,
    ``cell_timeout`` each cell.
    """

    path: str
    cell_timeout: float = 120.0
    timeout: float = 900.0
    artifacts: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return Path(self.path).name


@dataclass(frozen=True)
class AssignmentPack:
    """The parsed ``assignment.toml`` of one pack."""

    name: str
    title: str
    path: Path
    api: str
    package: str
    modules: dict[str, str]
    parts: tuple[Part, ...]
    given: tuple[str, ...] = ()
    conventions: dict[str, Any] = field(default_factory=dict)
    limits: dict[str, Any] = field(default_factory=dict)
    notebooks: tuple[NotebookSpec, ...] = ()
    rubric: str | dict[str, Any] | None = None  # the accuracy rubric (see harness.rubrics)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def visible_tests(self) -> Path:
        """Visible tests ship with the student release."""
        return self.path / "tests"

    @property
    def golden_cases(self) -> Path:
        """The module defining the visible checks whose results are recorded."""
        return self.visible_tests / "golden_cases.py"

    @property
    def goldens(self) -> Path:
        """Expected values recorded from the reference for the visible tests."""
        return self.visible_tests / "goldens.npz"

    def hidden_tests(self, course_root: Path) -> Path:
        """Instructor-only tests of this pack inside the course repository."""
        return course_root / "hidden_tests" / self.name

    def solution_notebooks(self, course_root: Path) -> Path:
        """Where the solution versions of the pack's notebooks live (instructor material)."""
        return course_root / "reference" / "notebooks" / self.name

    def part(self, name: str) -> Part:
        for part in self.parts:
            if part.name == name:
                return part
        known = ", ".join(p.name for p in self.parts)
        raise PackError(f"pack {self.name!r} has no part {name!r} (parts: {known})")

    @property
    def max_score(self) -> float:
        return sum(p.points for p in self.parts)

    @property
    def part_points(self) -> dict[str, float]:
        """Declared points per part, as the harness scales parts by them."""
        return {p.name: p.points for p in self.parts}

    @classmethod
    def load(cls, path: Path) -> AssignmentPack:
        """Parse ``path/assignment.toml``; errors name the file and the offending key."""
        path = Path(path)
        file = path / PACK_FILE
        if not file.is_file():
            raise PackError(f"{path} is not an assignment pack: {PACK_FILE} is missing")
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise PackError(f"{file}: {exc}") from exc

        def need(key: str, kind: type) -> Any:
            if not isinstance(data.get(key), kind):
                raise PackError(f"{file}: '{key}' must be a {kind.__name__}")
            return data.pop(key)

        name = data.pop("name", path.name)
        parts = tuple(
            Part(str(p["name"]), str(p.get("title", p["name"])), float(p["points"]))
            for p in need("parts", list)
        )
        if len({p.name for p in parts}) != len(parts):
            raise PackError(f"{file}: part names must be unique")
        try:
            notebooks = tuple(
                NotebookSpec(str(n["path"]), float(n.get("cell_timeout", 120)),
                             float(n.get("timeout", 900)),
                             tuple(str(a) for a in n.get("artifacts", ())))
                for n in data.pop("notebooks", ())
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PackError(f"{file}: each [[notebooks]] entry needs a 'path', and numbers "
                            f"for 'timeout' and 'cell_timeout' ({exc})") from exc
        return cls(
            name=name,
            title=need("title", str),
            path=path.resolve(),
            api=need("api", str),
            package=need("package", str),
            modules={str(k): str(v) for k, v in need("modules", dict).items()},
            parts=parts,
            given=tuple(data.pop("release", {}).get("given", ())),
            conventions=data.pop("conventions", {}),
            limits=data.pop("limits", {}),
            notebooks=notebooks,
            rubric=data.pop("accuracy", {}).get("rubric"),
            extra=data,
        )


class CoursePacks:
    """Built-in plugin: the packs under ``<course>/assignments/``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @hookimpl
    def gradekit_assignment_packs(self) -> list[Path]:
        folder = self.root / "assignments"
        return sorted(p.parent for p in folder.glob(f"*/{PACK_FILE}"))


def find_packs(pm: pluggy.PluginManager | None = None) -> dict[str, AssignmentPack]:
    """All packs the registered plugins contribute, by name."""
    from gradekit.plugin_manager import get_plugin_manager

    pm = pm or get_plugin_manager()
    packs: dict[str, AssignmentPack] = {}
    for folders in pm.hook.gradekit_assignment_packs():
        for folder in folders or ():
            pack = AssignmentPack.load(Path(folder))
            packs.setdefault(pack.name, pack)
    return packs


def get_pack(name: str, pm: pluggy.PluginManager | None = None) -> AssignmentPack:
    """The pack called ``name`` (or at folder ``name``), with a helpful error otherwise."""
    if (Path(name) / PACK_FILE).is_file():
        return AssignmentPack.load(Path(name))
    packs = find_packs(pm)
    if name not in packs:
        known = ", ".join(sorted(packs)) or "none found"
        raise PackError(f"no assignment pack named {name!r} (available: {known}); "
                        "run 'gradekit assignments' to list them")
    return packs[name]
