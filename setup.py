"""Build hook for the compiled fast conv/pool kernels.

Everything else about the package lives in pyproject.toml; this file only declares the Cython
extension so that an ordinary ``pip install`` compiles it. The extension is optional: if the
compiler is missing the install still succeeds and gradekit falls back to NumPy kernels. It
needs no OpenMP (its loops run on Python threads), so any C compiler builds the same kernels.
"""

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

extensions = [
    Extension(
        "gradekit.fast_layers._kernels",
        ["gradekit/fast_layers/_kernels.pyx"],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=["-O3"],
        optional=True,
    )
]

setup(ext_modules=cythonize(extensions, language_level=3, quiet=True))
