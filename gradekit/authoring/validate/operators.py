"""Generate single-bug variants of reference source: the bugs students write, one at a time.

Each operator makes one small, realistic change at one place (a swapped operator, an off-by-one
comparison, a wrong axis, a dropped ``keepdims``, factor or term, a missing transpose, an
overwrite instead of an accumulation, an in-place update on an input, a mode switch that always
takes one branch, a wrong dtype). Only code inside ``### BEGIN SOLUTION`` regions is mutated,
since that is what students write; docstrings, ``raise`` and ``assert`` statements are left
alone. libcst keeps every other byte of the file as it was, so a mutant's diff is one change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from gradekit.authoring.strip import BEGIN, END

_ARITHMETIC: dict[type[cst.BaseBinaryOp], type[cst.BaseBinaryOp]] = {
    cst.Add: cst.Subtract, cst.Subtract: cst.Add, cst.Multiply: cst.Divide,
    cst.Divide: cst.Multiply, cst.FloorDivide: cst.Divide, cst.Power: cst.Multiply,
}
_COMPARISON: dict[type[cst.BaseCompOp], type[cst.BaseCompOp]] = {
    cst.LessThan: cst.LessThanEqual, cst.LessThanEqual: cst.LessThan,
    cst.GreaterThan: cst.GreaterThanEqual, cst.GreaterThanEqual: cst.GreaterThan,
    cst.Equal: cst.NotEqual, cst.NotEqual: cst.Equal, cst.Is: cst.IsNot, cst.IsNot: cst.Is,
}
_AUGMENTED_TO_BINARY: dict[type[cst.BaseAugOp], type[cst.BaseBinaryOp]] = {
    cst.AddAssign: cst.Add, cst.SubtractAssign: cst.Subtract,
    cst.MultiplyAssign: cst.Multiply, cst.DivideAssign: cst.Divide,
}
_BINARY_TO_AUGMENTED = {binary: aug for aug, binary in _AUGMENTED_TO_BINARY.items()}
#: attribute names a student confuses with one another (``x.sum`` for ``x.mean``, ...)
_SWAPPED_NAMES = {"sum": "mean", "mean": "sum", "max": "min", "min": "max",
                  "argmax": "argmin", "argmin": "argmax", "maximum": "minimum",
                  "minimum": "maximum", "float64": "float32", "float32": "float64"}


@dataclass(frozen=True)
class Candidate:
    """One mutation: ``operator`` made the change ``what`` at ``line`` of the definition
    ``definition`` (top-level name), giving ``source``."""

    operator: str
    what: str
    line: int
    definition: str
    source: str


def solution_lines(source: str) -> set[int]:
    """Line numbers (from 1) inside solution regions: what a student writes."""
    inside, lines = False, set()
    for number, line in enumerate(source.splitlines(), start=1):
        marker = line.strip()
        if marker.startswith(BEGIN):
            inside = True
        elif marker.startswith(END):
            inside = False
        elif inside:
            lines.add(number)
    return lines


def mutate(source: str, definitions: Sequence[str]) -> list[Candidate]:
    """Every single-change variant of ``source`` inside the solution regions of the top-level
    functions and classes named ``definitions``, in source order."""
    wrapper = MetadataWrapper(cst.parse_module(source))
    finder = _Sites(set(definitions), solution_lines(source))
    wrapper.visit(finder)
    spans = _spans(wrapper.module, source)
    out = []
    for site in finder.sites:
        # rewrite the one top-level definition holding the site, and splice its text in
        start, end = spans[id(site.top)]
        changed = wrapper.module.code_for_node(site.top.visit(_Replace(site.node,
                                                                       site.replacement)))
        mutated = source[:start] + changed + source[end:]
        if mutated != source:
            out.append(Candidate(site.operator, site.what, site.line, site.definition, mutated))
    return out


def _spans(module: cst.Module, source: str) -> dict[int, tuple[int, int]]:
    """Where each top-level statement's text lies in ``source`` (libcst writes a module as
    its header, then its statements one after the other)."""
    spans, end = {}, len(source)
    for statement in reversed(module.body):
        code = module.code_for_node(statement)
        start = source.rfind(code, 0, end)
        if start < 0 or source[start:end].strip() != code.strip():
            raise ValueError("libcst did not write the module back as it read it")
        spans[id(statement)] = (start, start + len(code))
        end = start
    return spans


@dataclass(frozen=True)
class _Site:
    node: cst.CSTNode
    replacement: cst.CSTNode | cst.FlattenSentinel | cst.RemovalSentinel
    operator: str
    what: str
    line: int
    definition: str
    top: cst.CSTNode  # the top-level definition holding it


class _Replace(cst.CSTTransformer):
    """Put ``replacement`` where ``target`` is (found by identity)."""

    def __init__(self, target: cst.CSTNode, replacement: object) -> None:
        super().__init__()
        self.target, self.replacement = target, replacement

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> object:
        return self.replacement if original_node is self.target else updated_node


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node).strip()


def _is_number(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Integer | cst.Float)


class _Sites(cst.CSTVisitor):
    """Collects the places an operator applies, with their replacement nodes."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, definitions: set[str], lines: set[int]) -> None:
        super().__init__()
        self.definitions, self.lines = definitions, lines
        self.sites: list[_Site] = []
        self._top: list[str] = []        # the enclosing top-level definition, if any
        self._top_node: cst.CSTNode | None = None
        self._params: list[set[str]] = []  # parameters of the enclosing functions
        self._quiet = 0                  # inside raise / assert / a docstring

    # -- where we are ---------------------------------------------------------------
    def _enter(self, node: cst.FunctionDef | cst.ClassDef) -> None:
        if not self._top:
            self._top_node = node
        self._top.append(self._top[-1] if self._top else node.name.value)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._enter(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._top.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._enter(node)
        params = node.params
        self._params.append({p.name.value for p in (*params.params, *params.kwonly_params,
                                                      *params.posonly_params)})

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._top.pop()
        self._params.pop()

    def visit_Raise(self, node: cst.Raise) -> None:
        self._quiet += 1

    def leave_Raise(self, original_node: cst.Raise) -> None:
        self._quiet -= 1

    def visit_Assert(self, node: cst.Assert) -> None:
        self._quiet += 1

    def leave_Assert(self, original_node: cst.Assert) -> None:
        self._quiet -= 1

    def _add(self, node: cst.CSTNode, replacement: object, operator: str, what: str) -> None:
        if self._quiet or not self._top or self._top[0] not in self.definitions:
            return
        line = self.get_metadata(PositionProvider, node).start.line
        if line in self.lines:
            self.sites.append(_Site(node, replacement, operator, what, line, self._top[0],
                                    self._top_node))

    # -- the operators ----------------------------------------------------------------
    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        op = node.operator
        swap = _ARITHMETIC.get(type(op))
        if swap is not None:
            new = swap(whitespace_before=op.whitespace_before,
                       whitespace_after=op.whitespace_after)
            self._add(node, node.with_changes(operator=new), "arithmetic",
                      f"`{_code(node)}` becomes `{_code(node.with_changes(operator=new))}`")
        if isinstance(op, cst.Add | cst.Subtract) and not _is_number(node.right):
            self._add(node, node.left, "dropped-term",
                      f"`{_code(node)}` loses its term `{_code(node.right)}`")
        if isinstance(op, cst.Multiply):
            for factor, kept in ((node.left, node.right), (node.right, node.left)):
                if _is_number(factor):
                    self._add(node, kept, "dropped-factor",
                              f"`{_code(node)}` loses its factor `{_code(factor)}`")

    def visit_Comparison(self, node: cst.Comparison) -> None:
        for i, target in enumerate(node.comparisons):
            swap = _COMPARISON.get(type(target.operator))
            if swap is None:
                continue
            op = target.operator
            new_op = swap(whitespace_before=op.whitespace_before,
                          whitespace_after=op.whitespace_after)
            comparisons = list(node.comparisons)
            comparisons[i] = target.with_changes(operator=new_op)
            new = node.with_changes(comparisons=comparisons)
            self._add(node, new, "comparison", f"`{_code(node)}` becomes `{_code(new)}`")

    def visit_Integer(self, node: cst.Integer) -> None:
        value = int(node.value, 0)
        new = cst.Integer(str(value + 1 if value != 1 else 0))
        self._add(node, new, "constant", f"`{node.value}` becomes `{new.value}`")

    def visit_Float(self, node: cst.Float) -> None:
        value = float(node.value)
        new = cst.Float(repr(value * 2 if value else 1.0))
        self._add(node, new, "constant", f"`{node.value}` becomes `{new.value}`")

    def visit_Call(self, node: cst.Call) -> None:
        for arg in node.args:
            keyword = arg.keyword.value if arg.keyword else None
            if keyword in ("keepdims", "dtype"):
                kept = [a for a in node.args if a is not arg]
                if kept:
                    kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                self._add(node, node.with_changes(args=kept), keyword,
                          f"`{_code(arg).rstrip(',')}` is left out of `{_code(node)}`")
            if keyword == "axis" and isinstance(arg.value, cst.Integer):
                axis = int(arg.value.value)
                new = arg.with_changes(value=cst.Integer(str(0 if axis else 1)))
                args = [new if a is arg else a for a in node.args]
                self._add(node, node.with_changes(args=args), "axis",
                          f"`axis={axis}` becomes `axis={0 if axis else 1}` in `{_code(node)}`")

    def visit_Attribute(self, node: cst.Attribute) -> None:
        name = node.attr.value
        if name == "T":
            self._add(node, node.value, "transpose",
                      f"`{_code(node)}` loses its transpose")
        elif name in _SWAPPED_NAMES:
            new = node.with_changes(attr=cst.Name(_SWAPPED_NAMES[name]))
            self._add(node, new, "swapped-name", f"`{_code(node)}` becomes `{_code(new)}`")

    def visit_If(self, node: cst.If) -> None:
        test = node.test
        if isinstance(test, cst.Comparison) and any(
                isinstance(part, cst.SimpleString)
                for part in (test.left, *(c.comparator for c in test.comparisons))):
            self._add(test, cst.Name("True"), "mode-switch",
                      f"`if {_code(test)}:` always takes its branch")

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        if len(node.body) != 1:
            return
        statement = node.body[0]
        if isinstance(statement, cst.AugAssign):
            binary = _AUGMENTED_TO_BINARY.get(type(statement.operator))
            if binary is not None:
                assign = cst.Assign(targets=[cst.AssignTarget(statement.target)],
                                    value=statement.value)
                self._add(node, node.with_changes(body=[assign]), "overwrite",
                          f"`{_code(statement)}` overwrites instead of accumulating")
                self._add(node, node.with_changes(body=[cst.Pass()]), "dropped-update",
                          f"`{_code(statement)}` is left out")
        elif (isinstance(statement, cst.Assign) and len(statement.targets) == 1
              and isinstance(statement.value, cst.BinaryOperation)
              and isinstance(statement.value.left, cst.Name) and self._params
              and statement.value.left.value in self._params[-1]
              and type(statement.value.operator) in _BINARY_TO_AUGMENTED):
            value = statement.value
            written = cst.AugAssign(target=value.left, value=value.right,
                                    operator=_BINARY_TO_AUGMENTED[type(value.operator)]())
            alias = statement.with_changes(value=value.left)
            self._add(node, cst.FlattenSentinel([node.with_changes(body=[written]),
                                                 node.with_changes(body=[alias])]),
                      "in-place", f"`{_code(statement)}` writes into the argument "
                                  f"`{value.left.value}`")

