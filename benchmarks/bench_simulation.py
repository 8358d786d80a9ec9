"""Speed ratios of the simulation kernels, measured side by side in one run (issues 3 and 15).

Usage::

    python benchmarks/bench_simulation.py            # the issues' sizes
    python benchmarks/bench_simulation.py --quick    # smaller, still kernel-bound sizes (no per-call overhead)
    python benchmarks/bench_simulation.py --json     # machine-readable

Ratios reported (targets from the issues):

1. numba full-d vs the numpy reference, SGDM (target ≥ 5×).
2. numba full-d vs its floor, with ``record="summary"`` and with the default ``record="series"``: the floor
   draws the same Gaussian variates from the same per-trajectory PCG64 streams (:mod:`spheretheory.simulation.
   _rng_numba`), as the kernel draws them (the state in registers: ``standard_normal_v``), ``prange`` over trajectories,
   and does nothing else (target ≤ 1.3× both; the older floor that stepped the state in memory is reported too).
3. the reduced kernel vs its own draw floor (two normals and a χ²_{d−3} per trajectory-iteration from the same
   streams, nothing else), without records, with summaries over ``simulate``'s default window (the last
   25 % of the iterations) and over every iteration, and with a record at every iteration (target ≤ 1.5×). Both
   sides are whole calls: ``simulate`` includes its setup (seeding the streams, the buffers), the floor only
   draws. A series of the six quantities at every iteration is 48 bytes per trajectory-iteration written to a
   fresh array (page faults and memory bandwidth, whatever the kernel does), so that case is also reported
   against the "records floor": the draw floor plus allocating and filling an array of the series' shape.
4. reduced vs numba full-d at d = 4096, kernels only (target ≥ 100×).
5. CuPy vs numba at 65,536 trajectories × d = 256 (GPU only), with the fraction of the GPU's memory bandwidth.

Every ratio is the best of ``--repeat`` alternated runs (a, b, a, b, ...) after one warm-up, so a burst of load
from other processes on a shared machine hits both sides; the reduced group also reports each ratio as the
median of the per-repetition ratios (``median_*``), which a drift of the machine's speed between repetitions
moves less. Sizes are chosen so that one call takes ≥ 0.1 s even with ``--quick``: the per-call overhead
(≈ 1 ms) is then below the noise. ``--cpu`` runs numba on one
thread and times CPU time (``time.process_time``) instead of wall time: on a loaded shared machine the wall
time of a two-thread run measures the other jobs as much as the kernel, while one thread's CPU time does not.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from _report import print_report  # benchmarks/_report.py (the script's folder is on sys.path)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


#: the clock of every timing (``--cpu``: time.process_time)
CLOCK = time.perf_counter


def best_time(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up (JIT compilation, caches)
    times = []
    for _ in range(repeat):
        t = CLOCK()
        fn()
        times.append(CLOCK() - t)
    return min(times)


class Paired(NamedTuple):
    """Two callables timed alternately: the best time of each, and the median over repetitions of the ratio
    a/b within one repetition (robust to the machine's speed drifting between repetitions, which best-of-each
    is not: the two bests may come from different repetitions)."""

    a: float
    b: float
    median_ratio: float


def paired(fa: Callable[[], object], fb: Callable[[], object], repeat: int) -> Paired:
    """``fa`` and ``fb`` measured alternately (a, b, a, b, ...) after one warm-up each, so that a burst of load
    from other processes on a shared machine hits both rather than one side of the ratio."""
    fa()
    fb()
    ta, tb = [], []
    for _ in range(repeat):
        t = CLOCK()
        fa()
        ta.append(CLOCK() - t)
        t = CLOCK()
        fb()
        tb.append(CLOCK() - t)
    return Paired(min(ta), min(tb), float(np.median(np.array(ta) / np.array(tb))))


def paired_best(fa: Callable[[], object], fb: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best times of ``fa`` and ``fb`` measured alternately (:func:`paired`)."""
    p = paired(fa, fb, repeat)
    return p.a, p.b


