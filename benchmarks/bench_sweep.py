"""Sweep throughput (issue 16): a 2-worker LocalCluster vs 1 worker on CPU-bound points, and the per-point
overhead of the Dask path against running the same points in-process, all measured in one run.

Usage::

    python benchmarks/bench_sweep.py                 # 8 points of ~0.5 s each
    python benchmarks/bench_sweep.py --points 16 --target 1.0
    python benchmarks/bench_sweep.py --json

The points are reduced-state SGDM runs (one numba thread each, as on the default cluster), calibrated to take
``--target`` seconds in this process. Workers are warmed up (imports, numba cache) before any timing; cluster
start-up is not counted. Reported:

* ``speedup_2_over_1`` = wall(1 worker) / wall(2 workers) — target ≥ 1.7 on two free cores;
* ``overhead_per_point`` = (wall(1 worker) − wall(in-process)) / points / (in-process seconds per point) —
  target < 5 %: what the Dask path (serialization, scheduling, the client's store writes) adds per point;
* ``dask_overhead_per_point`` = (wall(1 worker) − Σ task seconds) / Σ task seconds: the same overhead measured
  inside the one run (it does not count a slowdown of the computation itself by other load on the machine);
* the load average before and after (on a shared machine the ratios mean little when it exceeds the cores).

It also checks that the three executions give bit-identical results (seeds derive from the points).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def _warm() -> None:
    import numba

    import spheretheory as st

    numba.set_num_threads(1)
    st.simulate("sgdm", lr=0.1, weight_decay=1e-3, momentum=0.9, steps=50, trajectories=8, method="reduced",
                record="summary", progress=False, seed=0)  # fmt: skip


def main() -> int:
    import numba
    from distributed import Client, LocalCluster

    import spheretheory as st

    ap = argparse.ArgumentParser()
    # 24 points (12 per worker) so that start-up and the last, unbalanced point do not dominate the ratio
    ap.add_argument("--points", type=int, default=24)
    ap.add_argument("--target", type=float, default=0.5, help="seconds per point (default 0.5)")
    ap.add_argument("--trajectories", type=int, default=256)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    load0 = os.getloadavg()

    _warm()
    numba.set_num_threads(1)
    fixed = {"optimizer": "sgdm", "momentum": 0.9, "weight_decay": 1e-3, "trajectories": args.trajectories}
    with tempfile.TemporaryDirectory() as tmp:  # warm the in-process path too (imports, store)
        st.sweep({**fixed, "lr": [0.1, 0.2], "steps": 100}, client="inline", store=os.path.join(tmp, "warm.zarr"))
    # calibrate the steps so that one point takes --target seconds here
    probe = 4000
    t0 = time.perf_counter()
    st.sweep({**fixed, "lr": 0.1, "steps": probe}, client="inline")
    steps = max(500, int(probe * args.target / (time.perf_counter() - t0)))
    grid = {**fixed, "steps": steps, "lr": list(np.linspace(0.05, 0.5, args.points))}

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        inline = st.sweep(grid, client="inline", store=os.path.join(tmp, "inline.zarr"))
        wall_inline = time.perf_counter() - t0
        walls = {}
        results = {}
        for n in (1, 2):
            with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                              env={"NUMBA_NUM_THREADS": "1"}) as cluster, Client(cluster) as client:  # fmt: skip
                client.run(_warm)
                t0 = time.perf_counter()
                results[n] = st.sweep(grid, client=client, store=os.path.join(tmp, f"w{n}.zarr"))
                walls[n] = time.perf_counter() - t0
    identical = all(
        np.array_equal(inline[v].values, results[n][v].values, equal_nan=True)
        for n in (1, 2)
        for v in ("measured", "se")
    )
    per_point = wall_inline / args.points
    out = {
        "problem": f"{args.points} reduced-state SGDM points, {steps} steps x {args.trajectories} trajectories",
        "seconds_per_point_in_process": per_point,
        "wall_in_process_s": wall_inline,
        "wall_1_worker_s": walls[1],
        "wall_2_workers_s": walls[2],
        "speedup_2_over_1": walls[1] / walls[2],
        "overhead_per_point": (walls[1] - wall_inline) / args.points / per_point,
        "overhead_per_point_s": (walls[1] - wall_inline) / args.points,
        # robust to a loaded machine: the 1-worker wall time not spent inside the tasks, per point, over the
        # task time per point (scheduling, transfers, the client's store writes)
        "dask_overhead_per_point": (walls[1] - float(results[1]["wall_s"].sum())) / float(results[1]["wall_s"].sum()),
        "task_seconds_per_point_in_process": float(inline["wall_s"].mean()),
        "task_seconds_per_point_1_worker": float(results[1]["wall_s"].mean()),
        "task_seconds_per_point_2_workers": float(results[2]["wall_s"].mean()),
        "identical_results": identical,
        "cores": os.cpu_count(),
        "load_average_before": load0[0],
        "load_average_after": os.getloadavg()[0],
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for k, v in out.items():
            print(f"{k:>30}: {v:.4g}" if isinstance(v, float) else f"{k:>30}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
