"""Build hook for the compiled fast conv/pool kernels.

Everything else about the package lives in pyproject.toml; this file only declares the Cython
extension so that an ordinary ``pip install`` compiles it. The extension is optional: if the
compiler is missing the install still succeeds and gradekit falls back to NumPy kernels.
OpenMP is used when the compiler supports it (e.g. not Apple's clang); without it the
kernels' parallel loops run serially.
"""

import tempfile
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CompileError, LinkError

OPENMP_FLAG = "-fopenmp"
OPENMP_PROBE = "#include <omp.h>\nint main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }\n"


class BuildExtMaybeOpenMP(build_ext):
    """``build_ext`` that drops the OpenMP flags when the compiler cannot build OpenMP code."""

    def build_extensions(self) -> None:
        if not self._compiler_supports_openmp():
            print(f"{OPENMP_FLAG} not supported by this compiler: building serial kernels")
            for ext in self.extensions:
                ext.extra_compile_args = [a for a in ext.extra_compile_args if a != OPENMP_FLAG]
                ext.extra_link_args = [a for a in ext.extra_link_args if a != OPENMP_FLAG]
        super().build_extensions()

    def _compiler_supports_openmp(self) -> bool:
        with tempfile.TemporaryDirectory() as tmp:
            probe = Path(tmp, "openmp_probe.c")
            probe.write_text(OPENMP_PROBE)
            try:
                objects = self.compiler.compile(
                    [str(probe)], output_dir=tmp, extra_postargs=[OPENMP_FLAG]
                )
                self.compiler.link_executable(
                    objects, "openmp_probe", output_dir=tmp, extra_postargs=[OPENMP_FLAG]
                )
            except (CompileError, LinkError):
                return False
        return True


extensions = [
    Extension(
        "gradekit.fast_layers._kernels",
        ["gradekit/fast_layers/_kernels.pyx"],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=["-O3", OPENMP_FLAG],
        extra_link_args=[OPENMP_FLAG],
        optional=True,
    )
]

setup(
    ext_modules=cythonize(extensions, language_level=3, quiet=True),
    cmdclass={"build_ext": BuildExtMaybeOpenMP},
)
