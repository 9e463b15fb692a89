"""Assignment packs: one folder per assignment, described by ``assignment.toml``.

A pack says which API flavour and student package it grades, where each component lives in a
submission, how the points are split into parts, which conventions the reference follows, and
which files a student release contains. Packs are discovered through the
``gradekit_assignment_packs`` hook; the course repository's ``assignments/`` is built in.

A pack is instructor material: its tests run in the grader. So a pack is only ever taken from
a registered plugin, or from a folder the staff write as a path; when none is named,
:func:`detect_pack` picks one of the registered packs by the file names of the submissions,
never from anything a submission says about itself.
"""

from __future__ import annotations

import importlib.util
import os
import posixpath
import tomllib
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from gradekit import hookimpl

PACK_FILE = "assignment.toml"


class PackError(ValueError):
    """An assignment pack is missing or malformed."""


class PackChoiceError(PackError):
    """Which pack is meant cannot be told: an unknown name, or submissions that fit no single
    pack. The staff's to fix by naming one (a usage error, not a broken pack)."""


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


# Every key ``assignment.toml`` may hold, by table: a misspelt key is an error that names it,
# never a setting silently ignored (docs/packs.md documents each one).
KEYS: dict[str, frozenset[str]] = {
    "": frozenset({"name", "title", "description", "extends", "api", "package", "modules",
                   "notebook_modules", "release", "conventions", "components", "parts",
                   "notebooks", "accuracy", "limits", "waivers", "not_applicable", "validate",
                   "gradescope"}),
    "gradescope": frozenset({"visibility", "stdout_visibility", "leaderboard", "data"}),
    "release": frozenset({"given", "layout", "pinned"}),
    "validate": frozenset({"min_score"}),
    "components": frozenset({"given", "absent"}),
    "conventions": frozenset({"dropout_p", "state_keys", "adam_first_t", "keywords", "shapes",
                              "regularization", "weight_init"}),
    "parts": frozenset({"name", "title", "points", "requires"}),
    "notebooks": frozenset({"path", "cell_timeout", "timeout", "artifacts"}),
    "accuracy": frozenset({"rubric", "held_out", "note", "rubrics"}),
    "limits": frozenset({"call_timeout", "submission_timeout", "memory_mb", "cpu_seconds",
                         "disk_mb", "processes"}),
}


