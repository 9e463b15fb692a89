"""The mutants ``gradekit author validate`` grades: generated ones and a pack's named ones.

A mutant is a list of text edits to the reference written as a correct submission
(:func:`gradekit.authoring.release.write_solution`), each edit a snippet that occurs exactly
once in its file and what replaces it. Generated mutants come from
:mod:`~gradekit.authoring.validate.operators`, applied to the reference file and turned into
an edit of the submission's copy; named mutants are the real student bugs a pack lists in
``mutants.toml``, gathered along its lineage (a nearer pack's entry replaces a base's of the
same name), each with the parts it must cost. Nothing here writes to the reference.
"""

from __future__ import annotations

import ast
import difflib
import random
import tomllib
from dataclasses import dataclass
from pathlib import Path

from gradekit.authoring.release import placement, reference_package, relative_targets
from gradekit.authoring.strip import BEGIN, END
from gradekit.authoring.validate.operators import mutate, solution_lines
from gradekit.packs import AssignmentPack, PackError

MUTANTS_FILE = "mutants.toml"
_MUTANT_KEYS = frozenset({"name", "module", "edits", "costs", "source", "example"})


@dataclass(frozen=True)
class Mutant:
    """One single-bug variant of the correct submission.

    ``costs`` is set for a named mutant: the parts it must lose points in, none for a bug in
    code this version gives or does not grade. ``what`` says the bug in words.
    """

    name: str
    file: str                            # the file the bug is in, from the submission's top
    component: str                       # the definition it is in: ``layers.relu_backward``
    edits: tuple[tuple[str, str], ...]   # (text that occurs exactly once there, its bug)
    what: str
    operator: str = "named"
    costs: frozenset[str] | None = None
    source: str = ""                     # where a named bug was seen

    @property
    def named(self) -> bool:
        return self.costs is not None

    def apply(self, top: Path) -> None:
        """Make the bug in the submission at ``top`` (a copy, never the reference)."""
        path = top / self.file
        path.write_text(self.mutated(path.read_text(encoding="utf-8"), path), encoding="utf-8")

    def mutated(self, text: str, where: Path | str = "the module") -> str:
        for correct, buggy in self.edits:
            if text.count(correct) != 1:
                raise PackError(f"mutant {self.name!r}: {correct!r} is not in {where} exactly "
                                f"once; update its entry in {MUTANTS_FILE} to the reference's "
                                "current text")
            text = text.replace(correct, buggy)
        return text

    def diff(self, top: Path) -> str:
        """The change as a unified diff of the correct submission at ``top``."""
        text = (top / self.file).read_text(encoding="utf-8")
        return "\n".join(difflib.unified_diff(
            text.splitlines(), self.mutated(text).splitlines(), f"a/{self.file}",
            f"b/{self.file}", lineterm="", n=1))


def graded_definitions(module: str, source: str, tested: set[str]) -> list[str]:
    """Top-level functions and classes of ``module`` that the tests grade: those a test asks
    the submission for (``tested``, component names), and the private helpers they use."""
    tree = ast.parse(source)
    definitions = {node.name: node for node in tree.body
                   if isinstance(node, ast.FunctionDef | ast.ClassDef)}
    graded = [name for name in definitions if f"{module}.{name}" in tested]
    todo = list(graded)
    while todo:
        for node in ast.walk(definitions[todo.pop()]):
            used = node.id if isinstance(node, ast.Name) else None
            if used in definitions and used.startswith("_") and used not in graded:
                graded.append(used)
                todo.append(used)
    return [name for name in definitions if name in graded]


