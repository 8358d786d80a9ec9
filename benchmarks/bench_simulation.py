"""Speed ratios of the simulation backends, measured side by side in one run (issue 3).

Usage::

    python benchmarks/bench_simulation.py            # the issue's sizes
    python benchmarks/bench_simulation.py --quick    # smaller sizes, a few seconds
    python benchmarks/bench_simulation.py --json     # machine-readable

Ratios reported (targets from the issue):

1. numba full-d vs the numpy reference, SGDM, 1024 trajectories × d=256 × 2000 steps (target ≥ 5×).
2. numba full-d vs its floor: drawing the same number of Gaussian variates in numba with the same generators
   (one PCG64 ``np.random.Generator`` per chunk of trajectories, ziggurat sampler, ``prange`` over all cores)
   and doing nothing else (target ≤ 1.5×).
3. reduced-state vs numba full-d at d=4096 (target ≥ 100×), when ``spheretheory.simulation.reduced`` exists.
4. CuPy vs numba at 65,536 trajectories × d=256 (GPU only), with the fraction of the GPU's memory bandwidth
   reached (7 arrays of n·d values per step: cuRAND writes ξ, the kernel reads ξ, w, v, w0 and writes w, v)
   and the fraction of the bare ``cupy.random`` Gaussian throughput (time of the fill alone / time per step).

Every timing is the best of ``--repeat`` runs after one warm-up (compilation excluded).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def best_time(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up (JIT compilation, caches)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def paired_best(fa: Callable[[], object], fb: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best times of ``fa`` and ``fb`` measured alternately (a, b, a, b, ...), so that a burst of load from
    other processes on a shared machine hits both rather than one side of the ratio."""
    fa()
    fb()
    ta, tb = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        fa()
        ta.append(time.perf_counter() - t)
        t = time.perf_counter()
        fb()
        tb.append(time.perf_counter() - t)
    return min(ta), min(tb)


def _floor_kernel():
    from numba import njit, prange

    @njit(parallel=True, cache=True)
    def draw_only(gens, chunk, n_traj, d, nsteps, out):  # pragma: no cover - compiled
        K = len(gens)
        for k in prange(K):
            gen = gens[np.int64(k)]
            acc = 0.0
            for _j in range(k * chunk, min(n_traj, (k + 1) * chunk)):
                for _s in range(nsteps):
                    for _i in range(d):
                        acc += gen.standard_normal()
            out[k] = acc

    return draw_only


def bench_numba_vs_floor_and_numpy(args: argparse.Namespace, out: dict) -> None:
    from numba import get_num_threads
    from numba.typed import List

    from spheretheory.simulation import simulate
    from spheretheory.simulation._common import chunk_size, n_streams

    n, d, steps = (256, 256, 400) if args.quick else (1024, 256, 2000)
    np_steps = steps if not args.quick else 100
    common = dict(lr=0.1, weight_decay=1e-3, momentum=0.9, dim=d, trajectories=n, seed=0, record="summary")

    floor = _floor_kernel()
    gens = List()
    for child in np.random.SeedSequence(1).spawn(n_streams(n)):
        gens.append(np.random.Generator(np.random.PCG64(child)))
    sink = np.zeros(len(gens))
    t_numba, t_floor = paired_best(
        lambda: simulate("sgdm", steps=steps, backend="numba", **common),
        lambda: floor(gens, chunk_size(n), n, d, steps, sink),
        args.repeat,
    )
    # numpy reference (warm-up on 5 steps, one timed run): fewer steps in --quick mode; its cost is linear in
    # steps, so per-step times are compared
    simulate("sgdm", steps=5, backend="numpy", **common)
    t = time.perf_counter()
    simulate("sgdm", steps=np_steps, backend="numpy", **common)
    t_numpy = time.perf_counter() - t
    per_step_numba = t_numba / steps
    per_step_numpy = t_numpy / np_steps
    draws = n * d * steps
    out["numba_vs_numpy"] = {
        "sizes": f"SGDM, {n} trajectories x d={d}; numba {steps} steps, numpy {np_steps} steps",
        "numba_s_per_step": per_step_numba,
        "numpy_s_per_step": per_step_numpy,
        "speedup": per_step_numpy / per_step_numba,
        "target": ">= 5",
    }
    out["numba_vs_floor"] = {
        "sizes": f"SGDM, {n} x d={d} x {steps} steps = {draws:.3g} Gaussian draws",
        "numba_s": t_numba,
        "floor_s": t_floor,
        "ratio": t_numba / t_floor,
        "floor_draws_per_s": draws / t_floor,
        "numba_threads": get_num_threads(),
        "target": "<= 1.5",
    }


def bench_reduced(args: argparse.Namespace, out: dict) -> None:
    from spheretheory.simulation import simulate

    try:
        import spheretheory.simulation.reduced  # noqa: F401
    except ImportError:
        out["reduced_vs_full"] = {"skipped": "spheretheory.simulation.reduced is not available"}
        return
    n, d, steps = (64, 4096, 200) if args.quick else (256, 4096, 1000)
    common = dict(lr=0.1, weight_decay=1e-3, momentum=0.9, dim=d, trajectories=n, steps=steps, seed=0)
    common["record"] = "summary"
    t_full = best_time(lambda: simulate("sgdm", backend="numba", method="full", **common), args.repeat)
    try:
        t_red = best_time(lambda: simulate("sgdm", method="reduced", **common), args.repeat)
    except NotImplementedError as exc:
        out["reduced_vs_full"] = {"skipped": str(exc)}
        return
    out["reduced_vs_full"] = {
        "sizes": f"SGDM, {n} x d={d} x {steps} steps",
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
    ap.add_argument("--only", choices=["cpu", "reduced", "gpu"], default=None, help="run one group only")
    ap.add_argument("--gpu-dtype", default="float32", choices=["float32", "float64"])
    args = ap.parse_args(argv)
    out: dict = {}
    if args.only in (None, "cpu"):
        bench_numba_vs_floor_and_numpy(args, out)
    if args.only in (None, "reduced"):
        bench_reduced(args, out)
    if args.only in (None, "gpu"):
        bench_cupy(args, out)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for name, res in out.items():
            print(name)
            for k, v in res.items():
                print(f"  {k:32s} {v:.4g}" if isinstance(v, float) else f"  {k:32s} {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
