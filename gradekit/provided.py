"""Components gradekit gives to students, registered as reference components.

Students receive the Solver, the gradient-check helpers, the data loaders and the fast
conv/pool layers rather than writing them; graders resolve them through the same hooks as
everything else, so a course may still override any of them with a plugin.
"""

from gradekit.providers import ModuleProvider

plugin = ModuleProvider(
    "cs231n",
    {
        "solver": "gradekit.solver",
        "gradient_check": "gradekit.gradient_check",
        "fast_layers": "gradekit.fast_layers",
        "data_utils": "gradekit.data.cifar10",
    },
)