def _floor_kernels():
    from numba import njit, prange

    from spheretheory.simulation._rng_numba import chisquare_v, standard_normal_v

    @njit(parallel=True, cache=True)
    def full_floor(st, d, nsteps, out):  # pragma: no cover - compiled
        """The full-d kernel's draws and nothing else, drawn as it draws them: the state of stream j in four
        locals (``standard_normal_v``), written back once."""
        for j in prange(st.shape[0]):
            sh, sl, ih, il = st[j, 0], st[j, 1], st[j, 2], st[j, 3]
            acc = 0.0
            for _s in range(nsteps):
                for _i in range(d):
                    z, sh, sl = standard_normal_v(sh, sl, ih, il)
                    acc += z
            st[j, 0] = sh
            st[j, 1] = sl
            out[j] = acc

    @njit(parallel=True, cache=True)
    def reduced_floor(st, df, nsteps, out):  # pragma: no cover - compiled
        """The reduced kernel's draws and nothing else, drawn as it draws them: each stream's state in four
        locals (``standard_normal_v``, ``chisquare_v``), written back once."""
        for j in prange(st.shape[1]):
            acc = 0.0
            sh, sl, ih, il = st[0, j, 0], st[0, j, 1], st[0, j, 2], st[0, j, 3]
            for _s in range(nsteps):
                z1, sh, sl = standard_normal_v(sh, sl, ih, il)
                z2, sh, sl = standard_normal_v(sh, sl, ih, il)
                acc += z1 + z2
            st[0, j, 0] = sh
            st[0, j, 1] = sl
            sh, sl, ih, il = st[1, j, 0], st[1, j, 1], st[1, j, 2], st[1, j, 3]
            for _s in range(nsteps):
                x, sh, sl = chisquare_v(sh, sl, ih, il, df)
                acc += x
            st[1, j, 0] = sh
            st[1, j, 1] = sl
            out[j] = acc

    @njit(parallel=True, cache=True)
    def fill_records(out):  # pragma: no cover - compiled
        """Write every element of a fresh (NQ, R, N) array once, row by row (the cheapest order)."""
        for q in range(out.shape[0]):
            for r in prange(out.shape[1]):
                for j in range(out.shape[2]):
                    out[q, r, j] = 1.0

    return full_floor, reduced_floor, fill_records


def _floor_in_memory():
    """The full-d floor of earlier sessions, for comparison: the state stepped in the (n, 4) array itself, which
    LLVM cannot keep in registers, as the kernel did before it drew from ``standard_normal_v``."""
    from numba import njit, prange

    from spheretheory.simulation._rng_numba import standard_normal

    @njit(parallel=True, cache=True)
    def full_floor_in_memory(st, d, nsteps, out):  # pragma: no cover - compiled
        for j in prange(st.shape[0]):
            acc = 0.0
            for _s in range(nsteps):
                for _i in range(d):
                    acc += standard_normal(st, j)
            out[j] = acc

    return full_floor_in_memory


def _states(n: int, streams: int = 1) -> np.ndarray:
    from spheretheory.simulation._rng import stream_states

    return stream_states(np.random.SeedSequence(1), n, streams)


