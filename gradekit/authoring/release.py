"""Build what students receive: starter code and the student bundle of a pack.

The starter package is generated from ``reference/<api>/`` by stripping solution regions, for
exactly the files the pack names (its modules and its ``given`` files). The bundle adds the
pack's ``assignment.toml``, its visible tests with their recorded goldens, so that
``gradekit check`` works inside it with no reference anywhere, and a README.md written from
the pack.
"""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import tomli_w

from gradekit.authoring.notebooks import write_stripped_notebook
from gradekit.authoring.strip import Stripped, strip_source
from gradekit.packs import PACK_FILE, AssignmentPack


class ReleaseError(RuntimeError):
    """The release cannot be built as asked."""


def reference_package(pack: AssignmentPack, course_root: Path) -> Path:
    """The reference package that the pack's starter code is generated from."""
    folder = course_root / "reference" / pack.api
    if not folder.is_dir():
        raise ReleaseError(f"{folder} does not exist: the reference for API {pack.api!r} "
                           "must live in the course repository's reference/ folder")
    return folder


def placement(pack: AssignmentPack) -> dict[str, str]:
    """Each file of the starter, as the reference names it, and where it goes in a submission
    (relative to its top), in a stable order.

    A module's reference file follows its component prefix (``classifiers.fc_net`` is
    ``classifiers/fc_net.py``) and lands where the pack's ``[modules]`` puts it; a given
    file lands at the same path inside the package unless ``[release] layout`` moves it
    (UCLA's ``utils/solver.py``). Folders get their ``__init__.py`` from :func:`inits`.
    """
    files = {prefix.replace(".", "/") + ".py": f"{pack.package}/{rel}"
             for prefix, rel in pack.modules.items()}
    for rel in pack.given:
        files[rel] = pack.layout.get(rel, f"{pack.package}/{rel}")
    return dict(sorted(files.items(), key=lambda item: item[1]))


def inits(pack: AssignmentPack, files: dict[str, str]) -> dict[str, str]:
    """The ``__init__.py`` of every folder the starter's files land in, each with the
    reference file it is copied from (the same folder's inside the package; none, an
    empty file, outside it)."""
    found = {}
    for dest in files.values():
        for folder in Path(dest).parents:
            parts = folder.parts
            if not parts:
                continue
            inside = parts[0] == pack.package
            source = "/".join((*parts[1:], "__init__.py")) if inside else ""
            found.setdefault(str(folder / "__init__.py"), source)
    return {dest: found[dest] for dest in sorted(found)}


def _module_of(path: str) -> list[str]:
    parts = list(Path(path).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def relative_targets(node: ast.ImportFrom, home: list[str]) -> list[list[str]]:
    """The modules, as path parts, that the relative import ``node`` in a file of the folder
    ``home`` names: its module, or each name of a ``from . import a, b``."""
    base = home[: len(home) - (node.level - 1)]
    target = base + (node.module.split(".") if node.module else [])
    return [target] if node.module else [[*target, a.name] for a in node.names]


def relocate_imports(text: str, source: str, dest: str, files: dict[str, str]) -> str:
    """``text`` of the reference file ``source`` with its relative imports rewritten for its
    place ``dest`` in the submission (``files`` is :func:`placement`): a flattened
    ``fc_net.py`` imports ``.layers``, not ``..layers``, and a file outside the package
    imports the package by name."""
    lines = text.splitlines(keepends=True)
    home = list(Path(source).parent.parts)
    where = list(Path(dest).parent.parts)
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.ImportFrom) or not node.level:
            continue
        placed = []
        for module in relative_targets(node, home):
            stem = "/".join(module)
            found = files.get(stem + ".py") or files.get(stem + "/__init__.py")
            if found is None:
                break
            placed.append(_module_of(found))
        else:
            moved = placed[0] if node.module else placed[0][:-1]
            common = 0
            while (common < min(len(moved), len(where))
                   and moved[common] == where[common]):
                common += 1
            written = ("." * (len(where) - common + 1) + ".".join(moved[common:]) if common
                       else ".".join(moved))
            line = lines[node.lineno - 1]
            lines[node.lineno - 1] = re.sub(r"^(\s*from\s+)\.+[\w.]*(\s+import\b)",
                                            rf"\g<1>{written}\g<2>", line)
    return "".join(lines)


