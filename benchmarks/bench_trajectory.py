"""Speed of the trajectory prediction (issue 11: 10⁶ steps in under 0.1 s after warm-up), measured in one run.

Usage::

    python benchmarks/bench_trajectory.py            # 10⁶ steps, SGDM and AdamW, cosine and constant schedules
    python benchmarks/bench_trajectory.py --json

Reports, as the best of ``--repeat`` runs after one warm-up (compilation excluded): the whole call
(schedule evaluation, validation, kernel, equilibria at the records) with ``every=1000``, the same without the
equilibria, and the numba kernel's speed-up over the numpy reference (measured on 20,000 steps, scaled per step).
On a shared machine the absolute times follow the load; the ratios measured in the same run do not: each case is
also given in units of one numpy pass ``np.cos`` over 10⁶ floats (``cos_units``), and the share of the call spent
on the instantaneous equilibria.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def best_time(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    from spheretheory import trajectory

    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    cases = {
        "sgdm": dict(optimizer="sgdm", lr=0.1, weight_decay=1e-3, momentum=0.9),
        "adamw": dict(optimizer="adamw", lr=1e-3, weight_decay=0.1, dim=1024),
    }
    import numpy as np

    x = np.arange(args.steps, dtype=np.float64)
    cos_time = best_time(lambda: np.cos(x), args.repeat)
    out = {}
    for name, kw in cases.items():
        for sched in ("constant", "warmup:0.01,cosine"):
            run = dict(kw, steps=args.steps, every=1000, lr_schedule=sched)
            full = best_time(lambda run=run: trajectory(**run), args.repeat)
            bare = best_time(lambda run=run: trajectory(**run, equilibrium=False), args.repeat)
            small = dict(run, steps=20_000, every=1000, equilibrium=False)
            t_numba = best_time(lambda small=small: trajectory(**small), args.repeat)
            t_numpy = best_time(lambda small=small: trajectory(**small, backend="numpy"), 1)
            out[f"{name} {sched}"] = {
                "seconds_full": full,
                "seconds_without_equilibria": bare,
                "steps_per_second": args.steps / bare,
                "numba_over_numpy_speedup": t_numpy / t_numba,
                "cos_units": full / cos_time,
                "equilibria_share": max(full - bare, 0.0) / full,
            }
    if args.json:
        print(json.dumps({"steps": args.steps, "cos_seconds": cos_time, "cases": out}, indent=2))
        return 0
    head = f"trajectory, {args.steps} steps, best of {args.repeat} after warm-up (target: < 0.1 s); "
    print(head + f"one np.cos pass over {args.steps} floats took {cos_time * 1e3:.1f} ms in this run")
    for k, v in out.items():
        print(
            f"  {k:28s} full {v['seconds_full']:.3f} s | without equilibria {v['seconds_without_equilibria']:.3f} s"
            f" | = {v['cos_units']:.1f} np.cos passes | equilibria {100 * v['equilibria_share']:.0f}%"
            f" | numba/numpy speed-up x{v['numba_over_numpy_speedup']:.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