def bench_full(args: argparse.Namespace, out: dict) -> None:
    from numba import get_num_threads

    from spheretheory.simulation import simulate

    n, d, steps = (256, 256, 400) if args.quick else (1024, 256, 2000)
    np_steps = 100 if args.quick else 400
    common = dict(lr=0.1, weight_decay=1e-3, momentum=0.9, dim=d, trajectories=n, seed=0)
    full_floor, _, _ = _floor_kernels()
    st = _states(n)[0]
    sink = np.zeros(n)
    floor = lambda: full_floor(st, d, steps, sink)  # noqa: E731
    t_sum, t_floor = paired_best(
        lambda: simulate("sgdm", steps=steps, backend="numba", record="summary", **common), floor, args.repeat
    )
    t_ser, t_floor2 = paired_best(lambda: simulate("sgdm", steps=steps, backend="numba", **common), floor, args.repeat)
    old_floor = _floor_in_memory()
    t_floor3, t_old = paired_best(floor, lambda: old_floor(st, d, steps, sink), args.repeat)
    simulate("sgdm", steps=5, backend="numpy", **common)
    t = CLOCK()
    simulate("sgdm", steps=np_steps, backend="numpy", record="summary", **common)
    t_numpy = CLOCK() - t
    draws = n * d * steps
    out["numba_vs_numpy"] = {
        "sizes": f"SGDM, {n} trajectories x d={d}; numba {steps} steps, numpy {np_steps} steps",
        "speedup_per_step": (t_numpy / np_steps) / (t_sum / steps),
        "target": ">= 5",
    }
    out["full_vs_floor"] = {
        "sizes": f"SGDM, {n} x d={d} x {steps} steps = {draws:.3g} Gaussian draws",
        "summary_ratio": t_sum / t_floor,
        "series_ratio": t_ser / t_floor2,
        "target": "<= 1.3 (both: the CLI's default is summary, the API's series)",
        "floor_ns_per_draw": t_floor / draws * 1e9,
        # the floor of earlier sessions stepped the state in memory; the ratios against it, for comparison
        "in_memory_floor_over_floor": t_old / t_floor3,
        "summary_ratio_vs_in_memory_floor": t_sum / t_floor * t_floor3 / t_old,
        "series_ratio_vs_in_memory_floor": t_ser / t_floor2 * t_floor3 / t_old,
        "numba_threads": get_num_threads(),
    }


def bench_reduced_floor(args: argparse.Namespace, out: dict) -> None:
    from spheretheory.simulation import simulate

    n, d, steps = (4096, 4096, 400) if args.quick else (16384, 4096, 1000)
    common = dict(lr=0.1, weight_decay=1e-3, momentum=0.9, dim=d, trajectories=n, steps=steps, seed=0)
    _, reduced_floor, fill_records = _floor_kernels()
    st = _states(n, 2)
    sink = np.zeros(n)
    floor = lambda: reduced_floor(st, d - 3.0, steps, sink)  # noqa: E731

    def records_floor() -> None:  # the draws, then a fresh series array (6 quantities × steps × n) filled
        floor()
        fill_records(np.empty((6, steps, n)))

    run = lambda **kw: simulate("sgdm", method="reduced", backend="numba", **common, **kw)  # noqa: E731
    none = paired(lambda: run(record="summary", summary_fraction=1.0 / steps), floor, args.repeat)
    every = paired(lambda: run(record="series"), floor, args.repeat)
    every2 = paired(lambda: run(record="series"), records_floor, args.repeat)
    summ = paired(lambda: run(record="summary", summary_fraction=1.0), floor, args.repeat)
    dflt = paired(lambda: run(record="summary"), floor, args.repeat)  # simulate's default window
    ts = n * steps
    out["reduced_vs_floor"] = {
        "sizes": f"SGDM, {n} trajectories x {steps} steps, d={d}",
        "floor_ns_per_trajectory_step": none.b / ts * 1e9,
        "no_records_ratio": none.a / none.b,
        "record_every_step_ratio": every.a / every.b,
        "record_every_step_vs_records_floor": every2.a / every2.b,
        "records_floor_ns_per_trajectory_step": every2.b / ts * 1e9,
        "summary_every_step_ratio": summ.a / summ.b,
        "summary_default_window_ratio": dflt.a / dflt.b,
        # the same ratios as medians of the per-repetition ratios (each repetition times both sides back to back)
        "median_no_records_ratio": none.median_ratio,
        "median_record_every_step_ratio": every.median_ratio,
        "median_record_every_step_vs_records_floor": every2.median_ratio,
        "median_summary_every_step_ratio": summ.median_ratio,
        "median_summary_default_window_ratio": dflt.median_ratio,
        "target": "<= 1.5",
    }


def bench_reduced_vs_full(args: argparse.Namespace, out: dict) -> None:
    from spheretheory.simulation import simulate

    n, d, steps = (64, 4096, 200) if args.quick else (256, 4096, 1000)
    common = dict(lr=0.1, weight_decay=1e-3, momentum=0.9, dim=d, trajectories=n, steps=steps, seed=0)
    common["record"] = "summary"
    t_full, t_red = paired_best(
        lambda: simulate("sgdm", backend="numba", method="full", **common),
        lambda: simulate("sgdm", backend="numba", method="reduced", **common),
        args.repeat,
    )
    out["reduced_vs_full"] = {
        "sizes": f"SGDM, {n} x d={d} x {steps} steps (kernels)",
        "full_s": t_full,
        "reduced_s": t_red,
        "speedup": t_full / t_red,
        "target": ">= 100",
    }


