"""Turn reference code into starter code by cutting out the marked solution regions.

Instructors mark what students must write::

    def relu_forward(x):
        ### BEGIN SOLUTION
        out = np.maximum(x, 0)
        ### END SOLUTION
        return out, x

Each region is replaced, at the indentation of its ``BEGIN`` line, by the region's
``### STUB`` lines (marker removed) or, when it has none, by a ``# TODO`` line saying what to
write there and ``raise NotImplementedError("<function>: not implemented yet")``, so no gap
is blank and a test names what is missing; a region without stubs that holds whole
definitions (a private helper of the solution, say) or sits at module level simply
disappears, and the blank lines around it close up to the widest gap they had. Keeping a
single source of truth means the starter code can never drift from the reference, and
``keep_solutions=True`` gives the complete solution without the markers.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = "### STUB"
TODO = "# TODO:"
_DEF = re.compile(r"^\s*(?:async\s+)?(?:def|class)\s+(\w+)")


class StripError(ValueError):
    """The solution markers of a file are unbalanced or leave invalid Python."""


@dataclass(frozen=True)
class Stripped:
    """A stripped source and the dotted names (``relu_forward``, ``Net.loss``) of the
    definitions whose regions became stubs, in file order: what a student must write."""

    text: str
    stubbed: tuple[str, ...]


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


def _ends_block(lines: list[str], end_at: int, indent: str) -> bool:
    """True when no statement of the region's block follows its ``END`` line (line
    ``end_at``, from 1): the region is the whole rest of the function."""
    for line in lines[end_at:]:
        if line.strip():
            return len(line) - len(line.lstrip()) < len(indent)
    return True


def _attributes(region: list[str]) -> list[str]:
    """``self.<name>`` attributes the solution's region assigns at its own level, in order:
    what a constructor must set up (``params``, ``reg``), the names the tests read."""
    body = [ln for ln in region if not ln.strip().startswith(STUB)]
    width = min((len(ln) - len(ln.lstrip()) for ln in body if ln.strip()), default=0)
    try:
        tree = ast.parse("\n".join(ln[width:] for ln in body))
    except SyntaxError:
        return []
    found: dict[str, None] = {}
    for node in tree.body:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign | ast.AugAssign) else [])
        for target in targets:
            if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                    and target.value.id == "self"):
                found[target.attr] = None
    return list(found)


def _todo(name: str, region: list[str], whole: bool, indent: str) -> list[str]:
    """The ``# TODO`` comment (wrapped to 100 columns) that stands where a region without
    stubs was."""
    what = f"implement {name}" if whole else f"write this part of {name}"
    attributes = _attributes(region) if name.endswith(".__init__") else []
    if attributes:
        what += " (set " + ", ".join(f"self.{a}" for a in attributes) + ")"
    return textwrap.wrap(what, max(100 - len(indent), 40), initial_indent=TODO + " ",
                         subsequent_indent="#" + " " * len(TODO), break_long_words=False)


_GONE = None  # where a region vanished: the blank lines around it close up


def _close_gaps(out: list[str | None]) -> list[str]:
    """``out`` without the :data:`_GONE` marks, each run of blank lines holding one shrunk to
    its widest blank stretch (none at the top or the end of the file)."""
    result: list[str] = []
    run: list[str | None] = []
    for line in [*out, ""]:
        if line is _GONE or not line.strip():
            run.append(line)
            continue
        if _GONE in run:
            stretches = "".join("b" if ln is not _GONE else "|" for ln in run).split("|")
            run = [""] * (max(map(len, stretches)) if result else 0)
        result.extend(ln for ln in run if ln is not _GONE)
        run = []
        result.append(line)
    if _GONE not in run:
        result.extend(ln for ln in run[:-1] if ln is not _GONE)
    return result


def strip_source(source: str, filename: str = "<source>", *,
                 keep_solutions: bool = False, magics: bool = False,
                 keep: frozenset[str] = frozenset()) -> Stripped:
    """Strip ``source`` (see :func:`strip_solutions`) and say which definitions became stubs."""
    lines = source.splitlines()
    out: list[str | None] = []
    stubbed: list[str] = []
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
            name = _enclosing_name(lines, begin_at - 1)
            if keep_solutions or name.split(".")[0] in keep:
                out.extend(ln for ln in region if not ln.strip().startswith(STUB))
            elif stubs or (indent and not _defines(region)):
                stubs = stubs or [*_todo(name, region, _ends_block(lines, number, indent), indent),
                                  f'raise NotImplementedError("{name}: not implemented yet")']
                out.extend(indent + stub for stub in stubs)
                if name not in stubbed:
                    stubbed.append(name)
            else:
                out.append(_GONE)
            region = None
        elif region is not None:
            region.append(line)
        else:
            out.append(line)
    if region is not None:
        raise StripError(f"{filename}:{begin_at}: {BEGIN} is never closed")
    result = "\n".join(_close_gaps(out)) + ("\n" if source.endswith("\n") else "")
    code = result
    if magics:
        from gradekit.notebooks.cells import as_python

        code = as_python(result)
    try:
        ast.parse(code, filename=filename)
    except SyntaxError as exc:
        raise StripError(f"{filename}: stripped code is not valid Python: {exc}") from exc
    return Stripped(result, tuple(stubbed))


def strip_solutions(source: str, filename: str = "<source>", *,
                    keep_solutions: bool = False, magics: bool = False,
                    keep: frozenset[str] = frozenset()) -> str:
    """Return ``source`` with every solution region replaced by its stub (or kept).

    ``keep`` names top-level functions and classes whose regions stay, solved: code the
    course gives in this version (``softmax_loss``). ``magics`` allows IPython's ``%`` and
    ``!`` lines (a notebook cell's ``%cd``, ``!python setup.py ...``): the result must still
    be Python once IPython has read them."""
    return strip_source(source, filename, keep_solutions=keep_solutions, magics=magics,
                        keep=keep).text


def _after(text: str, prefix: str) -> str | None:
    return text[len(prefix):] if text.startswith(prefix) else None


def has_solutions(source: str) -> bool:
    """True when ``source`` contains at least one solution region."""
    return any(line.strip().startswith(BEGIN) for line in source.splitlines())
