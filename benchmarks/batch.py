"""A class batch's wall time: ``gradekit grade`` on 20 submissions at -j 1 and -j 2, against
the same submissions graded one after another by ``grade_submission`` in one process.

The submissions are the three examples (``correct``, ``buggy``, ``starter``) copied to 20
folders; notebooks are not run (they train models and would swamp what is measured: the
per-submission cost of the batch machinery, the sandbox and the tests). The peer is the
least a grader can do per submission: the same grading function, in a loop, with no process
per submission, no journal and no report. ``--gradekit`` times another checkout's CLI
(``python -m gradekit`` run with that folder first on ``PYTHONPATH``), to compare versions
in one run. Run with ``python benchmarks/batch.py [--repeat N] [--gradekit DIR]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples"))

from submissions import write_examples  # noqa: E402

from gradekit.course import find_course_root  # noqa: E402
from gradekit.grading import GradingOptions, grade_submission  # noqa: E402
from gradekit.packs import get_pack  # noqa: E402

CLASS_SIZE = 20


def write_class(folder: Path) -> Path:
    """20 submissions cycled from the three examples, under ``folder/class``."""
    examples = write_examples(folder / "examples")
    students = folder / "class"
    students.mkdir()
    for i in range(CLASS_SIZE):
        shutil.copytree(examples[i % len(examples)], students / f"student{i:02d}")
    return students


def peer(students: Path) -> float:
    """The same grading, in a loop in this process."""
    pack = get_pack("fc_nets")
    options = GradingOptions(course_root=find_course_root(), notebooks=False)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for submission in sorted(students.iterdir()):
            grade_submission(submission, pack, options)
    return time.perf_counter() - started


def cli(students: Path, jobs: int, checkout: Path | None) -> float:
    """``gradekit grade students -j jobs --no-notebooks``, as staff run it."""
    environment = dict(os.environ)
    if checkout is not None:
        environment["PYTHONPATH"] = f"{checkout}{os.pathsep}{environment.get('PYTHONPATH', '')}"
        environment["GRADEKIT_COURSE"] = str(checkout)
    command = [sys.executable, "-m", "gradekit", "grade", str(students), "-a", "fc_nets",
               "-j", str(jobs), "--no-notebooks", "--format", "csv"]
    started = time.perf_counter()
    subprocess.run(command, env=environment, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False, cwd=students.parent)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--gradekit", type=Path, default=None,
                        help="another checkout whose CLI to time beside this one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gradekit-bench-batch-") as tmp:
        students = write_class(Path(tmp))
        runs: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            runs.setdefault("peer: grade_submission loop", []).append(peer(students))
            for jobs in (1, 2):
                runs.setdefault(f"gradekit grade -j {jobs}", []).append(
                    cli(students, jobs, None))
                if args.gradekit is not None:
                    runs.setdefault(f"{args.gradekit.name}: gradekit grade -j {jobs}",
                                    []).append(cli(students, jobs, args.gradekit.resolve()))
    base = statistics.median(runs["peer: grade_submission loop"])
    print(f"{CLASS_SIZE} submissions, no notebooks, median of {args.repeat}, "
          f"{os.cpu_count()} cores")
    for name, times in runs.items():
        median = statistics.median(times)
        print(f"  {name:<40} {median:7.1f} s  {median / CLASS_SIZE:5.2f} s/submission  "
              f"{base / median:5.2f}x the peer's speed")


if __name__ == "__main__":
    main()
