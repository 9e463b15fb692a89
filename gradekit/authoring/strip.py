"""Turn reference code into starter code by cutting out the marked solution regions.

Instructors mark what students must write::

    def relu_forward(x):
        ### BEGIN SOLUTION
        out = np.maximum(x, 0)
        ### END SOLUTION
        return out, x

Each region is replaced, at the indentation of its ``BEGIN`` line, by the region's
``### STUB`` lines (marker removed) or, when it has none, by
``raise NotImplementedError("<function>: not implemented yet")``; a region without stubs
that holds whole definitions (a private helper of the solution, say) or sits at module level
simply disappears. Keeping a single
source of truth means the starter code can never drift from the reference, and
``keep_solutions=True`` gives the complete solution without the markers.
"""

from __future__ import annotations

import ast
import re

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = "### STUB"
_DEF = re.compile(r"^\s*(?:async\s+)?(?:def|class)\s+(\w+)")


class StripError(ValueError):
    """The solution markers of a file are unbalanced or leave invalid Python."""


def _enclosing_name(lines: list[str], index: int) -> str:
    """Dotted name of the definitions around line ``index``, e.g. ``Net.loss``."""
    indent = len(lines[index]) - len(lines[index].lstrip())
    names = []
    for line in reversed(lines[:index]):
        match = _DEF.match(line)
        depth = len(line) - len(line.lstrip())
        if match and depth < indent:
            names.append(match.group(1))
            indent = depth
    return ".".join(reversed(names)) or "this part"


def _defines(region: list[str]) -> bool:
    """True when the region's first statement starts a definition (def, class, decorator)."""
    code = [ln.strip() for ln in region if ln.strip() and not ln.strip().startswith("#")]
    return bool(code) and (code[0].startswith("@") or _DEF.match(code[0]) is not None)


def strip_solutions(source: str, filename: str = "<source>", *,
                    keep_solutions: bool = False, magics: bool = False,
                    keep: frozenset[str] = frozenset()) -> str:
    """Return ``source`` with every solution region replaced by its stub (or kept).

    ``keep`` names top-level functions and classes whose regions stay, solved: code the
    course gives in this version (``softmax_loss``). ``magics`` allows IPython's ``%`` and
    ``!`` lines (a notebook cell's ``%cd``, ``!python setup.py ...``): the result must still
    be Python once IPython has read them."""
    lines = source.splitlines()
    out: list[str] = []
    region: list[str] | None = None
    begin_at = 0
    for number, line in enumerate(lines, start=1):
        marker = line.strip()
        if marker.startswith(BEGIN):
            if region is not None:
                raise StripError(f"{filename}:{number}: nested {BEGIN} (open since {begin_at})")
            region, begin_at = [], number
        elif marker.startswith(END):
            if region is None:
                raise StripError(f"{filename}:{number}: {END} without {BEGIN}")
            indent = re.match(r"\s*", lines[begin_at - 1]).group()
            # one space after the marker is its own; more is the stub's indentation
            stubs = [_after(ln.strip(), STUB + " ") or ln.strip()[len(STUB):] for ln in region
                     if ln.strip().startswith(STUB)]
            given = _enclosing_name(lines, begin_at - 1).split(".")[0] in keep
            if keep_solutions or given:
                out.extend(ln for ln in region if not ln.strip().startswith(STUB))
            elif stubs or (indent and not _defines(region)):
                name = _enclosing_name(lines, begin_at - 1)
                stubs = stubs or [f'raise NotImplementedError("{name}: not implemented yet")']
                out.extend(indent + stub for stub in stubs)
            region = None
        elif region is not None:
            region.append(line)
        else:
            out.append(line)
    if region is not None:
        raise StripError(f"{filename}:{begin_at}: {BEGIN} is never closed")
    result = "\n".join(out) + ("\n" if source.endswith("\n") else "")
    code = result
    if magics:
        from gradekit.notebooks.cells import as_python

        code = as_python(result)
    try:
        ast.parse(code, filename=filename)
    except SyntaxError as exc:
        raise StripError(f"{filename}: stripped code is not valid Python: {exc}") from exc
    return result


def _after(text: str, prefix: str) -> str | None:
    return text[len(prefix):] if text.startswith(prefix) else None


def has_solutions(source: str) -> bool:
    """True when ``source`` contains at least one solution region."""
    return any(line.strip().startswith(BEGIN) for line in source.splitlines())
