"""A tiny, safe language for accuracy rubrics, e.g. ``min(floor((X - 32%)) / 23%, 1)``.

Packs paste the rubric from the assignment handout, so it is parsed here by a tokenizer and
a recursive-descent parser into plain closures: nothing is ever handed to ``eval``. The
language has numbers, percentages (``32%`` means 32 percentage points), the variable ``X``
(the accuracy in percent), ``+ - * /``, parentheses, unary minus and the functions below.

Grammar::

    expr    := term (("+" | "-") term)*
    term    := unary (("*" | "/") unary)*
    unary   := ("-" | "+") unary | primary
    primary := NUMBER ["%"] | "X" ["%"] | NAME "(" expr ("," expr)* ")" | "(" expr ")"
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

Expr = Callable[[float], float]


def _clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return min(max(value, low), high)


#: name -> (function, smallest and largest number of arguments)
FUNCTIONS: dict[str, tuple[Callable[..., float], int, int]] = {
    "min": (min, 2, 64),
    "max": (max, 2, 64),
    "floor": (math.floor, 1, 1),
    "ceil": (math.ceil, 1, 1),
    "abs": (abs, 1, 1),
    "clamp": (_clamp, 1, 3),
}

_TOKEN = re.compile(r"\s*(?:(?P<number>\d+(?:\.\d*)?|\.\d+)|(?P<name>[A-Za-z_]\w*)|(?P<op>\S))")


class FormulaError(ValueError):
    """A rubric formula that cannot be parsed or evaluated; says where and what to fix."""

    def __init__(self, formula: str, column: int, problem: str) -> None:
        pointer = " " * (column - 1) + "^"
        super().__init__(
            f"rubric formula, column {column}: {problem}\n  {formula}\n  {pointer}"
        )
        self.column = column


@dataclass(frozen=True)
class Token:
    kind: str  # "number", "name", "op" or "end"
    text: str
    column: int  # 1-based


def tokenize(formula: str) -> list[Token]:
    tokens = []
    position = 0
    while position < len(formula.rstrip()):
        match = _TOKEN.match(formula, position)
        if match is None:  # only trailing whitespace is left
            break
        kind = match.lastgroup or "op"
        tokens.append(Token(kind, match.group(kind), match.start(kind) + 1))
        position = match.end()
    tokens.append(Token("end", "", len(formula.rstrip()) + 1))
    return tokens


class _Parser:
    def __init__(self, formula: str) -> None:
        self.formula = formula
        self.tokens = tokenize(formula)
        self.index = 0

    # -- token stream -----------------------------------------------------------------
    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def error(self, problem: str, token: Token | None = None) -> FormulaError:
        return FormulaError(self.formula, (token or self.current).column, problem)

    def accept(self, text: str) -> bool:
        if self.current.kind == "op" and self.current.text == text:
            self.index += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            found = self.current.text or "the end of the formula"
            raise self.error(f"expected '{text}' but found {found!r}")

    # -- grammar ----------------------------------------------------------------------
    def parse(self) -> Expr:
        if self.current.kind == "end":
            raise self.error("the formula is empty; write an expression in X, e.g. 'X / 50%'")
        expr = self.expr()
        if self.current.kind != "end":
            raise self.error(f"unexpected {self.current.text!r} after a complete expression")
        return expr

    def expr(self) -> Expr:
        left = self.term()
        while self.current.text in ("+", "-") and self.current.kind == "op":
            op = self.current.text
            self.index += 1
            right = self.term()
            left = _add(left, right) if op == "+" else _sub(left, right)
        return left

    def term(self) -> Expr:
        left = self.unary()
        while self.current.text in ("*", "/") and self.current.kind == "op":
            token = self.current
            self.index += 1
            right = self.unary()
            left = _mul(left, right) if token.text == "*" else _div(left, right, self, token)
        return left

    def unary(self) -> Expr:
        if self.accept("-"):
            operand = self.unary()
            return lambda x: -operand(x)
        if self.accept("+"):
            return self.unary()
        return self.primary()

    def primary(self) -> Expr:
        token = self.current
        if token.kind == "number":
            self.index += 1
            self.accept("%")  # 32% is 32 percentage points, the unit X is measured in
            value = float(token.text)
            return lambda x: value
        if token.kind == "name":
            self.index += 1
            if token.text == "X":
                self.accept("%")  # X is already in percent: X% reads the same
                return lambda x: x
            return self.call(token)
        if self.accept("("):
            inner = self.expr()
            self.expect(")")
            return inner
        found = token.text or "the end of the formula"
        raise self.error(f"expected a number, X, a function or '(' but found {found!r}")

    def call(self, name: Token) -> Expr:
        if name.text not in FUNCTIONS:
            known = ", ".join(sorted(FUNCTIONS))
            raise self.error(f"unknown name {name.text!r}: use X or one of {known}", name)
        function, fewest, most = FUNCTIONS[name.text]
        self.expect("(")
        args = [self.expr()]
        while self.accept(","):
            args.append(self.expr())
        self.expect(")")
        if not fewest <= len(args) <= most:
            wanted = str(fewest) if fewest == most else f"{fewest} to {most}"
            raise self.error(f"{name.text}() takes {wanted} arguments, got {len(args)}", name)
        return lambda x: float(function(*(arg(x) for arg in args)))


def _add(a: Expr, b: Expr) -> Expr:
    return lambda x: a(x) + b(x)


def _sub(a: Expr, b: Expr) -> Expr:
    return lambda x: a(x) - b(x)


def _mul(a: Expr, b: Expr) -> Expr:
    return lambda x: a(x) * b(x)


def _div(a: Expr, b: Expr, parser: _Parser, token: Token) -> Expr:
    def divide(x: float) -> float:
        denominator = b(x)
        if denominator == 0:
            raise parser.error(f"division by zero at X = {x:g}", token)
        return a(x) / denominator

    return divide


def compile_formula(formula: str) -> Expr:
    """Parse ``formula`` into a function of X (accuracy in percent); raise FormulaError."""
    return _Parser(formula).parse()
