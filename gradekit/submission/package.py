"""Find the student's package in an unpacked submission, by file names and ``ast`` only.

Courses rename the CS231n package (``cs682``, ``nndl``, ``CV7062610``) and move modules
(UCLA's ``nndl/fc_net.py`` instead of ``classifiers/fc_net.py``), and students nest it in
extra folders or keep backup copies. Every folder that holds some of the expected files is a
candidate; the winner holds the most of them. Student code is never imported here.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import posixpath
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from keyword import iskeyword
from pathlib import Path

from gradekit.submission.findings import Finding, FindingKind
from gradekit.submission.limits import is_junk


@dataclass(frozen=True)
class PackageMatch:
    """The folder chosen as the student package and where each expected module sits in it.

    ``directory`` is relative to the unpacked tree (``""`` when the modules lie loose at its
    top); ``layout`` maps a component prefix to the module's path inside ``directory``.
    """

    directory: str
    layout: dict[str, str]
    exact: int
    findings: list[Finding] = field(default_factory=list)

    @property
    def score(self) -> tuple[int, int]:
        return len(self.layout), self.exact


def python_files(tree: Path, suffixes: tuple[str, ...] = (".py",)) -> list[str]:
    """Posix paths, relative to ``tree``, of every ``.py`` file (or file ending in one of
    ``suffixes``) outside editor clutter."""
    found = []
    for directory, dirnames, filenames in os.walk(tree):
        rel = Path(directory).relative_to(tree).parts
        dirnames[:] = sorted(d for d in dirnames if not is_junk((*rel, d)))
        found += ["/".join((*rel, f)) for f in filenames if f.endswith(suffixes)]
    return sorted(found)


def _candidates(files: list[str], expected: dict[str, str]) -> list[PackageMatch]:
    """One match per folder holding expected files; an exact path beats a flattened one."""
    layouts: dict[str, dict[str, tuple[str, bool]]] = {}
    for path in files:
        for prefix, rel in expected.items():
            if path == rel or path.endswith("/" + rel):
                directory = path[: -len(rel)].rstrip("/")
                layouts.setdefault(directory, {})[prefix] = (rel, True)
            elif "/" in rel and posixpath.basename(path) == posixpath.basename(rel):
                layout = layouts.setdefault(posixpath.dirname(path), {})
                layout.setdefault(prefix, (posixpath.basename(rel), False))
    return [
        PackageMatch(
            directory,
            {prefix: layout[prefix][0] for prefix in expected if prefix in layout},
            sum(exact for _, exact in layout.values()),
        )
        for directory, layout in layouts.items()
    ]


def _depth(directory: str) -> int:
    return directory.count("/") + 1 if directory else 0


def find_package(tree: Path, expected: dict[str, str]) -> PackageMatch | None:
    """The folder under ``tree`` that best matches ``expected`` (prefix -> relative file).

    Best means: most expected modules, then most at their exact path (not flattened), then
    the shallowest folder, then the alphabetically first. Candidates tied with the winner
    on both counts give an ambiguity finding: the choice is deterministic, but the student
    should remove the copy they do not want graded.
    """
    ranked = sorted(
        _candidates(python_files(tree), expected),
        key=lambda m: (-len(m.layout), -m.exact, _depth(m.directory), m.directory),
    )
    if not ranked:
        return None
    best = ranked[0]
    rivals = [m for m in ranked[1:] if m.score == best.score]
    if not rivals:
        return best
    chosen = repr(best.directory or ".")
    others = ", ".join(repr(m.directory or ".") for m in rivals)
    return replace(best, findings=[Finding(
        FindingKind.AMBIGUOUS_PACKAGE,
        best.directory or ".",
        f"{len(rivals) + 1} folders look like your homework package ({chosen} and {others}, "
        f"each with {len(best.layout)} of {len(expected)} modules); {chosen} was graded. "
        "Remove the copies you do not want graded.",
    )])


def dotted(rel: str) -> str:
    """``classifiers/fc_net.py`` -> ``classifiers.fc_net``."""
    return rel.removesuffix(".py").replace("/", ".")


def is_package_name(name: str) -> bool:
    """True when ``name`` can be imported as a top-level package."""
    return name.isidentifier() and not iskeyword(name)


def _installed(name: str) -> bool:
    """True for names the grader itself can import (``torch.optim`` is not the homework).

    ``find_spec`` of a top-level name only searches the import path; it runs no code.
    """
    if name in sys.stdlib_module_names:
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _import_statements(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements at any statement depth; expressions are never entered (fast)."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        for block in ("body", "orelse", "finalbody", "handlers"):
            yield from _import_statements(getattr(node, block, []))


def imported_package(trees: Mapping[str, ast.Module]) -> str | None:
    """The package name the student's own imports give the modules in ``trees``, if any.

    ``trees`` are the parsed files of one folder, keyed by path inside it.
    ``from cs682.layers import *`` inside a loose ``fc_net.py`` tells that the files belong
    to a package called ``cs682``; the most frequent such name wins.
    """
    local = {dotted(rel) for rel in trees}
    votes: Counter[str] = Counter()
    for module in trees.values():
        for node in _import_statements(module.body):
            if isinstance(node, ast.ImportFrom):
                if node.level or not node.module:
                    continue
                imported = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                imported = [a.name for a in node.names]
            for name in imported:
                head, _, rest = name.partition(".")
                if rest in local and is_package_name(head) and not _installed(head):
                    votes[head] += 1
    return min(votes, key=lambda n: (-votes[n], n)) if votes else None
