"""Input validation shared by every public entry point.

Every check raises ``TypeError`` (wrong kind of value) or ``ValueError`` (right kind, wrong range) with a
message that names the parameter and the allowed range, e.g. ``"lr must be in (0, inf); got -0.1"``. The CLI
turns these into a one-line message and exit code 2.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np


def _fmt_interval(low: float | None, high: float | None, low_inclusive: bool, high_inclusive: bool) -> str:
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    left = "[" if (low is not None and low_inclusive) else "("
    right = "]" if (high is not None and high_inclusive) else ")"
    return f"{left}{lo}, {hi}{right}"


def _describe(value: Any) -> str:
    arr = np.asarray(value)
    if arr.ndim == 0:
        return repr(arr.item())
    return f"array of shape {arr.shape}"


def as_float_array(name: str, value: Any) -> np.ndarray:
    """Convert ``value`` to a float64 array, raising ``TypeError`` naming ``name`` when it is not numeric.

    Booleans, strings, ``None`` and complex numbers are rejected.
    """
    if value is None or isinstance(value, (bool, np.bool_, str, bytes)):
        raise TypeError(f"{name} must be a real number or an array of real numbers; got {value!r}")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise TypeError(f"{name} must be a real number or an array of real numbers; got {value!r}") from exc
    if arr.dtype == object or arr.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must be a real number or an array of real numbers; got {_describe(value)} "
            f"of dtype {arr.dtype}"
        )
    return arr.astype(np.float64, copy=False)


def check_real(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> np.ndarray:
    """Validate a real scalar or array: finite and inside the interval given by ``low``/``high``.

    Returns the value as a float64 ndarray (0-d for scalars). Raises ``TypeError`` when it is not real-valued
    and ``ValueError`` (naming the parameter and the allowed interval) when it is non-finite or out of range.
    """
    arr = as_float_array(name, value)
    interval = _fmt_interval(low, high, low_inclusive, high_inclusive)
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty; allowed range {interval}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite and in {interval}; got {_first_bad(arr, ~np.isfinite(arr))}")
    if low is not None:
        bad = arr < low if low_inclusive else arr <= low
        if np.any(bad):
            raise ValueError(f"{name} must be in {interval}; got {_first_bad(arr, bad)}")
    if high is not None:
        bad = arr > high if high_inclusive else arr >= high
        if np.any(bad):
            raise ValueError(f"{name} must be in {interval}; got {_first_bad(arr, bad)}")
    return arr


def _first_bad(arr: np.ndarray, mask: np.ndarray) -> str:
    if arr.ndim == 0:
        return f"{arr.item()!r}"
    idx = tuple(int(i) for i in np.argwhere(mask)[0])
    return f"{arr[idx].item()!r} at index {idx}"


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Validate an integer scalar in ``[low, high]`` and return it as a Python ``int``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise TypeError(f"{name} must be an integer; got {value!r}")
    value = int(value)
    interval = f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be an integer in {interval}; got {value}")
    return value


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Validate that ``value`` is one of ``choices`` (case-insensitive); return the canonical lower-case name."""
    choices = tuple(choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {', '.join(choices)}; got {value!r}")
    key = value.strip().lower()
    if key not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return key


def broadcast(**arrays: np.ndarray) -> dict[str, np.ndarray]:
    """Broadcast named arrays against each other, raising ``ValueError`` naming them when shapes clash."""
    try:
        out = np.broadcast_arrays(*arrays.values())
    except ValueError as exc:
        shapes = ", ".join(f"{k}{np.shape(v)}" for k, v in arrays.items())
        raise ValueError(f"parameters cannot be broadcast together: {shapes}") from exc
    return dict(zip(arrays.keys(), out, strict=True))


def scalar_or_array(arr: np.ndarray) -> float | bool | np.ndarray:
    """Return a Python float (bool for boolean arrays) for 0-d arrays and the array otherwise."""
    arr = np.asarray(arr)
    if arr.ndim:
        return arr
    return bool(arr) if arr.dtype == bool else float(arr)


#: largest width accepted by the finite-d predictions (beyond it the O(1/d) terms are below double precision)
MAX_DIM = 10**12


def check_dim(value: Any, *, name: str = "dim", low: int = 2, high: int = MAX_DIM) -> int:
    """Validate a weight-group width d: an integer in ``[low, high]`` (ValueError naming ``name`` and the range)."""
    interval = f"[{low}, {high}]"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, float, np.floating)):
        raise ValueError(f"{name} must be an integer in {interval}; got {value!r}")
    if isinstance(value, (float, np.floating)):
        if not (math.isfinite(value) and float(value).is_integer()):
            raise ValueError(f"{name} must be an integer in {interval}; got {value!r}")
    if not low <= int(value) <= high:
        raise ValueError(f"{name} must be an integer in {interval}; got {value!r}")
    return int(value)
