"""Input validation shared by every public entry point.

Every check raises :class:`InputTypeError` (a ``TypeError``: wrong kind of value) or :class:`InputError` (a
``ValueError``: right kind, wrong range) with a message that names the parameter and the allowed range, e.g.
``"lr must be in (0, inf); got -0.1"``. The CLI turns exactly these two into a one-line message and exit code 2;
any other exception is a bug and keeps its traceback (exit 1).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np


class InputError(ValueError):
    """Bad input: a value of the right kind outside its allowed range (the CLI reports it in one line, exit 2)."""


class InputTypeError(TypeError):
    """Bad input: a value of the wrong kind (the CLI reports it in one line, exit 2)."""


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
        raise InputTypeError(f"{name} must be a real number or an array of real numbers; got {value!r}")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise InputTypeError(f"{name} must be a real number or an array of real numbers; got {value!r}") from exc
    if arr.dtype == object or arr.dtype.kind not in "iuf":
        raise InputTypeError(
            f"{name} must be a real number or an array of real numbers; got {_describe(value)} of dtype {arr.dtype}"
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
        raise InputError(f"{name} must not be empty; allowed range {interval}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} must be finite and in {interval}; got {_first_bad(arr, ~np.isfinite(arr))}")
    if low is not None:
        bad = arr < low if low_inclusive else arr <= low
        if np.any(bad):
            raise InputError(f"{name} must be in {interval}; got {_first_bad(arr, bad)}")
    if high is not None:
        bad = arr > high if high_inclusive else arr >= high
        if np.any(bad):
            raise InputError(f"{name} must be in {interval}; got {_first_bad(arr, bad)}")
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
            raise InputTypeError(f"{name} must be an integer; got {value!r}")
    value = int(value)
    interval = f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"
    if (low is not None and value < low) or (high is not None and value > high):
        raise InputError(f"{name} must be an integer in {interval}; got {value}")
    return value


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Validate that ``value`` is one of ``choices`` (case-insensitive); return the canonical lower-case name."""
    choices = tuple(choices)
    if not isinstance(value, str):
        raise InputTypeError(f"{name} must be a string, one of {', '.join(choices)}; got {value!r}")
    key = value.strip().lower()
    if key not in choices:
        raise InputError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return key


def broadcast(**arrays: np.ndarray) -> dict[str, np.ndarray]:
    """Broadcast named arrays against each other, raising ``ValueError`` naming them when shapes clash."""
    try:
        out = np.broadcast_arrays(*arrays.values())
    except ValueError as exc:
        shapes = ", ".join(f"{k}{np.shape(v)}" for k, v in arrays.items())
        raise InputError(f"parameters cannot be broadcast together: {shapes}") from exc
    return dict(zip(arrays.keys(), out, strict=True))


def scalar_or_array(arr: np.ndarray) -> float | bool | np.ndarray:
    """Return a Python float (bool for boolean arrays) for 0-d arrays and the array otherwise."""
    arr = np.asarray(arr)
    if arr.ndim:
        return arr
    return bool(arr) if arr.dtype == bool else float(arr)


def _writable_dir(name: str, directory: str, path: str) -> None:
    import os

    if not os.path.exists(directory):
        raise InputError(f"{name}: directory {directory!r} does not exist (for {path!r})")
    if not os.path.isdir(directory):
        raise InputError(f"{name}: {directory!r} is not a directory (for {path!r})")
    import tempfile

    try:  # a probe file: os.access is not reliable for root, /proc or read-only mounts
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".spheretheory-probe-"):
            pass
    except OSError as exc:
        raise InputError(f"{name}: cannot write in directory {directory!r} ({exc.strerror or exc})") from None


def check_output_file(name: str, path: Any, extensions: Iterable[str]) -> str:
    """Validate an output file path before any work is done: a string with one of ``extensions`` (lower case,
    without the dot), not an existing directory, inside an existing writable directory. Returns the path."""
    import os

    if not isinstance(path, (str, os.PathLike)):
        raise InputTypeError(f"{name} must be a file path; got {path!r}")
    path = os.fspath(path)
    exts = tuple(extensions)
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext not in exts:
        raise InputError(f"{name} must end in one of .{', .'.join(exts)}; got {path!r}")
    if os.path.isdir(path):
        raise InputError(f"{name}: {path!r} is a directory, not a file")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise InputError(f"{name}: {path!r} exists and is not writable")
    _writable_dir(name, os.path.dirname(os.path.abspath(path)), path)
    return path


def check_output_dir(name: str, path: Any) -> str:
    """Validate an output directory before any work is done: an existing writable directory, or a new one
    whose nearest existing ancestor is a writable directory (it is created later). Returns the path."""
    import os

    if not isinstance(path, (str, os.PathLike)):
        raise InputTypeError(f"{name} must be a directory path; got {path!r}")
    path = os.fspath(path)
    if os.path.exists(path):
        if not os.path.isdir(path):
            raise InputError(f"{name}: {path!r} exists and is not a directory")
        _writable_dir(name, path, path)
    else:
        ancestor = os.path.dirname(os.path.abspath(path))
        while not os.path.exists(ancestor) and os.path.dirname(ancestor) != ancestor:
            ancestor = os.path.dirname(ancestor)
        _writable_dir(name, ancestor, path)
    return path


