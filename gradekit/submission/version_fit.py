"""Which version of a pack a submission was written for, read from its source with ``ast``.

A 2017 student graded with the 2021 pack loses every net test to ``unexpected keyword
argument 'normalization'``. Staff choose the pack (a student never does), so this only
hints: each version of the family expects some constructor keywords and optimizer state
keys (:class:`gradekit.versions.Version`); the submission's ``__init__`` arguments and the
string keys its update rules use are counted against each, and when another version fits
strictly better than the one graded, the grade says which and how to switch. Student code is
parsed, never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from gradekit.packs import AssignmentPack
from gradekit.versions import Version

#: Canonical state keys per update rule, for versions that do not rename them.
CANONICAL_STATE = {"sgd_momentum": ("velocity",), "rmsprop": ("cache",), "adam": ("m", "v")}


@dataclass(frozen=True)
class Signatures:
    """What the submission's source declares: ``__init__`` arguments per class, string
    constants per top-level function."""

    arguments: dict[str, frozenset[str]]
    strings: dict[str, frozenset[str]]


def read_signatures(sources: Iterable[Path]) -> Signatures:
    """The signatures of the classes and functions defined in ``sources`` (unreadable files
    contribute nothing: their own findings say why)."""
    arguments: dict[str, frozenset[str]] = {}
    strings: dict[str, frozenset[str]] = {}
    for path in sources:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except (OSError, SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                        args = item.args
                        arguments[node.name] = frozenset(
                            a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs))
            elif isinstance(node, ast.FunctionDef):
                strings[node.name] = frozenset(
                    n.value for n in ast.walk(node)
                    if isinstance(n, ast.Constant) and isinstance(n.value, str))
    return Signatures(arguments, strings)


def expectations(pack: AssignmentPack,
                 family: Iterable[AssignmentPack]) -> list[tuple[str, str, str]]:
    """(class or rule, name, what) triples a submission to ``pack`` should show.

    Only what differs somewhere in the ``family`` is asked: the package's name, every
    keyword some version renames (under this version's name), and each renamed rule's state
    keys as this version keys them.
    """
    family = list(family)
    version, versions = Version.of(pack), [Version.of(p) for p in family]
    out = []
    if len({p.package for p in family}) > 1:
        out.append(("", pack.package, "package"))
    renamed = {(component, canonical) for v in versions
               for component, table in v.keywords.items() for canonical in table}
    for component, canonical in sorted(renamed):
        keyword = version.keywords.get(component, {}).get(canonical)
        cls = component.rsplit(".", 1)[-1]
        out.append((cls, keyword.name if keyword else canonical, "keyword"))
    rules = {rule for v in versions for rule in v.state_keys}
    for rule in sorted(rules):
        names = dict(version.state_keys.get(rule, {}))
        for key in CANONICAL_STATE.get(rule, ()):
            out.append((rule, names.get(key, key), "state key"))
    return out


def _shows(signatures: Signatures, package: str | None, owner: str, name: str,
           what: str) -> bool:
    if what == "package":
        return name == package
    seen = signatures.arguments if what == "keyword" else signatures.strings
    return name in seen.get(owner, frozenset())


def better_versions(pack: AssignmentPack, packs: Mapping[str, AssignmentPack],
                    sources: Iterable[Path],
                    package: str | None = None) -> tuple[list[AssignmentPack], list[str]]:
    """The versions of ``pack``'s family that fit the submission (its module ``sources``,
    its package folder's name) strictly better than ``pack``, ties together, and what the
    first of them recognised that ``pack`` does not expect. Only versions that grade every
    module ``pack`` grades are candidates."""
    # a version without some of this pack's modules (no conv nets) would drop their grades
    family = sorted((p for p in packs.values() if p.family == pack.family
                     and set(pack.modules) <= set(p.modules)), key=lambda p: p.name)
    if len(family) < 2:
        return [], []
    signatures = read_signatures(sources)
    expected = {p.name: expectations(p, family) for p in family}
    scores = {name: sum(_shows(signatures, package, *e) for e in wants)
              for name, wants in expected.items()}
    best = max(scores.values())
    if best <= scores[pack.name]:
        return [], []
    winners = [p for p in family if scores[p.name] == best]
    seen = [f"{'package' if what == 'package' else owner + ' ' + what} {name!r}"
            for owner, name, what in expected[winners[0].name]
            if _shows(signatures, package, owner, name, what)
            and (owner, name, what) not in expected[pack.name]]
    return winners, seen
