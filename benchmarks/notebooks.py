"""Notebook overhead: a trivial 5-cell notebook under gradekit (sandbox on) vs bare nbclient.

Both sides start a fresh ipykernel, run the same five cells, and shut the kernel down; the
peer is ``nbclient.NotebookClient(nb).execute()`` with the stock Python kernel, no sandbox.
gradekit's side is what grading pays per notebook: reading and checking the file, a private
copy of the submission, the kernel inside bubblewrap (or a plain subprocess) over IPC,
per-cell limits, the failed-cell scan and the report. The difference is gradekit's added
overhead. Run with ``python benchmarks/notebooks.py [--repeat N]``.

Target (issue 6): added overhead <= 0.7 s per notebook.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from gradekit.notebooks.execution import NotebookRun
from gradekit.packs import NotebookSpec
from gradekit.sandbox.confinement import new_confinement
from gradekit.sandbox.launcher import bwrap_works

CELLS = ["import numpy as np", "x = np.arange(10)", "y = x * 2", "print(y.sum())",
         "z = {'mean': float(y.mean())}\nz"]


def trivial_notebook() -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    notebook.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                       "display_name": "Python 3"}
    return notebook


def bare(folder: Path) -> float:
    notebook = nbformat.read(folder / "trivial.ipynb", as_version=4)
    started = time.perf_counter()
    NotebookClient(notebook, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return time.perf_counter() - started


def gradekit_run(folder: Path, mode: str) -> float:
    started = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="gradekit-bench-"))
    try:
        with new_confinement(mode) as confinement:
            run = NotebookRun(NotebookSpec("trivial.ipynb"), folder / "trivial.ipynb", folder,
                              scratch, confinement)
            run.execute()
            report = run.report()
            run.close()
        assert report.status == "completed" and report.cells_run == len(CELLS), report
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="runs per side (median kept)")
    args = parser.parse_args()
    warnings.simplefilter("ignore", RuntimeWarning)  # the subprocess mode's loud warning
    folder = Path(tempfile.mkdtemp(prefix="gradekit-bench-nb-"))
    nbformat.write(trivial_notebook(), folder / "trivial.ipynb")
    modes = ["bwrap", "subprocess"] if bwrap_works() else ["subprocess"]
    sides = {"bare nbclient": lambda: bare(folder)}
    sides.update({f"gradekit ({mode})": (lambda m=mode: gradekit_run(folder, m)) for mode in modes})
    samples: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(args.repeat):  # interleaved, so that load on the machine hits every side
        for name, side in sides.items():
            samples[name].append(side())
    peer = statistics.median(samples["bare nbclient"])
    print(f"trivial {len(CELLS)}-cell notebook, median of {args.repeat} runs each")
    print(f"{'side':<24}{'median s':>10}{'vs bare':>10}{'added s':>10}")
    for name, times in samples.items():
        median = statistics.median(times)
        print(f"{name:<24}{median:>10.3f}{median / peer:>9.2f}x{median - peer:>+10.3f}")
    worst = max(statistics.median(t) for n, t in samples.items() if n != "bare nbclient")
    print(f"gradekit's added overhead per notebook: {worst - peer:.3f} s (target <= 0.7 s)")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
