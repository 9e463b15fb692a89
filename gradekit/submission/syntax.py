"""Parse the student's package once, and report files Python cannot even parse.

A syntax error otherwise surfaces as an import failure in the worker, far from its cause;
``ast.parse`` names the file and line without executing anything. The parsed trees are kept
for the import analysis of :mod:`gradekit.submission.package`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from gradekit.submission.findings import Finding, FindingKind


@dataclass
class ParsedSources:
    """Files of one folder (keys relative to it): their trees, or why they do not parse."""

    trees: dict[str, ast.Module] = field(default_factory=dict)
    errors: dict[str, tuple[int | None, str]] = field(default_factory=dict)


def parse_sources(folder: Path, files: list[str]) -> ParsedSources:
    """Parse every file of ``files`` (relative to ``folder``) exactly once."""
    parsed = ParsedSources()
    for rel in files:
        try:
            parsed.trees[rel] = ast.parse((folder / rel).read_bytes())
        except SyntaxError as exc:
            parsed.errors[rel] = (exc.lineno, exc.msg)
        except (ValueError, RecursionError, MemoryError) as exc:
            parsed.errors[rel] = (None, f"it could not be parsed ({type(exc).__name__})")
    return parsed


def syntax_findings(
    errors: dict[str, tuple[int | None, str]], layout: dict[str, str], directory: str
) -> list[Finding]:
    """A finding per file that does not parse, saying which tests it costs.

    ``errors`` and ``layout`` (prefix -> file) are relative to the package folder
    ``directory``, itself relative to the submission; a broken ``__init__.py`` breaks every
    module of the package.
    """
    prefix_of = {rel: prefix for prefix, rel in layout.items()}
    findings = []
    for rel, (line, message) in sorted(errors.items()):
        prefix = prefix_of.get(rel)
        if prefix is not None:
            effect = f"the {prefix} tests will score 0"
        elif rel == "__init__.py":
            effect = "no module of the package can be tested"
        else:
            effect = "every module that imports it fails too"
        path = f"{directory}/{rel}" if directory else rel
        where = f"{path} line {line}" if line else path
        findings.append(Finding(
            FindingKind.SYNTAX_ERROR,
            path,
            f"{where}: {message}. Python cannot import this file, so {effect}.",
            prefix,
            line,
        ))
    return findings