def _imports(pack: AssignmentPack, course_root: Path) -> dict[str, dict[str, set[str]]]:
    """Module prefix -> the other starter modules its reference file imports relatively,
    each with the names it takes from it."""
    reference = reference_package(pack, course_root)
    modules = set(starter_files(pack))
    imports: dict[str, dict[str, set[str]]] = {}
    for module in modules:
        source = (reference / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8")
        found: dict[str, set[str]] = {}
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.level:
                for target in relative_targets(node, module.split(".")[:-1]):
                    if ".".join(target) in modules:
                        found.setdefault(".".join(target), set()).update(
                            alias.name for alias in node.names)
        imports[module] = found
    return imports


def graded_names(pack: AssignmentPack, course_root: Path, asked: set[str]) -> set[str]:
    """The components the tests ``asked`` for, and what the pack's modules import from the
    other files students write (``classifiers.regularization.l2_penalty``, which both nets
    use): the tests grade those through the code that calls them."""
    graded = set(asked)
    for module, imported in _imports(pack, course_root).items():
        if module in pack.modules:
            graded |= {f"{other}.{name}" for other, names in imported.items()
                       if other not in pack.modules for name in names}
    return graded


def importers(pack: AssignmentPack, course_root: Path) -> dict[str, set[str]]:
    """Module prefix -> the modules of the starter whose code can run it: itself and those
    importing it, directly or through another (relative imports of the reference)."""
    imports = _imports(pack, course_root)
    users = {module: {user for user, imported in imports.items() if module in imported}
             for module in imports}
    reach = {}
    for module in imports:
        seen, todo = {module}, [module]
        while todo:
            for user in users[todo.pop()] - seen:
                seen.add(user)
                todo.append(user)
        reach[module] = seen
    return reach


def untested(pack: AssignmentPack, course_root: Path, tested: set[str]) -> list[str]:
    """Public definitions with solution regions that no test asks for and the version does
    not list as given or absent: a student's bug there costs nothing."""
    reference = reference_package(pack, course_root)
    listed = {*pack.given_components, *pack.absent_components, *tested}
    out = []
    for module in starter_files(pack):
        source = (reference / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8")
        lines = solution_lines(source)
        for node in ast.parse(source).body:
            if (isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_")
                    and f"{module}.{node.name}" not in listed
                    and lines & set(range(node.lineno, (node.end_lineno or node.lineno) + 1))):
                out.append(f"{module}.{node.name}")
    return out


def starter_files(pack: AssignmentPack) -> dict[str, str]:
    """Module prefix (``classifiers.fc_net``) -> where the file is in a submission, for every
    file of the starter whose code students write: the pack's modules and the given files
    with solution regions (``classifiers/regularization.py``), never a pinned file."""
    placed = placement(pack)
    return {rel.removesuffix(".py").replace("/", "."): where for rel, where in placed.items()
            if rel not in pack.pinned}


def generated_mutants(pack: AssignmentPack, course_root: Path, top: Path,
                      tested: set[str]) -> list[Mutant]:
    """Every generated mutant of the code the tests grade (:func:`graded_definitions`), as
    edits of the correct submission at ``top``."""
    reference = reference_package(pack, course_root)
    out = []
    for module, where in starter_files(pack).items():
        ref_rel = module.replace(".", "/") + ".py"
        source = (reference / ref_rel).read_text(encoding="utf-8")
        if BEGIN not in source:
            continue
        target = (top / where).read_text(encoding="utf-8")
        seen: set[str] = set()
        for candidate in mutate(source, graded_definitions(module, source, tested)):
            if candidate.source in seen:  # two operators may write the same change
                continue
            seen.add(candidate.source)
            edit = _edit(source, candidate.source, target)
            if edit is None:
                continue
            out.append(Mutant(
                name=f"{ref_rel}:{candidate.line}:{candidate.operator}#{len(out)}",
                file=where, component=f"{module}.{candidate.definition}",
                edits=(edit,), what=candidate.what, operator=candidate.operator))
    return out


def _edit(before: str, after: str, target: str) -> tuple[str, str] | None:
    """The change from ``before`` to ``after`` as one edit of ``target``: the changed lines
    with as much unchanged context as makes them occur once there (never a marker line,
    which the submission's copy lacks); None if no such snippet exists."""
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    changes = [op for op in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()
               if op[0] != "equal"]
    i1, i2, j1, j2 = changes[0][1], changes[-1][2], changes[0][3], changes[-1][4]

    def marker(line: str) -> bool:
        return line.strip().startswith((BEGIN, END))

    low, high = i1, i2
    while True:
        old = "".join(a[low:high])
        if old.strip() and target.count(old) == 1:
            return old, "".join(b[j1 - (i1 - low): j2 + (high - i2)])
        if low > 0 and not marker(a[low - 1]):
            low -= 1
        elif high < len(a) and not marker(a[high]):
            high += 1
        else:
            return None


def sample(mutants: list[Mutant], count: int | None, seed: str) -> list[Mutant]:
    """``count`` of ``mutants``, drawn the same way every run (seeded by ``seed``), spread
    over the components: one of each in turn, so a bounded sample still reaches them all."""
    if count is None or count >= len(mutants):
        return mutants
    rng = random.Random(seed)
    by_component: dict[str, list[Mutant]] = {}
    for mutant in mutants:
        by_component.setdefault(mutant.component, []).append(mutant)
    pools = [rng.sample(group, len(group)) for _, group in sorted(by_component.items())]
    rng.shuffle(pools)
    picked: list[Mutant] = []
    while len(picked) < count:
        for pool in pools:
            if pool and len(picked) < count:
                picked.append(pool.pop())
    return sorted(picked, key=mutants.index)


def catalogue(pack: AssignmentPack) -> dict[str, tuple[dict, Path]]:
    """The ``[[mutant]]`` entries of the pack's lineage by name, with the file each is
    from; a nearer pack's entry replaces its base's of the same name."""
    entries: dict[str, tuple[dict, Path]] = {}
    for _, folder in reversed(pack.chain):
        file = folder / MUTANTS_FILE
        if file.is_file():
            for entry in _read(file):
                entries[entry["name"]] = (entry, file)
    return entries


def named_mutants(pack: AssignmentPack, top: Path,
                  inherited: bool = True) -> tuple[list[Mutant], list[str]]:
    """The pack's named mutants (:func:`catalogue`; only its own entries unless
    ``inherited``) as edits of the correct submission at ``top``, and the names of those
    inherited from a base that do not apply to this version (their text is not in it). A bug
    in code this version gives or does not grade must cost nothing, whatever the entry says
    it costs where it was written."""
    files = starter_files(pack)
    not_graded = {*pack.given_components, *pack.absent_components}
    out, skipped = [], []
    for entry, file in catalogue(pack).values():
        if not inherited and file.parent != pack.path:
            continue
        module = entry["module"]
        edits = tuple((old, new) for old, new in entry["edits"])
        text = (top / files[module]).read_text(encoding="utf-8") if module in files else ""
        if file.parent != pack.path and any(text.count(old) != 1 for old, _ in edits):
            skipped.append(entry["name"])  # a base's bug in code this version writes otherwise
            continue
        if module not in files:
            raise PackError(f"{file}: mutant {entry['name']!r} is in module {module!r}, which "
                            f"pack {pack.name!r} does not have")
        component = f"{module}.{_definition_at(text, edits[0][0], entry['name'], file)}"
        costs = frozenset() if component in not_graded else frozenset(entry["costs"])
        out.append(Mutant(name=entry["name"], file=files[module], component=component,
                          edits=edits, what=entry.get("source", "") or entry["name"],
                          costs=costs, source=entry.get("source", "")))
    return out, skipped


def _read(file: Path) -> list[dict]:
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PackError(f"{file}: {exc}") from exc
    entries = data.get("mutant", [])
    for entry in entries:
        unknown = set(entry) - _MUTANT_KEYS
        missing = {"name", "module", "edits", "costs"} - set(entry)
        if unknown or missing:
            raise PackError(f"{file}: mutant {entry.get('name', '?')!r} has "
                            f"{'unknown keys ' + ', '.join(sorted(unknown)) if unknown else ''}"
                            f"{'; ' if unknown and missing else ''}"
                            f"{'no ' + ', '.join(sorted(missing)) if missing else ''}; "
                            f"each [[mutant]] has {', '.join(sorted(_MUTANT_KEYS))}")
        if not all(isinstance(e, list) and len(e) == 2 for e in entry["edits"]):
            raise PackError(f"{file}: mutant {entry['name']!r}: edits are [old, new] pairs")
    return entries


def _definition_at(text: str, snippet: str, name: str, file: Path) -> str:
    """The top-level definition of ``text`` holding ``snippet``."""
    if text.count(snippet) != 1:
        raise PackError(f"{file}: mutant {name!r}: {snippet!r} is not in the reference "
                        "exactly once; update the entry to the reference's current text")
    line = text[: text.index(snippet)].count("\n") + 1
    for node in ast.parse(text).body:
        if (isinstance(node, ast.FunctionDef | ast.ClassDef)
                and node.lineno <= line <= (node.end_lineno or node.lineno)):
            return node.name
    return "<module>"