def figure_extensions() -> tuple[str, ...]:
    """File extensions matplotlib can write (imports matplotlib: call it only when a figure is asked for)."""
    from matplotlib.backend_bases import FigureCanvasBase

    return tuple(sorted(FigureCanvasBase.get_supported_filetypes()))


#: Default memory budget: this fraction of the memory available when the check runs.
DEFAULT_MEMORY_FRACTION = 0.5

_memory_budget: Any = None  # set by memory_budget(); None means DEFAULT_MEMORY_FRACTION of available memory


def available_memory() -> int | None:
    """Bytes of memory available now (``MemAvailable``, capped by a cgroup limit), or None when unknown."""
    avail = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if avail is None:
        try:
            import os

            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(limit_file) as fh:
                text = fh.read().strip()
            if text.isdigit():
                avail = min(avail, int(text))
        except OSError:
            pass
    return avail


def parse_bytes(name: str, value: Any) -> int:
    """Parse a memory size such as ``"8G"``, ``"512M"``, ``"2.5GiB"`` or a number of bytes; return bytes."""
    import re

    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        number, unit = float(value), ""
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([kKmMgGtT]?)(?:i?[bB])?\s*", value)
        if not m:
            raise InputError(f"{name} must be a size such as 8G, 512M or a number of bytes; got {value!r}")
        number, unit = float(m.group(1)), m.group(2).upper()
    else:
        raise InputTypeError(f"{name} must be a size such as 8G, 512M or a number of bytes; got {value!r}")
    nbytes = number * 1024 ** "_KMGT".index(unit or "_")
    if not (math.isfinite(nbytes) and nbytes > 0):
        raise InputError(f"{name} must be a positive size; got {value!r}")
    return int(nbytes)


class memory_budget:  # noqa: N801 - used as a context manager, like np.errstate
    """Context manager: refuse work estimated above ``nbytes`` (None restores the default: a fraction
    :data:`DEFAULT_MEMORY_FRACTION` of the available memory). ``spheretheory simulate --max-memory`` uses it."""

    def __init__(self, nbytes: int | None) -> None:
        self.nbytes = nbytes

    def __enter__(self) -> memory_budget:
        global _memory_budget
        self._saved, _memory_budget = _memory_budget, self.nbytes
        return self

    def __exit__(self, *exc: object) -> None:
        global _memory_budget
        _memory_budget = self._saved


def format_bytes(nbytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(nbytes) < 1024 or unit == "PiB":
            return f"{nbytes:.3g} {unit}"
        nbytes /= 1024
    return f"{nbytes:.3g} PiB"  # pragma: no cover


def check_memory(what: str, nbytes: float, *, hint: str = "") -> None:
    """Refuse (``InputError``) work whose estimated memory ``nbytes`` exceeds the budget (see
    :class:`memory_budget`), before any of it is allocated. ``hint`` says how to need less."""
    budget = _memory_budget
    source = "the budget set with --max-memory / spheretheory._validation.memory_budget"
    if budget is None:
        avail = available_memory()
        if avail is None:
            return
        budget = DEFAULT_MEMORY_FRACTION * avail
        source = (
            f"{DEFAULT_MEMORY_FRACTION:g} of the {format_bytes(avail)} available; "
            "raise it with --max-memory or memory_budget"
        )
    if nbytes > budget:
        raise InputError(
            f"{what} would need about {format_bytes(nbytes)} of memory, above {format_bytes(budget)} ({source})"
            + (f"; {hint}" if hint else "")
        )


def simulation_bytes(
    *, grid: int, trajectories: int, dim: int, records: int, itemsize: int = 8, quantities: int = 6
) -> int:
    """Rough memory of a simulation: four (N, d) state arrays (w, w₀, momentum, second moment) of ``itemsize``
    bytes plus ``records`` float64 records of ``quantities`` quantities per trajectory, N = grid·trajectories."""
    n = int(grid) * int(trajectories)
    return 4 * n * int(dim) * int(itemsize) + int(records) * int(quantities) * n * 8


#: largest width accepted by the finite-d predictions (beyond it the O(1/d) terms are below double precision)
MAX_DIM = 10**12


def check_dim(value: Any, *, name: str = "dim", low: int = 2, high: int = MAX_DIM) -> int:
    """Validate a weight-group width d: an integer in ``[low, high]`` (InputError naming ``name`` and the range)."""
    interval = f"[{low}, {high}]"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, float, np.floating)):
        raise InputError(f"{name} must be an integer in {interval}; got {value!r}")
    if isinstance(value, (float, np.floating)):
        if not (math.isfinite(value) and float(value).is_integer()):
            raise InputError(f"{name} must be an integer in {interval}; got {value!r}")
    if not low <= int(value) <= high:
        raise InputError(f"{name} must be an integer in {interval}; got {value!r}")
    return int(value)
