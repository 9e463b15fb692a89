import pytest

from gradekit.harness.formula import FormulaError, compile_formula

SEED = "min(floor((X - 32%)) / 23%, 1)"


@pytest.mark.parametrize(
    ("x", "expected"),
    [(31, -1 / 23), (32, 0.0), (50, 18 / 23), (54.9, 22 / 23), (55, 1.0), (80, 1.0)],
)
def test_seed_formula_before_clamping(x, expected):
    assert compile_formula(SEED)(x) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("formula", "x", "expected"),
    [
        ("1 + 2 * 3", 0, 7),
        ("(1 + 2) * 3", 0, 9),
        ("-X + 10", 4, 6),
        ("--2", 0, 2),
        ("8 / 4 / 2", 0, 1),
        ("10 - 4 - 3", 0, 3),
        ("max(X, 10, 20)", 15, 20),
        ("ceil(2.1) + abs(-3) + floor(.9)", 0, 6),
        ("clamp(X / 100)", 150, 1),
        ("clamp(X, 10, 20)", 5, 10),
        ("  X%  ", 40, 40),
    ],
)
def test_arithmetic_and_functions(formula, x, expected):
    assert compile_formula(formula)(x) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("formula", "column", "problem"),
    [
        ("min(floor((X - 32%) / 23%, 1", 29, "expected ')' but found 'the end"),
        ("X +* 2", 4, "expected a number, X, a function or '('"),
        ("X 2", 3, "unexpected '2' after a complete expression"),
        ("log(X)", 1, "unknown name 'log': use X or one of abs, ceil, clamp"),
        ("__import__('os')", 1, "unknown name '__import__'"),
        ("floor(X, 2)", 1, "floor() takes 1 arguments, got 2"),
        ("X $ 2", 3, "unexpected '$'"),
        ("", 1, "the formula is empty"),
    ],
)
def test_syntax_errors_name_the_column(formula, column, problem):
    with pytest.raises(FormulaError) as error:
        compile_formula(formula)
    assert error.value.column == column
    assert f"column {column}: {problem}" in str(error.value)
    assert str(error.value).endswith("\n  " + " " * (column - 1) + "^")


def test_division_by_zero_is_reported_at_evaluation():
    rubric = compile_formula("1 / (X - 50)")
    assert rubric(60) == pytest.approx(0.1)
    with pytest.raises(FormulaError, match="column 3: division by zero at X = 50"):
        rubric(50)
