"""The harness's built-in rubric kinds, report formats and data sets, served through the same
hooks a third-party plugin would implement (so a course can override any of them by name).

Writers are imported inside the hooks: building a plugin manager must not import rich.
"""

from __future__ import annotations

from gradekit import hookimpl


@hookimpl
def gradekit_rubrics() -> dict:
    from gradekit.harness.rubrics import BUILTIN_RUBRICS

    return dict(BUILTIN_RUBRICS)


@hookimpl
def gradekit_report_writers() -> dict:
    from gradekit.harness.reports import BUILTIN_WRITERS

    return dict(BUILTIN_WRITERS)


@hookimpl
def gradekit_datasets() -> dict:
    from gradekit.data.cifar10 import get_CIFAR10_data
    from gradekit.data.digits import get_digits_data
    from gradekit.data.mnist import get_mnist_data

    return {"cifar10": get_CIFAR10_data, "digits": get_digits_data, "mnist": get_mnist_data}
