"""JSON helpers shared by the CLI, the claim reports and paper_checks (a leaf module: numpy only)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["to_jsonable", "dumps_json"]


def to_jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays (recursively) to JSON-ready Python objects; non-finite floats become None.

    Parameters
    ----------
    obj:
        Any nesting of mappings, lists/tuples, numpy arrays and scalars, Python numbers and strings.

    Returns
    -------
    The same structure with dict keys as strings, arrays as lists, numpy scalars as Python scalars, and NaN/±inf
    as ``None`` (strict JSON has no NaN/Infinity).
    """
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else None
    return obj


def dumps_json(obj: Any, indent: int | None = 2) -> str:
    """``obj`` as strict JSON text (via :func:`to_jsonable`: no NaN/Infinity)."""
    return json.dumps(to_jsonable(obj), indent=indent, allow_nan=False)
