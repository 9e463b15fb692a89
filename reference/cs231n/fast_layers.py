"""The fast convolution and pooling layers, given with the assignment (gradekit's own)."""

from gradekit.fast_layers import *  # noqa: F403
