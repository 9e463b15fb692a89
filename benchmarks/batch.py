"""A class batch's wall time: ``gradekit grade`` at -j 1, -j 2 and on ``--cluster local:2``,
against the floor, in one run, as ratios and submissions per minute.

    python benchmarks/batch.py [--students 40] [--repeat 1] [--no-cluster]

The class is ``--students`` module-only fc_nets submissions (no notebook: what is measured is
the grader's cost per submission, not the student's training), cycled from four kinds:
``correct``, ``starter``, ``buggy`` (the examples) and ``hostile``: the correct code plus
what a cheating student tries at import time that is also safe to run unsandboxed (a flood
of output, reading the hidden tests and the reference, writing beside itself) and an
``affine_forward`` that scribbles on its input.

The floor is the student's own compute: the same tests, in-process and unsandboxed
(``sandbox="none"``: no worker, no pipe) on warm interpreters, ``grade_submission`` called
once per submission from a shared queue by 1 or 2 processes that have already graded one
submission untimed. ``gradekit grade`` is timed as staff run it, from a cold start of the
CLI, and must leave a row for every submission. On a machine shared with other jobs, or
a virtual one whose speed drifts over minutes, the times vary: each gradekit run follows
the floor run it is compared with, and its ratio is taken to that run; with ``--repeat`` the
median of those ratios is printed, with their range.
"""

from __future__ import annotations

import argparse
import multiprocessing
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

PACK = "fc_nets"
#: appended to the correct layers.py: cheating attempts a sandbox must defeat, none of them
#: able to hurt the floor's own unsandboxed process
HOSTILE = '''

def _snoop():
    import os
    folder = os.path.dirname(os.path.abspath(__file__))
    for _ in range(6):  # up the tree, looking for the course beside the submission
        folder = os.path.dirname(folder)
        for course_file in ("hidden_tests/fc_nets/test_fc_net.py", "reference/cs231n/layers.py"):
            try:
                with open(os.path.join(folder, course_file)) as file:
                    file.read()
            except OSError:
                pass
    try:
        with open(os.path.join(os.path.dirname(__file__), "grades.csv"), "w") as file:
            file.write("student,score\\nme,100\\n")
    except OSError:
        pass
    print("SCORE: 100/100\\n" * 20000)


_snoop()
_honest_affine_forward = affine_forward


def affine_forward(x, w, b):
    out, cache = _honest_affine_forward(x, w, b)
    x[...] = 0
    return out, cache
'''


def write_class(folder: Path, size: int) -> Path:
    """``size`` module-only submissions cycled from the four kinds, under ``folder/class``."""
    examples = write_examples(folder / "examples", PACK)
    hostile = folder / "examples" / "hostile"
    shutil.copytree(examples[0], hostile)
    with (hostile / "cs231n" / "layers.py").open("a", encoding="utf-8") as layers:
        layers.write(HOSTILE)
    kinds = [*examples, hostile]
    students = folder / "class"
    students.mkdir()
    for i in range(size):
        target = students / f"student{i:02d}"
        shutil.copytree(kinds[i % len(kinds)], target,
                        ignore=shutil.ignore_patterns("*.ipynb"))
    return students


def _floor_process(queue: multiprocessing.Queue, ready: multiprocessing.Event,
                   go: multiprocessing.Event, warm_up: str) -> None:
    """Grade submissions from ``queue`` in this warm process until it is empty."""
    from gradekit.course import find_course_root
    from gradekit.grading import GradingOptions, grade_submission
    from gradekit.packs import get_pack

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # the hostile submission's flood
    pack = get_pack(PACK)
    options = GradingOptions(course_root=find_course_root(), sandbox="none", notebooks=False)
    warnings.simplefilter("ignore")
    grade_submission(Path(warm_up), pack, options)
    ready.set()
    go.wait()
    while (path := queue.get()) is not None:
        grade_submission(Path(path), pack, options)


def floor(students: Path, processes: int) -> float:
    """The same tests in-process on ``processes`` warm interpreters."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    for path in sorted(students.iterdir()):
        queue.put(str(path))
    for _ in range(processes):
        queue.put(None)
    go = context.Event()
    readies = [context.Event() for _ in range(processes)]
    warm_up = students.parent / "examples" / "correct"
    workers = [context.Process(target=_floor_process, args=(queue, ready, go, str(warm_up)))
               for ready in readies]
    for worker in workers:
        worker.start()
    for ready in readies:
        ready.wait()
    started = time.perf_counter()
    go.set()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started


def cli(students: Path, how: list[str]) -> float:
    """``gradekit grade students --no-notebooks`` with ``how`` (-j N, --cluster ...)."""
    out = students.parent / "out"
    shutil.rmtree(out, ignore_errors=True)  # a journal there would make it a resume
    command = [sys.executable, "-m", "gradekit", "grade", str(students), "-a", PACK, *how,
               "--no-notebooks", "--format", "csv", "--out", str(out)]
    started = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, check=False, cwd=students.parent)
    elapsed = time.perf_counter() - started
    rows = (out / "grades.csv").read_text().splitlines()[1:] if (out / "grades.csv").exists() \
        else []
    if done.returncode not in (0, 1) or len(rows) != len(list(students.iterdir())):
        raise SystemExit(f"{' '.join(command)} left {len(rows)} rows (exit status "
                         f"{done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-cluster", action="store_true",
                        help="leave out --cluster local:2 (dask not installed)")
    args = parser.parse_args()
    runs: dict[str, list[float]] = {}
    ratios: dict[str, list[float]] = {}
    peers: dict[str, str] = {}

    with tempfile.TemporaryDirectory(prefix="gradekit-bench-batch-") as tmp:
        students = write_class(Path(tmp), args.students)
        for _ in range(args.repeat):
            for processes in (1, 2):
                peer = f"floor: in-process, {processes} warm"
                runs.setdefault(peer, []).append(floor(students, processes))
                ways = [["-j", str(processes)]]
                if processes == 2 and not args.no_cluster:
                    ways.append(["--cluster", "local:2"])
                for how in ways:  # right after their floor: a drifting machine moves both
                    name = f"gradekit grade {' '.join(how)}"
                    runs.setdefault(name, []).append(cli(students, how))
                    ratios.setdefault(name, []).append(runs[name][-1] / runs[peer][-1])
                    peers[name] = peer
    print(f"{args.students} module-only {PACK} submissions (correct, starter, buggy, hostile), "
          f"median of {args.repeat}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    print(f"  {'':<42} {'wall':>8} {'per sub':>9} {'subs/min':>9}  ratio to the floor run "
          "just before it (median, range)")
    for name, times in runs.items():
        median = statistics.median(times)
        ratio = ""
        if name in ratios:
            each = ratios[name]
            ratio = (f"{statistics.median(each):5.2f}x ({min(each):.2f}-{max(each):.2f}; "
                     f"{peers[name]})")
        print(f"  {name:<42} {median:7.1f}s {median / args.students:8.2f}s "
              f"{60 * args.students / median:9.1f}  {ratio}")


if __name__ == "__main__":
    main()
