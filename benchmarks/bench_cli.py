"""Whole CLI calls, timed side by side in one run against ``python -c "import numpy"`` (issue 15).

Usage::

    python benchmarks/bench_cli.py            # the issue's sizes (the full-d runs take minutes)
    python benchmarks/bench_cli.py --quick    # the fixed cost and a smaller reduced-vs-full pair
    python benchmarks/bench_cli.py --json
    python benchmarks/bench_cli.py --pairs 4096:1024   # reduced vs full at other sizes (d:trajectories)

Reported (targets from the issue):

1. ``simulate --method reduced --dim 4096 --trajectories 256 --steps 400`` (warm: numba's cache filled by a
   first call) over ``python -c "import numpy"`` (target ≤ 2×): the per-call fixed cost of the CLI.
2. ``simulate --method full`` over ``--method reduced`` at the same sizes through the CLI, at 4,000 steps and
   d = 4096 (target ≥ 100×) and at d = 16,384 (target ≥ 1000×). Beside each ratio, its ceiling: the full run
   over ``python -c "import numpy"``, the ratio a reduced call would reach if it cost no more than starting
   Python with numpy (no CLI call can).
3. The peak resident memory of ``simulate --method reduced --trajectories 65536 --steps 4000`` (target
   ≤ 0.5 GB), read from ``getrusage`` of a wrapper process that runs only that command.

Each time is the best of ``--repeat`` runs, the commands of one comparison alternated (a, b, a, b, ...) so that
load from other processes on a shared machine hits both sides; the 1-minute load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from _report import print_report  # benchmarks/_report.py (the script's folder is on sys.path)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
PY = sys.executable


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    # "warm" means every cache filled, Python's bytecode cache too (as in any installation); a shell that sets
    # PYTHONDONTWRITEBYTECODE would otherwise make each call compile every module's source again (≈ 0.1 s)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def cli(*args: str) -> list[str]:
    return [PY, "-m", "spheretheory", *args, "--no-progress"]


def wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=_env())
    return time.perf_counter() - t


def paired(cmds: list[list[str]], repeat: int, warm: list[list[str]] | None = None) -> list[float]:
    """Best wall time of each command, the commands alternated; one untimed warm-up call each (or the calls in
    ``warm``: a short run fills the same caches as a long one)."""
    for c in cmds if warm is None else warm:
        wall(c)
    best = [float("inf")] * len(cmds)
    for _ in range(repeat):
        for i, c in enumerate(cmds):
            best[i] = min(best[i], wall(c))
    return best


def peak_rss_gb(cmd: list[str]) -> float:
    """Peak RSS of ``cmd`` (its own process: the wrapper runs nothing else and reports its children's max)."""
    code = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], check=True, capture_output=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run([PY, "-c", code, *cmd], check=True, capture_output=True, text=True, env=_env())
    return int(out.stdout.strip()) / 1024**2  # ru_maxrss is in KiB on Linux


def sim(method: str, dim: int, n: int, steps: int) -> list[str]:
    return cli(
        "simulate", "--method", method, "--dim", str(dim), "--trajectories", str(n), "--steps", str(steps),
        "--optimizer", "sgdm", "--json",
    )  # fmt: skip


def _pairs(text: str) -> list[tuple[int, int]]:
    """``d:trajectories[,d:trajectories...]`` -> [(d, trajectories), ...] (argparse type: a bad value is one line)."""
    try:
        pairs = [tuple(int(x) for x in item.split(":")) for item in text.split(",")]
    except ValueError:
        pairs = []
    if not pairs or any(len(p) != 2 or p[0] < 2 or p[1] < 1 for p in pairs):
        raise argparse.ArgumentTypeError(f"expected d:trajectories[,d:trajectories...] with d >= 2; got {text!r}")
    return pairs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fixed cost, memory and a small reduced-vs-full pair")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only-fixed", action="store_true", help="only the fixed cost (item 1)")
    ap.add_argument(
        "--pairs",
        type=_pairs,
        default=None,
        help="reduced-vs-full sizes as d:trajectories[,d:trajectories...] at 4,000 steps (default: the issue's "
        "4096:256 and 16384:256; --quick: 4096:64)",
    )
    args = ap.parse_args(argv)
    out: dict = {"load_average_1min_start": os.getloadavg()[0]}

    t_np, t_red = paired([[PY, "-c", "import numpy"], sim("reduced", 4096, 256, 400)], args.repeat)
    out["fixed_cost"] = {
        "command": "simulate --method reduced --dim 4096 --trajectories 256 --steps 400",
        "cli_s": t_red,
        "import_numpy_s": t_np,
        "ratio": t_red / t_np,
        "target": "<= 2",
    }
    pairs = [(4096, 64, 4000, ">= 100")] if args.quick else [(4096, 256, 4000, ">= 100"), (16384, 256, 4000, ">= 1000")]
    if args.pairs:
        pairs = [(d, n, 4000, ">= 1000" if d >= 16384 else ">= 100") for d, n in args.pairs]
    if args.only_fixed:
        pairs = []
    for d, n, steps, target in pairs:
        reps = 1 if not args.quick else args.repeat
        warm = [sim("full", d, n, 10), sim("reduced", d, n, steps)]  # a 10-step full run fills the same caches
        t_full, t_r = paired([sim("full", d, n, steps), sim("reduced", d, n, steps)], reps, warm)
        out[f"full_vs_reduced_d{d}_n{n}"] = {
            "sizes": f"{n} trajectories x {steps} steps, d={d}, through the CLI",
            "full_s": t_full,
            "reduced_s": t_r,
            "ratio": t_full / t_r,
            "target": target,
            "ceiling_ratio_full_over_import_numpy": t_full / t_np,
        }
    if not args.only_fixed:
        out["peak_memory_reduced_65536x4000"] = {
            "peak_rss_GB": peak_rss_gb(sim("reduced", 4096, 65536, 4000)),
            "target": "<= 0.5",
        }
    out["load_average_1min_end"] = os.getloadavg()[0]
    print_report(out, args.json, width=20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
