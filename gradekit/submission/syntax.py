"""Report files Python cannot even parse, with the line, before any test runs.

A syntax error otherwise surfaces as an import failure in the worker, far from its cause;
``ast.parse`` names the file and line without executing anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

from gradekit.submission.findings import Finding, FindingKind


def parse_error(source: bytes) -> tuple[int | None, str] | None:
    """``(line, message)`` when ``source`` is not valid Python, else ``None``."""
    try:
        ast.parse(source)
    except SyntaxError as exc:
        return exc.lineno, exc.msg
    except (ValueError, RecursionError, MemoryError) as exc:
        return None, f"it could not be parsed ({type(exc).__name__})"
    return None


def check_syntax(
    tree: Path, files: list[str], prefixes: dict[str, str], package_dir: str
) -> list[Finding]:
    """A finding for every file in ``files`` (relative to ``tree``) that does not parse.

    ``prefixes`` maps a file to the component prefix it serves; ``package_dir`` is the
    package folder, whose ``__init__.py`` breaks every module when it is broken.
    """
    findings = []
    package_init = "/".join(p for p in (package_dir, "__init__.py") if p)
    for path in files:
        error = parse_error((tree / path).read_bytes())
        if error is None:
            continue
        line, message = error
        prefix = prefixes.get(path)
        if prefix is not None:
            effect = f"the {prefix} tests will score 0"
        elif path == package_init:
            effect = "no module of the package can be tested"
        else:
            effect = "every module that imports it fails too"
        where = f"{path} line {line}" if line else path
        findings.append(Finding(
            FindingKind.SYNTAX_ERROR,
            path,
            f"{where}: {message}. Python cannot import this file, so {effect}.",
            prefix,
            line,
        ))
    return findings
