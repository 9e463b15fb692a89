"""Gradient-checking helpers, given with the assignment (the code lives in gradekit)."""

from gradekit.gradient_check import (  # noqa: F401
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
    rel_error,
)