def build_starter(pack: AssignmentPack, course_root: Path, dest: Path, *,
                  keep_solutions: bool = False, reading: str | None = None) -> Path:
    """Write the starter package to ``dest/<package>/`` and return that folder.

    With ``keep_solutions`` the same files keep their solutions (markers removed): a complete,
    correct submission, as examples and end-to-end tests need. Either way a version whose API
    differs from the canonical one gets its adapters (:mod:`gradekit.authoring.adapters`;
    ``reading`` picks a dropout reading where the version allows two). The pack's notebooks
    go to ``dest/`` beside the package, stripped the same way; a notebook students write
    modules in goes inside it instead, and those modules are not written as files
    (:func:`written_in_notebooks`).
    """
    from gradekit.authoring.adapters import adapters

    source = reference_package(pack, course_root)
    files = placement(pack)
    for where, rel in inits(pack, files).items():
        out = dest / where
        out.parent.mkdir(parents=True, exist_ok=True)
        init = source / rel if rel else None
        out.write_text(init.read_text(encoding="utf-8") if init and init.is_file() else "",
                       encoding="utf-8")
    in_notebooks = written_in_notebooks(pack)
    for rel, where in files.items():
        if rel in in_notebooks:
            continue  # students write it in a notebook: its code goes into that notebook
        out = dest / where
        out.write_text(starter_text(pack, source, rel, files, keep_solutions=keep_solutions),
                       encoding="utf-8")
    package = dest / pack.package
    for prefix, text in adapters(pack, package, reading).items():
        with (package / pack.modules[prefix]).open("a", encoding="utf-8") as file:
            file.write(text)
    build_notebooks(pack, course_root, dest, keep_solutions=keep_solutions)
    return package


def write_solution(pack: AssignmentPack, course_root: Path, dest: Path,
                   reading: str | None = None) -> Path:
    """The reference as a correct submission to ``pack``'s version under ``dest``; returns
    its package folder."""
    return build_starter(pack, course_root, dest, keep_solutions=True, reading=reading)


def _stripped(pack: AssignmentPack, source: Path, rel: str, *,
              keep_solutions: bool = False) -> Stripped:
    """The reference file ``rel`` (under ``source``) stripped of its solutions unless
    ``keep_solutions``; the components the version gives keep theirs."""
    src = source / rel
    if not src.is_file():
        raise ReleaseError(f"pack {pack.name!r} lists {rel}, but {src} does not exist")
    given = frozenset(name for module, _, name in
                      (c.rpartition(".") for c in pack.given_components)
                      if module.replace(".", "/") + ".py" == rel)
    return strip_source(src.read_text(encoding="utf-8"), str(src),
                        keep_solutions=keep_solutions, keep=given)


def starter_text(pack: AssignmentPack, source: Path, rel: str, files: dict[str, str], *,
                 keep_solutions: bool = False) -> str:
    """The starter's text of the reference file ``rel`` (under ``source``), stripped of its
    solutions unless ``keep_solutions`` (the components the version gives keep theirs), its
    imports fitted to where ``files`` puts it."""
    text = _stripped(pack, source, rel, keep_solutions=keep_solutions).text
    return relocate_imports(text, rel, files[rel], files)


def student_work(pack: AssignmentPack, course_root: Path) -> dict[str, tuple[str, ...]]:
    """Each starter file with gaps to fill (its place in the release) and the definitions
    whose solutions were stripped from it (``relu_forward``, ``Net.loss``), in file order:
    read off the solution markers, so the release's README cannot list a function the
    starter already has, nor miss one it lacks."""
    source = reference_package(pack, course_root)
    notebooks = written_in_notebooks(pack)
    work: dict[str, tuple[str, ...]] = {}
    for rel, where in placement(pack).items():
        place = notebooks.get(rel, where)
        work[place] = work.get(place, ()) + _stripped(pack, source, rel).stubbed
    return {where: names for where, names in work.items() if names}


def supply_given(pack: AssignmentPack, course_root: Path, root: Path,
                 package: str) -> dict[str, str]:
    """Write into the submission at ``root`` (its package installed as ``package``) each
    file the course gave that it lacks, or whose copy Python cannot even parse, as the
    release has it; return each path written with why. A repository that commits only the
    files its student edited still imports, and a broken copy of given code costs nothing.
    A ``pinned`` file is the course's copy whatever the submission's says."""
    source = reference_package(pack, course_root)
    files = placement(pack)
    supplied = {}
    for rel in pack.given:
        parts = Path(files[rel]).parts
        where = Path(package, *parts[1:]) if parts[0] == pack.package else Path(*parts)
        out = root / where
        text = starter_text(pack, source, rel, files)
        if out.is_file() and not out.is_symlink():
            why = _unparsable(out)
            if why is None and rel in pack.pinned and out.read_bytes() != text.encode():
                why = "the course's copy is always graded"
            if why is None:
                continue
            out.unlink()  # written anew: never through a hard link to a file elsewhere
        elif out.exists() or out.is_symlink():
            continue  # a folder or link of that name is the submission's: its imports say so
        else:
            why = "missing"
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        except (FileExistsError, NotADirectoryError):
            continue  # a file where the course has a folder: left as the submission has it
        supplied[where.as_posix()] = why
    return supplied


