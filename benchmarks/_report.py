"""Printing of the benchmark scripts' result dicts (one place for the JSON and the indented text form)."""

from __future__ import annotations

import json
from typing import Any


def print_report(out: dict[str, Any], as_json: bool, width: int = 20) -> None:
    """``out`` as indented JSON, or as text: one block per dict entry (``key value`` lines), scalars on one line."""
    if as_json:
        print(json.dumps(out, indent=2))
        return
    for name, res in out.items():
        if not isinstance(res, dict):
            print(f"{name}: {res:.3g}" if isinstance(res, float) else f"{name}: {res}")
            continue
        print(name)
        for k, v in res.items():
            print(f"  {k:{width}s} {v:.4g}" if isinstance(v, float) else f"  {k:{width}s} {v}")
