"""Time the conv and max-pool layers: naive reference, fast (extension), fast (NumPy fallback)
and, when installed, PyTorch — forward + backward, float64 and float32, two threads each —
with gradekit imported before PyTorch and after it.

    python benchmarks/conv.py [--order both|gradekit-first|torch-first] [--repeat 20]
                              [--naive-repeat 1]

Each order runs in a fresh interpreter (``both``, the default, runs one after the other), so
the import order is real: a notebook that imports torch before the course's fast layers is
the torch-first case. Each time is the best of several runs of forward followed by backward,
printed as ``ms (of runs)``. The extension and PyTorch take turns, ``--repeat`` rounds. The
naive layers take seconds on the big shapes, so they run ``--naive-repeat`` times (once by
default, 0 skips them), the fallback a third as often as the extension.

Ratios: ``naive/fast`` is the speed-up of the extension over the naive layer, ``fast/torch``
the extension's time over PyTorch's (the goal is at most 1.0 on every row, in both orders).
``fast %gemm`` and ``torch %gemm`` are a convolution's rate (forward 2*N*F*OH*OW*C*HH*WW
floating-point operations, backward twice that) as a share of the rate of a large square
matrix product in the same dtype on the same threads, measured at the start of the same run:
how far a layer is from what the machine's BLAS can do. On a machine shared with other jobs
the 2-thread times vary from run to run (the load average is printed at both ends of a run);
compare rows from one run only.
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

THREADS = 2
ORDERS = ("gradekit-first", "torch-first")
CONV_SHAPES = [  # x shape, w shape, stride, pad
    ((100, 3, 31, 31), (25, 3, 3, 3), 2, 1),
    ((50, 3, 32, 32), (32, 3, 7, 7), 1, 3),
    ((64, 64, 16, 16), (64, 64, 3, 3), 1, 1),
]
POOLS = [(2, 2), (3, 2)]  # (square window size, stride), applied to each conv's output
GEMM_SIZE = 2048  # the square matrix product whose rate the conv rows are measured against
PAUSE = 0.03  # seconds between timed runs, overridden by --pause

fast: Any = None
torch: Any = None
torch_f: Any = None


@dataclass
class Timing:
    seconds: float
    runs: int


def import_layers(order: str) -> None:
    """Import gradekit's fast layers and PyTorch (when installed) in the given order."""
    global fast, torch, torch_f

    def import_torch() -> None:
        global torch, torch_f
        try:
            torch = importlib.import_module("torch")
            torch_f = importlib.import_module("torch.nn.functional")
        except ImportError:
            torch = None

    if order == "torch-first":
        import_torch()
    fast = importlib.import_module("gradekit.fast_layers")
    if order == "gradekit-first":
        import_torch()


def machine_line(torch: Any) -> str:
    """What the timings depend on: backend, threads, BLAS, OpenMP wait policy, torch."""
    import gradekit.fast_layers as fast

    blas = next((p for p in threadpool_info() if p["user_api"] == "blas"), {})
    return (f"backend={fast.BACKEND}  threads={THREADS}  "
            f"numpy BLAS={blas.get('internal_api')} {blas.get('architecture', '')}  "
            f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}  "
            f"torch={torch.__version__ if torch is not None else 'not installed'}")


def load_line() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def best_of(runs: int, steps: dict[str, Callable[[], Any]]) -> dict[str, Timing]:
    """Best wall-clock time of each step over ``runs`` rounds, after one untimed warm-up.

    The steps take turns within each round, so a burst of load from other processes on a
    shared machine hits them alike instead of skewing their ratio. Each timed run starts
    ``PAUSE`` seconds after the previous one ends: PyTorch's OpenMP threads spin for several
    milliseconds after each of its operations (its default wait policy), and a step started
    at once would have one core fewer for that long.
    """
    best = dict.fromkeys(steps, float("inf"))
    for step in steps.values():
        step()
    for _ in range(runs):
        for name, step in steps.items():
            time.sleep(PAUSE)
            start = time.perf_counter()
            step()
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: Timing(seconds, runs) for name, seconds in best.items()}


