"""setup.py: the compiled kernels build without OpenMP too (e.g. Apple's clang), just serially."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

COMPILER_WITHOUT_OPENMP = """#!/bin/sh
for arg in "$@"; do
    [ "$arg" = "-fopenmp" ] && { echo "this compiler has no OpenMP" >&2; exit 1; }
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


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc to stand in for the compiler")
def test_extension_builds_when_the_compiler_lacks_openmp(tmp_path):
    for name in ("setup.py", "pyproject.toml", "README.md", "gradekit/fast_layers/_kernels.pyx"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    compiler = tmp_path / "cc-without-openmp"
    compiler.write_text(COMPILER_WITHOUT_OPENMP)
    compiler.chmod(0o755)
    env = {**os.environ, "CC": str(compiler), "LDSHARED": f"{compiler} -shared"}
    build = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=tmp_path,
                           env=env, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-2000:]
    assert "building serial kernels" in build.stdout

    (built,) = (tmp_path / "gradekit" / "fast_layers").glob("_kernels*.so")
    check = subprocess.run([sys.executable, "-c", CHECK_BUILT_KERNELS, str(built)],
                           capture_output=True, text=True, check=True)
    assert check.stdout.strip() == "(27, 32)"