@dataclass(frozen=True)
class AssignmentPack:
    """The parsed ``assignment.toml`` of one pack, with what it inherits already merged in.

    ``lineage`` is the pack's own folder, then the folder of the pack it extends, and so on:
    tests, goldens and notebooks a version does not override are found further up.
    """

    name: str
    title: str
    path: Path
    api: str
    package: str
    modules: dict[str, str]
    parts: tuple[Part, ...]
    given: tuple[str, ...] = ()
    # given file (as the reference names it) -> where the course puts it, from the
    # submission's top (UCLA keeps solver.py in utils/, beside its package)
    layout: dict[str, str] = field(default_factory=dict)
    conventions: dict[str, Any] = field(default_factory=dict)
    limits: dict[str, Any] = field(default_factory=dict)
    notebooks: tuple[NotebookSpec, ...] = ()
    rubric: str | dict[str, Any] | None = None  # the accuracy rubric (see harness.rubrics)
    description: str = ""
    extends: str | None = None
    given_components: tuple[str, ...] = ()  # the course gave them: never charged
    absent_components: tuple[str, ...] = ()  # not part of this version: their tests do not run
    lineage: tuple[tuple[str, Path], ...] = ()  # (name, folder): this pack, then its bases
    pinned: tuple[str, ...] = ()  # given files graded from the course's copy, always
    not_applicable: dict[str, str] = field(default_factory=dict)  # part -> why it is not here
    rubrics: dict[str, Any] = field(default_factory=dict)  # more accuracy rubrics, by name
    # module file -> the notebook students write its code in (nbgrader-style courses)
    notebook_modules: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict, repr=False)  # the merged toml

    def _first(self, relative: str) -> Path:
        """``relative`` inside the nearest folder of the lineage that has it."""
        for _, folder in self.chain:
            if (folder / relative).exists():
                return folder / relative
        return self.path / relative

    @property
    def visible_tests(self) -> Path:
        """Visible tests ship with the student release (inherited unless overridden)."""
        return self._first("tests")

    @property
    def golden_cases(self) -> Path:
        """The module defining the visible checks whose results are recorded."""
        return self.visible_tests / "golden_cases.py"

    @property
    def goldens(self) -> Path:
        """Expected values recorded from the reference for the visible tests."""
        return self.visible_tests / "goldens.npz"

    def _course_folder(self, course_root: Path, kind: Path) -> Path:
        for name, _ in self.chain:
            if (course_root / kind / name).is_dir():
                return course_root / kind / name
        return course_root / kind / self.name

    def hidden_tests(self, course_root: Path) -> Path:
        """Instructor-only tests of this pack (or of the pack it extends) in the course."""
        return self._course_folder(course_root, Path("hidden_tests"))

    def visible_test_paths(self) -> list[Path]:
        """The visible tests of the whole lineage (see :func:`overlay`)."""
        return overlay([folder / "tests" for _, folder in self.chain])

    def hidden_test_paths(self, course_root: Path) -> list[Path]:
        """The course's hidden tests of the whole lineage (see :func:`overlay`): a pack that
        adds components to its base (conv layers to the fully-connected nets) adds its own
        tests and keeps the base's."""
        return overlay([course_root / "hidden_tests" / name for name, _ in self.chain])

    @property
    def chain(self) -> tuple[tuple[str, Path], ...]:
        """:attr:`lineage`, or the pack alone when it was built without one."""
        return self.lineage or ((self.name, self.path),)

    def solution_notebooks(self, course_root: Path) -> Path:
        """Where the solution versions of the pack's notebooks live (instructor material)."""
        return self._course_folder(course_root, Path("reference", "notebooks"))

    def part(self, name: str) -> Part:
        for part in self.parts:
            if part.name == name:
                return part
        known = ", ".join(p.name for p in self.parts)
        raise PackError(f"pack {self.name!r} has no part {name!r} (parts: {known})")

    @property
    def max_score(self) -> float:
        return sum(self.part_points.values())

    @property
    def part_points(self) -> dict[str, float]:
        """Declared points per part, as the harness scales parts by them; a part that is not
        applicable in this version is worth nothing, whatever a test of it would earn."""
        return {p.name: p.points for p in self.parts} | dict.fromkeys(self.not_applicable, 0.0)

    @property
    def part_titles(self) -> dict[str, str]:
        """Each part's title, which feedback shows students instead of its name."""
        return {p.name: p.title for p in self.parts}

    @property
    def family(self) -> str:
        """The name of the pack at the root of this pack's lineage (itself if it extends none)."""
        return self.lineage[-1][0] if self.lineage else self.name

    @classmethod
    def load(cls, path: Path) -> AssignmentPack:
        """Parse ``path/assignment.toml`` and what it extends; errors name the file and key."""
        path = Path(path).resolve()
        data, lineage = _read_lineage(path)
        file = path / PACK_FILE

        def need(key: str, kind: type) -> Any:
            if not isinstance(data.get(key), kind):
                raise PackError(f"{file}: '{key}' must be a {kind.__name__}")
            return data[key]

        def strings(table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
            value = table.get(key, ())
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise PackError(f"{file}: '{where}.{key}' must be a list of strings")
            return tuple(value)

        try:
            parts = tuple(
                Part(str(p["name"]), str(p.get("title", p["name"])), float(p["points"]))
                for p in need("parts", list)
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PackError(f"{file}: each [[parts]] entry needs a 'name' and a number of "
                            f"'points' ({exc})") from exc
        if len({p.name for p in parts}) != len(parts):
            raise PackError(f"{file}: part names must be unique")
        try:
            notebooks = tuple(
                NotebookSpec(str(n["path"]), float(n.get("cell_timeout", 120)),
                             float(n.get("timeout", 900)),
                             tuple(str(a) for a in n.get("artifacts", ())))
                for n in data.get("notebooks", ())
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PackError(f"{file}: each [[notebooks]] entry needs a 'path', and numbers "
                            f"for 'timeout' and 'cell_timeout' ({exc})") from exc
        components = data.get("components", {})
        release = data.get("release", {})
        not_applicable = data.get("not_applicable", {})
        if not all(isinstance(v, str) and v for v in not_applicable.values()) or any(
                p.name in not_applicable for p in parts):
            raise PackError(f"{file}: '[not_applicable]' maps a part that this version lacks "
                            "(not one of its [[parts]]) to why, e.g. dropout = \"part 2\"")
        given = strings(release, "given", "release")
        pinned = strings(release, "pinned", "release")
        if set(pinned) - set(given):
            raise PackError(f"{file}: 'release.pinned' may only name given files; "
                            f"{sorted(set(pinned) - set(given))[0]} is not in release.given")
        notebook_modules = {str(k): str(v) for k, v in data.get("notebook_modules", {}).items()}
        declared = {str(v) for v in need("modules", dict).values()}
        if set(notebook_modules) - declared or not all(
                v.endswith(".ipynb") for v in notebook_modules.values()):
            raise PackError(f"{file}: '[notebook_modules]' maps a module file of [modules] to "
                            'the notebook its code is written in, e.g. "assignment3.py" = '
                            '"Assignment3.ipynb"')
        not_applicable = dict(not_applicable) | missing_frameworks(data["parts"], file)
        rubrics = data.get("accuracy", {}).get("rubrics", {})
        if not isinstance(rubrics, dict):
            raise PackError(f"{file}: 'accuracy.rubrics' must be a table of name = rubric")
        return cls(
            name=str(data.get("name", path.name)),
            title=need("title", str),
            path=path,
            api=need("api", str),
            package=need("package", str),
            modules={str(k): str(v) for k, v in need("modules", dict).items()},
            parts=parts,
            given=given,
            layout={str(k): str(v) for k, v in release.get("layout", {}).items()},
            conventions=dict(data.get("conventions", {})),
            limits=dict(data.get("limits", {})),
            notebooks=notebooks,
            rubric=data.get("accuracy", {}).get("rubric"),
            description=str(data.get("description", "")),
            extends=data.get("extends"),
            given_components=strings(components, "given", "components"),
            absent_components=strings(components, "absent", "components"),
            lineage=tuple(lineage),
            pinned=pinned,
            not_applicable={str(k): v for k, v in not_applicable.items()},
            rubrics=dict(rubrics),
            notebook_modules=notebook_modules,
            data=data,
        )


def missing_frameworks(parts: list[dict[str, Any]], file: Path) -> dict[str, str]:
    """Parts whose ``requires`` names a module this interpreter cannot import, with why: the
    worker and the notebook kernels run on this same Python, so such a part cannot be graded
    here. It is not applicable (worth nothing), never failed."""
    missing = {}
    for part in parts:
        requires = part.get("requires", [])
        if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
            raise PackError(f"{file}: 'requires' of part {part.get('name')!r} must be a list of "
                            'module names, e.g. requires = ["tensorflow"]')
        absent = [name for name in requires if importlib.util.find_spec(name) is None]
        if absent:
            missing[str(part["name"])] = (
                f"it needs {' and '.join(absent)}, which is not installed where gradekit grades "
                f"(install it beside gradekit to grade this part: pip install {' '.join(absent)})")
    return missing


def _read_toml(folder: Path) -> dict[str, Any]:
    """One ``assignment.toml`` as written, its keys checked against :data:`KEYS`."""
    file = folder / PACK_FILE
    if not file.is_file():
        raise PackError(f"{folder} is not an assignment pack: {PACK_FILE} is missing")
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PackError(f"{file}: {exc}") from exc
    _check_keys(file, data)
    return data


def _check_keys(file: Path, data: dict[str, Any]) -> None:
    def check(where: str, table: Any) -> None:
        if not isinstance(table, dict):
            raise PackError(f"{file}: '{where}' must be a table")
        unknown = sorted(set(table) - KEYS[where])
        if unknown:
            raise PackError(f"{file}: unknown key '{where + '.' if where else ''}{unknown[0]}' "
                            f"(known keys{' of [' + where + ']' if where else ''}: "
                            f"{', '.join(sorted(KEYS[where]))}; see docs/packs.md)")

    check("", data)
    waivers = data.get("waivers", {})
    if not isinstance(waivers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in waivers.items()):
        raise PackError(f"{file}: '[waivers]' maps a test (\"file.py::test_name\") to why it "
                        "is not charged, both strings")
    for table in ("release", "components", "conventions", "accuracy", "limits"):
        if table in data:
            check(table, data[table])
    for array in ("parts", "notebooks"):
        entries = data.get(array, [])
        if not isinstance(entries, list):
            raise PackError(f"{file}: '{array}' must be an array of tables ([[{array}]])")
        for entry in entries:
            check(array, entry)


def merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` on top of ``base``: tables merge key by key, anything else (arrays of
    parts or notebooks, strings, numbers) is replaced whole."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def _read_lineage(path: Path) -> tuple[dict[str, Any], list[tuple[str, Path]]]:
    """The merged toml of the pack at ``path`` and its lineage, own folder first.

    A base is named by ``extends`` and found beside the pack (``../<base>``), where a
    course keeps its packs; a cycle or a missing base is an error that names it.
    """
    chain: list[tuple[dict[str, Any], Path]] = []
    folder = path
    while True:
        data = _read_toml(folder)
        if any(folder == seen for _, seen in chain):
            names = " -> ".join(seen.name for _, seen in chain)
            raise PackError(f"{path / PACK_FILE}: 'extends' goes round in a circle ({names})")
        chain.append((data, folder))
        base = data.get("extends")
        if base is None:
            break
        if not isinstance(base, str) or not base or is_pack_path(base):
            raise PackError(f"{folder / PACK_FILE}: 'extends' must name a pack beside it, "
                            f"e.g. extends = \"fc_nets\"")
        folder = folder.parent / base
        if not (folder / PACK_FILE).is_file():
            raise PackError(f"{chain[-1][1] / PACK_FILE}: extends {base!r}, but there is no "
                            f"pack {folder}; put the base pack beside it")
    data: dict[str, Any] = {}
    for layer, _ in reversed(chain):
        data = merged(data, layer)
    data.pop("name", None)
    data["name"] = chain[0][0].get("name", path.name)
    data["extends"] = chain[0][0].get("extends")
    lineage = [(layer.get("name", folder.name), folder) for layer, folder in chain]
    return data, lineage


def overlay(folders: Iterable[Path]) -> list[Path]:
    """The test folders of a lineage, nearest first, as the paths to run.

    Every folder that exists runs with its own ``conftest.py``; a test module
    (``test_*.py``) of a nearer folder replaces the module at the same place in a base
    folder, whose other modules still run (then the base is given as its files).
    """
    paths: list[Path] = []
    seen: set[Path] = set()
    for folder in folders:
        if not folder.is_dir():
            continue
        modules = sorted(f.relative_to(folder) for f in folder.rglob("test_*.py"))
        kept = [m for m in modules if m not in seen]
        paths += [folder] if kept == modules else [folder / m for m in kept]
        seen.update(modules)
    return paths


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


def is_pack_path(value: str) -> bool:
    """True when ``value`` names a folder rather than a registered pack: it holds a path
    separator (``./fc_nets``, ``packs/x``, ``/abs/path``). A bare name is never looked up in
    the working directory, so a folder there cannot stand in for a registered pack."""
    return any(sep and sep in value for sep in ("/", os.sep, os.altsep))


def get_pack(name: str, pm: pluggy.PluginManager | None = None) -> AssignmentPack:
    """The registered pack called ``name``, or the pack folder at ``name`` if it is a path
    (see :func:`is_pack_path`); :class:`PackChoiceError` names the registered ones otherwise."""
    if is_pack_path(name):
        folder = Path(name).expanduser()
        if not (folder / PACK_FILE).is_file():
            raise PackChoiceError(f"{name} is not an assignment pack: it has no {PACK_FILE}; "
                                  "pass a pack folder, or the name of a registered pack")
        return AssignmentPack.load(folder)
    packs = find_packs(pm)
    if name not in packs:
        known = ", ".join(sorted(packs)) or "none found"
        hint = f"; to use the folder {name}/ write it as a path, ./{name}" if (
            Path(name) / PACK_FILE).is_file() else ""
        raise PackChoiceError(f"no assignment pack named {name!r} (available: {known}{hint}); "
                              "run 'gradekit assignments' to list them")
    return packs[name]


def submission_files(path: Path) -> list[str]:
    """Paths (posix, inside the submission) of the ``.py`` and ``.ipynb`` files a submission
    holds (a notebook is where some courses' students write their code).

    Read from names alone: a folder is walked without following links, a zip's directory
    is listed (within the loader's entry cap) but nothing is extracted, and zips at the top
    of an upload folder count as folders of that name, as the loader unpacks them. Nothing
    in the files is read.
    """
    from gradekit.submission.limits import is_junk
    from gradekit.submission.package import python_files

    path = Path(path)
    if not path.is_dir():
        return _zipped_python_files(path) if path.is_file() else []
    files = python_files(path, (".py", ".ipynb"))
    with os.scandir(path) as entries:
        archives = sorted(e.name for e in entries if e.name.lower().endswith(".zip")
                          and e.is_file(follow_symlinks=False) and not is_junk((e.name,)))
    for name in archives:
        files += [f"{name}/{inside}" for inside in _zipped_python_files(path / name)]
    return files


def _zipped_python_files(archive: Path) -> list[str]:
    """The ``.py`` and ``.ipynb`` members of ``archive`` the loader would extract; none if it
    is no zip."""
    from gradekit.submission.limits import Limits, is_junk
    from gradekit.submission.safe_zip import UnsafeMemberError, central_directory, member_parts

    limits = Limits()
    try:
        directory = central_directory(archive)
        if directory is None or directory[0] > limits.max_entries:
            return []  # unreadable or forged: the loader says why when it grades it
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
    except (OSError, zipfile.BadZipFile):
        return []
    names = []
    for info in infos:
        try:
            parts = member_parts(info, limits)
        except UnsafeMemberError:
            continue
        if parts and not info.is_dir() and parts[-1].endswith((".py", ".ipynb")) \
                and not is_junk(parts):
            names.append("/".join(parts))
    return names


def pack_fit(pack: AssignmentPack, files: Iterable[str]) -> tuple[int, int]:
    """How well a submission holding ``files`` (see :func:`submission_files`) fits ``pack``:
    how many of the pack's module files it has by file name (or the notebook a module is
    written in), then how many of those sit at their path in the module map
    (``classifiers/fc_net.py``, not a loose ``fc_net.py``)."""
    files = list(files)
    names = {posixpath.basename(f) for f in files}
    notebooks = {name.lower() for name in names if name.endswith(".ipynb")}
    found = [rel for rel in set(pack.modules.values()) if posixpath.basename(rel) in names
             or pack.notebook_modules.get(rel, "").lower() in notebooks]
    exact = sum(any(f == rel or f.endswith("/" + rel) for f in files) for rel in found)
    return len(found), exact


def best_fit(files: Iterable[str], packs: Iterable[AssignmentPack]) -> AssignmentPack | None:
    """The one pack that fits ``files`` best (:func:`pack_fit`); ``None`` when no pack's
    module files are there at all or several packs fit equally well.

    The package folder the files sit in (``CV7062610/``, ``nndl/``) comes first: packs whose
    package it is are the only candidates when there are any (a CS231n submission that also
    holds ``cnn.py`` is not the conv-nets course's). Ties are broken by name, never by
    content: among versions of one pack that still tie, by taking the
    pack they all extend (the grade then hints at the version, see :mod:`gradekit.versions`);
    versions that tie with no base among them are for staff to choose between.
    """
    files = list(files)
    fits = [(fit, pack) for pack in packs if (fit := pack_fit(pack, files))[0]]
    folders = {part for f in files for part in f.split("/")[:-1]}
    fits = [(fit, pack) for fit, pack in fits if pack.package in folders] or fits
    if not fits:
        return None
    best = max(fit for fit, _ in fits)
    winners = [pack for fit, pack in fits if fit == best]
    if len({pack.family for pack in winners}) == 1:
        shortest = min(len(pack.lineage) for pack in winners)
        winners = [pack for pack in winners if len(pack.lineage) == shortest]
    return winners[0] if len(winners) == 1 else None


def detect_pack(submissions: Sequence[Path], packs: Iterable[AssignmentPack]) -> AssignmentPack:
    """The registered pack to grade ``submissions`` with, when staff did not name one.

    Each submission votes for the pack it fits best (:func:`best_fit`; a submission that
    fits none or several equally abstains), and the pack with the most votes wins. One
    submission therefore cannot switch the pack for the rest of a batch: it has one vote,
    and a tie for the most votes, like no vote at all, raises :class:`PackChoiceError`
    telling staff to name the pack. Nothing a submission wrote is read, only its file names.
    """
    packs = list(packs)
    fits = [best_fit(submission_files(s), packs) for s in submissions]
    votes = Counter(pack.name for pack in fits if pack is not None).most_common()
    if votes and (len(votes) == 1 or votes[0][1] > votes[1][1]):
        return next(pack for pack in packs if pack.name == votes[0][0])
    if votes:
        split = ", ".join(f"{count} for {name}" for name, count in votes)
        why = f"the submissions are split between packs ({split})"
    else:
        where = ("the submission" if len(submissions) == 1
                 else f"any of the {len(submissions)} submissions")
        why = f"no pack's module files are in {where}, or several packs fit it equally well"
    declared = "; ".join(f"{pack.name}: {', '.join(pack.modules.values())}"
                         for pack in sorted(packs, key=lambda p: p.name))
    raise PackChoiceError(f"cannot tell which assignment to grade: {why}. Pass --assignment "
                          f"NAME (module files per pack: {declared or 'no pack is registered'}).")
