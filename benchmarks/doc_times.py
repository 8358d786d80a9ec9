"""Wall times of the long commands the docs name, each as a multiple of one reference command timed in the same run.

The development machine is shared (2 cores, several jobs at once), so absolute seconds vary run to run by a
factor of a few; the ratio to a reference measured alongside is what the docs quote ("about N× the time of X").

    python benchmarks/doc_times.py [--only NAME ...]

Prints one line per command: name, seconds, ratio to the reference, the 1-minute load average before it ran.
Run it from the repository root (``python -m paper_checks.X`` needs the root on the path).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

REFERENCE = (
    "simulate (user guide §2)",
    "spheretheory simulate --optimizer sgdm --lr 0.1 --wd 5e-4 --momentum 0.9 --dim 256 --steps 20000 "
    "--trajectories 256 --method reduced --seed 0 --no-progress",
)

COMMANDS = (
    ("check --quick", "spheretheory check --quick --no-progress"),
    ("paper_checks.wan2021", "python -m paper_checks.wan2021 {tmp}"),
    ("paper_checks.wan2021 --quick", "python -m paper_checks.wan2021 {tmp} --quick"),
    ("paper_checks.li2020 --quick", "python -m paper_checks.li2020 {tmp} --quick"),
    ("paper_checks.adam", "python -m paper_checks.adam {tmp}"),
    ("paper_checks.regimes", "python -m paper_checks.regimes {tmp}"),
)


def _time(cmd: str, tmp: str) -> float:
    argv = cmd.format(tmp=tmp).split()
    if argv[0] == "spheretheory":
        argv = [sys.executable, "-m", "spheretheory", *argv[1:]]
    elif argv[0] == "python":
        argv = [sys.executable, *argv[1:]]
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="*", help="names (substrings) of the commands to time")
    args = p.parse_args(argv)
    chosen = [c for c in COMMANDS if not args.only or any(o in c[0] for o in args.only)]
    with tempfile.TemporaryDirectory() as tmp:
        _time(REFERENCE[1], tmp)  # warm numba's cache and the imports
        ref = _time(REFERENCE[1], tmp)
        print(f"{REFERENCE[0]:<32} {ref:8.1f} s  1.0x  load {os.getloadavg()[0]:.1f}", flush=True)
        for name, cmd in chosen:
            load = os.getloadavg()[0]
            sec = _time(cmd, tmp)
            ref_again = _time(REFERENCE[1], tmp)  # the reference right after, under the same load
            ratio = sec / (0.5 * (ref + ref_again))
            print(f"{name:<32} {sec:8.1f} s  {ratio:.0f}x  load {load:.1f}", flush=True)
            ref = ref_again
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
