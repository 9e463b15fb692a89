"""Components gradekit gives to students, registered as reference components.

Students receive the Solver, the gradient-check helpers, the data loaders and the fast
conv/pool layers rather than writing them; graders resolve them through the same hooks as
everything else, so a course may still override any of them with a plugin.

The data loaders go by the names of the courses' own modules: ``data_utils`` (CIFAR-10, the
CS231n courses) and ``digits`` (MNIST: the ASU course's ``from digits import get_mnist``).
This ``digits`` is MNIST. scikit-learn's 8x8 digits (:mod:`gradekit.data.digits`) are
another thing of that name: the data set tests get from ``dataset("digits")``
(:mod:`gradekit.harness.builtins`), never a module of a course.
"""

from gradekit.providers import EVERY_API, ModuleProvider

plugin = ModuleProvider(
    EVERY_API,
    {
        "solver": "gradekit.solver",
        "gradient_check": "gradekit.gradient_check",
        "fast_layers": "gradekit.fast_layers",
        "data_utils": "gradekit.data.cifar10",
        "digits": "gradekit.data.mnist",
    },
)