def _unparsable(path: Path) -> str | None:
    """Why Python cannot parse ``path``, or ``None`` when it can."""
    try:
        ast.parse(path.read_bytes())
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        return f"its copy does not parse{f' (line {line})' if line else ''}"
    return None


def build_notebooks(pack: AssignmentPack, course_root: Path, dest: Path, *,
                    keep_solutions: bool = False) -> list[Path]:
    """Write the pack's notebooks under ``dest`` from their solution versions; the student
    versions say how to run the visible checks from a cell."""
    solutions = pack.solution_notebooks(course_root)
    source = reference_package(pack, course_root)
    written = []
    for spec in pack.notebooks:
        src = solutions / spec.path
        if not src.is_file():
            raise ReleaseError(f"pack {pack.name!r} lists the notebook {spec.path}, but its "
                               f"solution version {src} does not exist; put it there")
        parts = None if keep_solutions else [part.name for part in pack.parts]
        modules = [source / rel for rel in notebook_references(pack, spec.name)]
        target = dest / pack.package / spec.path if modules else dest / spec.path
        written.append(write_stripped_notebook(src, target,
                                               keep_solutions=keep_solutions, parts=parts,
                                               modules=modules))
    return written


def notebook_references(pack: AssignmentPack, notebook: str) -> list[str]:
    """The reference files (as :func:`placement` names them) whose code students write in
    ``notebook`` (the pack's ``[notebook_modules]``)."""
    return [prefix.replace(".", "/") + ".py" for prefix, rel in pack.modules.items()
            if pack.notebook_modules.get(rel) == notebook]


def written_in_notebooks(pack: AssignmentPack) -> dict[str, str]:
    """Each reference file whose code students write in a notebook, with where that notebook
    goes in the release: inside the package folder, beside the given files it imports."""
    return {rel: f"{pack.package}/{spec.path}" for spec in pack.notebooks
            for rel in notebook_references(pack, spec.name)}


def build_release(pack: AssignmentPack, course_root: Path, out: Path, *,
                  install: str | None = None) -> Path:
    """Write the whole student bundle of ``pack`` to ``out`` (which must not exist), with a
    README.md saying what to do (:mod:`gradekit.authoring.readme`; ``install`` is what
    ``pip install`` takes to install gradekit where the course publishes it)."""
    from gradekit.authoring.readme import release_readme

    if out.exists() and any(out.iterdir()):
        raise ReleaseError(f"{out} is not empty: choose a new folder for the release")
    for name, folder in pack.chain:
        if (folder / "tests" / "golden_cases.py").is_file() and not (
                folder / "tests" / "goldens.npz").is_file():
            raise ReleaseError(f"{folder / 'tests' / 'goldens.npz'} is missing: run "
                               f"'gradekit author goldens {name}' first")
    out.mkdir(parents=True, exist_ok=True)
    build_starter(pack, course_root, out)
    (out / PACK_FILE).write_text(release_toml(pack), encoding="utf-8")
    copy_visible_tests(pack, out / "tests")
    (out / "README.md").write_text(release_readme(pack, course_root, install=install),
                                   encoding="utf-8")
    return out


def copy_visible_tests(pack: AssignmentPack, dest: Path) -> None:
    """The visible tests of ``pack``'s lineage into one folder: the nearest pack's tests at
    the top, a base's in a subfolder of its name, without the modules a nearer pack replaces
    (:func:`gradekit.packs.overlay`), so ``gradekit check`` runs them as the grader does."""
    paths = pack.visible_test_paths()
    top = None
    for name, folder in pack.chain:
        tests = folder / "tests"
        kept = {p for p in paths if p == tests or p.parent.is_relative_to(tests)}
        if not kept:
            continue

        def ignore(where: str, names: list[str], tests=tests, kept=kept) -> set[str]:
            dropped = {n for n in names if n in ("__pycache__", ".pytest_cache")
                       or n.endswith(".pyc")}
            if tests not in kept:
                dropped |= {n for n in names if n.startswith("test_") and n.endswith(".py")
                            and Path(where, n) not in kept}
            return dropped

        top = top or tests
        shutil.copytree(tests, dest if tests == top else dest / name, ignore=ignore)


def release_toml(pack: AssignmentPack) -> str:
    """The ``assignment.toml`` a student bundle carries: the version's own settings with what
    it inherits merged in, so the bundle stands alone (no ``extends`` to a pack it lacks)."""
    data = {key: value for key, value in pack.data.items() if key != "extends"}
    return (f"# {pack.title}: generated from the course's pack {pack.name!r}\n"
            + tomli_w.dumps(data))
