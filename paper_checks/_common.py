"""Shared command line of the paper_checks modules: an output folder (default ``out/``) and ``--quick``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python paper_checks/x.py` puts paper_checks/ first on the path, not the repo
    sys.path.insert(0, str(ROOT))


def parse(description: str, argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("out", nargs="?", default="out", help="folder for the PNGs and numbers (default out/)")
    p.add_argument("--quick", action="store_true", help="smaller runs")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    args.out = Path(args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as _plt

    return _plt


def save_numbers(out: Path, name: str, numbers: dict[str, Any]) -> Path:
    from spheretheory._io import to_jsonable

    path = out / f"{name}_numbers.json"
    path.write_text(json.dumps(to_jsonable(numbers), indent=2))
    return path