def gemm_rates(runs: int) -> dict[str, float]:
    """FLOP/s of a GEMM_SIZE square matrix product per dtype name, best of ``runs``."""
    rng = np.random.default_rng(3)
    rates = {}
    for dtype in (np.float64, np.float32):
        a, b = (rng.standard_normal((GEMM_SIZE, GEMM_SIZE)).astype(dtype) for _ in range(2))
        seconds = best_of(runs, {"gemm": lambda a=a, b=b: a @ b})["gemm"].seconds
        rates[np.dtype(dtype).name] = 2 * GEMM_SIZE**3 / seconds
    return rates


@contextmanager
def numpy_fallback():
    """Run the public fast layers on the NumPy kernels for the duration of the block."""
    from gradekit.fast_layers import _numpy_kernels

    compiled = fast._backend
    fast._backend = _numpy_kernels
    try:
        yield
    finally:
        fast._backend = compiled


def naive_layers() -> Any:
    """The reference's naive layers, importable when run from a course checkout."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    return importlib.import_module("reference.cs231n.layers")


def conv_steps(x, w, b, stride, pad, naive) -> dict[str, Callable[[], Any]]:
    conv_param = {"stride": stride, "pad": pad}
    dout = np.random.default_rng(1).standard_normal(
        fast.conv_forward_fast(x, w, b, conv_param)[0].shape
    ).astype(x.dtype)

    def layer_pair(forward, backward):
        return lambda: backward(dout, forward(x, w, b, conv_param)[1])

    steps = {
        "naive": layer_pair(naive.conv_forward_naive, naive.conv_backward_naive),
        "fast": layer_pair(fast.conv_forward_fast, fast.conv_backward_fast),
    }
    if torch is not None:
        tx, tw, tb = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
        tdout = torch.from_numpy(dout)

        def torch_step():
            torch_f.conv2d(tx, tw, tb, stride=stride, padding=pad).backward(tdout)

        steps["torch"] = torch_step
    return steps


def pool_steps(x, size, stride, naive) -> dict[str, Callable[[], Any]]:
    pool_param = {"pool_height": size, "pool_width": size, "stride": stride}
    dout = np.random.default_rng(2).standard_normal(
        fast.max_pool_forward_fast(x, pool_param)[0].shape
    ).astype(x.dtype)

    def layer_pair(forward, backward):
        return lambda: backward(dout, forward(x, pool_param)[1])

    steps = {
        "naive": layer_pair(naive.max_pool_forward_naive, naive.max_pool_backward_naive),
        "fast": layer_pair(fast.max_pool_forward_fast, fast.max_pool_backward_fast),
    }
    if torch is not None:
        tx, tdout = torch.from_numpy(x).requires_grad_(), torch.from_numpy(dout)

        def torch_step():
            torch_f.max_pool2d(tx, size, stride).backward(tdout)

        steps["torch"] = torch_step
    return steps


def time_all(steps: dict[str, Callable[[], Any]], repeat: int, slow_repeat: int) -> dict:
    times = {}
    if slow_repeat:
        times["naive"] = Timing(min(timed_once(steps["naive"]) for _ in range(slow_repeat)),
                                slow_repeat)
    with numpy_fallback():
        times["fallback"] = best_of(max(1, repeat // 3), {"fallback": steps["fast"]})["fallback"]
    times.update(best_of(repeat, {k: v for k, v in steps.items() if k != "naive"}))
    return times


def timed_once(step: Callable[[], Any]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def cell(timing: Timing | None) -> str:
    if timing is None:
        return f"{'-':>18}"
    return f"{timing.seconds * 1e3:9.2f} (of {timing.runs:2d})"


def share(flops: float | None, timing: Timing | None, rate: float) -> str:
    """The layer's FLOP rate as a percentage of the GEMM's."""
    if flops is None or timing is None:
        return "-"
    return f"{100 * flops / timing.seconds / rate:.0f}%"


def row(label: str, times: dict, flops: float | None, rate: float) -> str:
    speedup = "-"
    if "naive" in times:
        speedup = f"{times['naive'].seconds / times['fast'].seconds:.1f}"
    versus_torch = "-"
    if "torch" in times:
        versus_torch = f"{times['fast'].seconds / times['torch'].seconds:.2f}"
    columns = "".join(cell(times.get(k)) for k in ("naive", "fast", "fallback", "torch"))
    shares = "".join(f"{share(flops, times.get(k), rate):>11}" for k in ("fast", "torch"))
    return f"{label:<44}{columns}{speedup:>11}{versus_torch:>11}{shares}"


def bench_shape(rng, dtype, x_shape, w_shape, stride, pad, naive, args, rate) -> None:
    """Print the rows of one conv shape and of the pools applied to its output."""
    name = np.dtype(dtype).name
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    steps = conv_steps(x, w, b, stride, pad, naive)
    out = fast.conv_forward_fast(x, w, b, {"stride": stride, "pad": pad})[0]
    N, F, OH, OW = out.shape
    flops = 3 * 2 * N * F * OH * OW * int(np.prod(w_shape[1:]))
    label = f"conv {name} x{x_shape} w{w_shape[2:]} s{stride} p{pad}"
    print(row(label, time_all(steps, args.repeat, args.naive_repeat), flops, rate), flush=True)
    for size, pool_stride in POOLS:
        steps = pool_steps(out, size, pool_stride, naive)
        label = f"pool {name} {size}x{size}/{pool_stride} on {out.shape}"
        print(row(label, time_all(steps, args.repeat, args.naive_repeat), None, rate),
              flush=True)


def run_order(args: argparse.Namespace) -> None:
    """The whole table in this interpreter, importing the layers in ``args.order``."""
    global PAUSE
    PAUSE = args.pause
    import_layers(args.order)
    naive = naive_layers()
    if torch is not None:
        torch.set_num_threads(THREADS)
    print(f"== {args.order}: {load_line()}")
    print(machine_line(torch))
    with threadpool_limits(limits=THREADS):
        rates = gemm_rates(args.repeat)
        print(f"GEMM {GEMM_SIZE}x{GEMM_SIZE} on {THREADS} threads: " + "  ".join(
            f"{name} {rate / 1e9:.1f} GFLOP/s" for name, rate in rates.items()))
        print(f"times in ms, best of (runs), {PAUSE * 1e3:g} ms apart; the naive layers run "
              "once by default: they are slow")
        header = "".join(f"{name:>18}" for name in ("naive", "fast", "fallback", "torch"))
        print(f"{'layer fwd+bwd':<44}{header}{'naive/fast':>11}{'fast/torch':>11}"
              f"{'fast %gemm':>11}{'torch %gemm':>11}")
        rng = np.random.default_rng(0)
        for dtype in (np.float64, np.float32):
            for x_shape, w_shape, stride, pad in CONV_SHAPES:
                bench_shape(rng, dtype, x_shape, w_shape, stride, pad, naive, args,
                            rates[np.dtype(dtype).name])
    print(f"== {args.order} done: {load_line()}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--order", choices=("both", *ORDERS), default="both",
                        help="which library is imported first (both: one fresh run each)")
    parser.add_argument("--repeat", type=int, default=20, help="runs of the fast layers")
    parser.add_argument("--naive-repeat", type=int, default=1,
                        help="runs of the naive layers (0: skip them)")
    parser.add_argument("--pause", type=float, default=PAUSE,
                        help="seconds between timed runs (0: back to back)")
    args = parser.parse_args()
    if args.order != "both":
        run_order(args)
        return
    for order in ORDERS:
        command = [sys.executable, __file__, "--order", order, "--repeat", str(args.repeat),
                   "--naive-repeat", str(args.naive_repeat), "--pause", str(args.pause)]
        subprocess.run(command, check=True)
        print(flush=True)


if __name__ == "__main__":
    main()
