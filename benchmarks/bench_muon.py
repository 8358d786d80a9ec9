"""Speed ratio of ``simulate("muon")``'s numba kernel vs its numpy reference path, measured side by side in one run.

Usage::

    python benchmarks/bench_muon.py            # 32×64 and 8×16 matrices
    python benchmarks/bench_muon.py --quick    # fewer steps
    python benchmarks/bench_muon.py --json

Both paths run the same steps on the same draws (they agree to round-off: tests/test_muon_backends.py). Each
ratio is the best of ``--repeat`` alternated runs (numpy, numba, numpy, ...) after one warm-up (the JIT compile),
so a burst of load from other processes on a shared machine hits both sides.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def paired_best(fa, fb, repeat: int) -> tuple[float, float]:
    fa()
    fb()
    ta, tb = [], []
    for _ in range(repeat):
        for fn, out in ((fa, ta), (fb, tb)):
            t = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t)
    return min(ta), min(tb)


def main(argv: list[str] | None = None) -> int:
    from spheretheory import simulate

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    steps = 100 if args.quick else 400
    cases = [
        ("32x64 Newton-Schulz, 16 trajectories", (32, 64), 16, {}),
        ("8x16 Newton-Schulz, 64 trajectories", (8, 16), 64, {}),
        ("8x16 exact polar (SVD), 64 trajectories", (8, 16), 64, {"ns_steps": 0}),
    ]
    rows = []
    for label, shape, n, options in cases:
        kw = dict(dim=shape, steps=steps, trajectories=n, seed=0, options=options, record="summary")

        def run(backend, kw=kw):
            return simulate("muon", 0.02, 0.1, 0.95, backend=backend, **kw)

        t_np, t_nb = paired_best(lambda: run("numpy"), lambda: run("numba"), args.repeat)
        rows.append({"case": label, "steps": steps, "numpy_s": t_np, "numba_s": t_nb, "ratio": t_np / t_nb})
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            print(
                f"{r['case']:<44} {r['steps']} steps: numpy {r['numpy_s']:.3f} s, numba {r['numba_s']:.3f} s, "
                f"numpy/numba = {r['ratio']:.2f}x"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
