"""The fast convolution and pooling layers students are given: gradekit's own."""

from gradekit.fast_layers import *  # noqa: F403
