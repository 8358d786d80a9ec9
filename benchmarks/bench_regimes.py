"""Speed ratios of sphere training, measured in one run.

Usage::

    python benchmarks/bench_regimes.py            # 16 runs x d=10 x 20000 steps; net sweep at the CLI's sizes
    python benchmarks/bench_regimes.py --quick    # 2000 steps; net sweep of 1000 steps
    python benchmarks/bench_regimes.py --json

1. (issue 4) the numba NRQ kernel vs the numpy loop. Both paths draw the same normals from the same seed; the
   script also checks that they give the same losses.
2. (issue 15) ``regimes --model net`` (``regimes.sweep("net")``: 5 ELRs × 8 runs × 4000 steps, a record every
   5 steps) against the same sweep as it ran before issue 15: one ``train_sphere`` per ELR with the full-data
   loss at every record. The sweep now advances the ELRs jointly and evaluates the loss only over the half the
   classifier reads; the classification and the derived boundaries, common to both, are timed once and added
   to both sides. Target ≥ 1.6×. The script checks that both give the same regimes.

Every timing is the best of ``--repeat`` runs after one warm-up (compilation excluded).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def best_time(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_net_sweep(steps: int, repeat: int) -> dict:
    from spheretheory.regimes.classify import classify
    from spheretheory.regimes.phase import _boundaries, _convergence_steps, make_model, sweep
    from spheretheory.training import train_sphere

    elrs = [1e-4, 1e-3, 1e-2, 1e-1, 1.0]  # the CLI's defaults
    model = make_model("net")
    kw = dict(runs=8, seed=0, record_every=5, progress_bar=False)

    def before() -> list:  # the pre-issue-15 sweep's training: one call per ELR, the loss at every record
        return [train_sphere(model, e, steps, **kw) for e in elrs]

    def common(trs: list) -> list[str]:  # classification and derived boundaries (unchanged)
        res = [classify(tr, convergence_steps=_convergence_steps(model, e)) for e, tr in zip(elrs, trs, strict=True)]
        _boundaries(model, steps, trs, [{"regime": r.regime} for r in res])
        return [r.regime for r in res]

    trs = before()
    regimes_before = common(trs)
    t_common = best_time(lambda: common(trs), repeat)
    t_before = best_time(before, repeat) + t_common
    t_after = best_time(lambda: sweep(model, elrs, steps=steps, runs=8, seed=0, progress_bar=False), repeat)
    after_regimes = sweep(model, elrs, steps=steps, runs=8, seed=0, progress_bar=False).regimes()
    return {
        "net_sweep": f"regimes --model net: 5 ELRs x 8 runs x {steps} steps",
        "net_sweep_before_s": t_before,
        "net_sweep_after_s": t_after,
        "net_sweep_speedup": t_before / t_after,
        "net_sweep_target": ">= 1.6",
        "net_sweep_same_regimes": regimes_before == after_regimes,
    }


def main() -> int:
    from spheretheory.models import NoisyRayleighQuotient
    from spheretheory.training import train_sphere

    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    steps = 2000 if args.quick else 20000
    m = NoisyRayleighQuotient()
    runs = {b: (lambda b=b: train_sphere(m, 0.05, steps, runs=16, seed=1, backend=b)) for b in ("numpy", "numba")}
    same = float(np.max(np.abs(runs["numpy"]().loss - runs["numba"]().loss)))
    t = {b: best_time(fn, args.repeat) for b, fn in runs.items()}
    out = {
        "problem": f"NRQ d=10, 16 runs x {steps} steps, ELR 0.05",
        "numpy_s": t["numpy"],
        "numba_s": t["numba"],
        "ratio_numpy_over_numba": t["numpy"] / t["numba"],
        "max_abs_loss_difference": same,
    }
    out.update(bench_net_sweep(1000 if args.quick else 4000, args.repeat))
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for k, v in out.items():
            print(f"{k:>26}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
