"""Speed ratio of sphere training (issue 4): the numba NRQ kernel vs the numpy loop, measured in one run.

Usage::

    python benchmarks/bench_regimes.py            # 16 runs x d=10 x 20000 steps
    python benchmarks/bench_regimes.py --quick    # 2000 steps
    python benchmarks/bench_regimes.py --json

Both paths draw the same normals from the same seed; the script also checks that they give the same losses.
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
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for k, v in out.items():
            print(f"{k:>26}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
