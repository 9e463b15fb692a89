"""setup.py and the built kernels: no OpenMP anywhere, so no OpenMP runtime's wait policy (set
by whichever library loads it first) decides how fast the layers run."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gradekit.fast_layers import _kernels

ROOT = Path(__file__).resolve().parents[2]

COMPILER_REFUSING_OPENMP = """#!/bin/sh
for arg in "$@"; do
    [ "$arg" = "-fopenmp" ] && { echo "asked for OpenMP" >&2; exit 1; }
done
exec gcc "$@"
"""

CHECK_BUILT_KERNELS = """
import importlib.util, sys
import numpy as np
spec = importlib.util.spec_from_file_location("gradekit.fast_layers._kernels", sys.argv[1])
kernels = importlib.util.module_from_spec(spec)
spec.loader.exec_module(kernels)
x = np.arange(2 * 3 * 4 * 4, dtype=np.float64).reshape(2, 3, 4, 4)
print(kernels.im2col(x, 3, 3, 1, 1).shape)
"""


def links_openmp(library: Path) -> bool:
    """Whether a shared library needs an OpenMP runtime or calls into one."""
    data = library.read_bytes()
    return any(name in data for name in (b"libgomp", b"libomp", b"libiomp", b"GOMP_"))


def test_the_installed_kernels_do_not_link_openmp():
    assert not links_openmp(Path(_kernels.__file__))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc to stand in for the compiler")
def test_setup_builds_the_kernels_without_openmp(tmp_path):
    for name in ("setup.py", "pyproject.toml", "README.md", "gradekit/fast_layers/_kernels.pyx"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    compiler = tmp_path / "cc-refusing-openmp"
    compiler.write_text(COMPILER_REFUSING_OPENMP)
    compiler.chmod(0o755)
    env = {**os.environ, "CC": str(compiler), "LDSHARED": f"{compiler} -shared"}
    build = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=tmp_path,
                           env=env, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-2000:]

    (built,) = (tmp_path / "gradekit" / "fast_layers").glob("_kernels*.so")
    assert not links_openmp(built)
    check = subprocess.run([sys.executable, "-c", CHECK_BUILT_KERNELS, str(built)],
                           capture_output=True, text=True, check=True)
    assert check.stdout.strip() == "(27, 32)"