def bench_cupy(args: argparse.Namespace, out: dict) -> None:
    try:
        import cupy as cp

        cp.cuda.runtime.getDeviceCount()
    except Exception as exc:  # noqa: BLE001 - any failure means no usable GPU
        out["cupy_vs_numba"] = {"skipped": f"no CuPy/CUDA device ({type(exc).__name__})"}
        return
    from spheretheory.simulation import simulate

    n, d = 65_536, 256
    steps = 100 if args.quick else 500
    numba_steps = 20 if args.quick else 100
    common = dict(lr=0.1, weight_decay=1e-3, momentum=0.9, dim=d, trajectories=n, seed=0, record="summary")

    def run_gpu() -> None:
        simulate("sgdm", steps=steps, backend="cupy", dtype=args.gpu_dtype, **common)
        cp.cuda.Device().synchronize()

    t_gpu = best_time(run_gpu, args.repeat)
    t_cpu = best_time(lambda: simulate("sgdm", steps=numba_steps, backend="numba", **common), 1)
    per_gpu, per_cpu = t_gpu / steps, t_cpu / numba_steps

    # bare RNG throughput on the device: the same number of variates per step, nothing else
    def fill() -> None:
        for _ in range(steps):
            cp.random.standard_normal((n, d), dtype=args.gpu_dtype)
        cp.cuda.Device().synchronize()

    t_rng = best_time(fill, args.repeat) / steps
    props = cp.cuda.runtime.getDeviceProperties(0)
    # peak bandwidth = 2 (DDR) × memory clock (kHz) × bus width (bits) / 8; not every CUDA version reports it
    clock, width = props.get("memoryClockRate"), props.get("memoryBusWidth")
    peak_bw = 2.0 * clock * 1e3 * width / 8 if clock and width else float("nan")
    item = np.dtype(args.gpu_dtype).itemsize
    # array traffic per step, a lower bound: the RNG writes ξ; the kernel reads ξ, w, v, w0 and writes w, v
    bytes_per_step = 7 * n * d * item
    out["cupy_vs_numba"] = {
        "sizes": f"SGDM, {n} x d={d}, gpu {steps} steps ({args.gpu_dtype}), numba {numba_steps} steps",
        "gpu_s_per_step": per_gpu,
        "numba_s_per_step": per_cpu,
        "speedup": per_cpu / per_gpu,
        "gpu_rng_only_s_per_step": t_rng,
        "fraction_of_rng_fill_throughput": t_rng / per_gpu,
        "achieved_bandwidth_GBs": bytes_per_step / per_gpu / 1e9,
        "peak_bandwidth_GBs": peak_bw / 1e9,
        "fraction_of_peak_bandwidth": bytes_per_step / per_gpu / peak_bw,
        "device": props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"]),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (seconds)")
    ap.add_argument("--json", action="store_true", help="print JSON")
    ap.add_argument("--repeat", type=int, default=3, help="timed repetitions (best is kept)")
    ap.add_argument("--only", choices=["full", "reduced", "gpu"], default=None, help="run one group only")
    ap.add_argument("--gpu-dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--cpu", action="store_true", help="one numba thread, CPU time (robust to load)")
    args = ap.parse_args(argv)
    out: dict = {}
    if args.cpu:
        global CLOCK
        import numba

        numba.set_num_threads(1)
        CLOCK = time.process_time
        out["clock"] = "CPU time, one numba thread"
    if args.only in (None, "full"):
        bench_full(args, out)
    if args.only in (None, "reduced"):
        bench_reduced_floor(args, out)
        bench_reduced_vs_full(args, out)
    if args.only in (None, "gpu"):
        bench_cupy(args, out)
    out["load_average_1min"] = os.getloadavg()[0]
    print_report(out, args.json, width=32)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
