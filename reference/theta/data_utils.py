"""CIFAR-10 loading and preprocessing, given with the assignment (the code lives in gradekit)."""

from gradekit.data.cifar10 import get_CIFAR10_data, load_CIFAR10, load_CIFAR_batch  # noqa: F401
