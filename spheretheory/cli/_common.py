"""Helpers shared by the subcommands: JSON output and plain-text tables."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._io import dumps_json


def print_json(obj: Any) -> None:
    """Print ``obj`` as one JSON object (strict JSON: no NaN/Infinity)."""
    print(dumps_json(obj))


def format_value(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not math.isfinite(v):
            return str(v)
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
            return f"{v:.6e}"
        return f"{v:.6g}"
    if isinstance(value, np.ndarray):
        return np.array2string(value, precision=6)
    return str(value)


def print_table(rows: Sequence[tuple[str, Any, str]], title: str | None = None) -> None:
    """Print ``(name, value, description)`` rows as an aligned table."""
    if title:
        print(title)
        print("-" * len(title))
    cells = [(name, format_value(value), desc) for name, value, desc in rows]
    w0 = max(len(c[0]) for c in cells)
    w1 = max(len(c[1]) for c in cells)
    for name, value, desc in cells:
        print(f"  {name:<{w0}}  {value:>{w1}}  {desc}".rstrip())


#: Order in which prediction keys are shown in tables.
DESCRIBED_ORDER: tuple[str, ...] = (
    "angular_update",
    "angular_update_first_order",
    "equilibrium_sq_norm",
    "equilibrium_sq_norm_first_order",
    "equilibrium_norm",
    "equilibrium_norm_first_order",
    "effective_lr",
    "effective_lr_first_order",
    "relaxation_steps",
    "contraction",
    "contraction_paper",
)
