"""Instructor-only reference solutions, registered with gradekit as a plugin.

This package never ships to students (the wheel and the student release leave it out).
gradekit imports it from the course repository and registers :data:`plugin`.
"""

from gradekit.providers import ModuleProvider

plugin = ModuleProvider(
    "cs231n",
    {
        "layers": "reference.cs231n.layers",
        "layer_utils": "reference.cs231n.layer_utils",
        "optim": "reference.cs231n.optim",
        "classifiers.fc_net": "reference.cs231n.classifiers.fc_net",
        "classifiers.cnn": "reference.cs231n.classifiers.cnn",
    },
)
