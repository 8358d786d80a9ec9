"""Flags for values that are not finite: every nan/inf a public function returns carries its reason.

:class:`fp_events` silences numpy's floating-point warnings (which otherwise print lines of generated source on
stderr) and records which ones occurred; :func:`nonfinite_notes` names the reason for every non-finite output,
the specific reason where one is known and the recorded floating-point events otherwise. The CLI shows such
values as ``n/a`` with the note, and JSON as ``null`` with a ``notes`` entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


class fp_events:  # noqa: N801 - a context manager, like np.errstate
    """``with fp_events() as ev:`` — numpy floating-point errors inside are silenced and collected in ``ev.seen``
    (a sorted tuple of the names divide, overflow, invalid; underflow to zero is not an event)."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def _record(self, kind: str, flag: int) -> None:
        self._seen.add(kind.split()[0])  # numpy passes e.g. "overflow" or "invalid value"

    def __enter__(self) -> fp_events:
        self._state = np.errstate(divide="call", over="call", invalid="call", under="ignore", call=self._record)
        self._state.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._state.__exit__(*exc)

    @property
    def seen(self) -> tuple[str, ...]:
        return tuple(sorted(self._seen))


def _nonfinite(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_, str)) or value is None:
        return False
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return False
    return bool(arr.size) and not bool(np.all(np.isfinite(arr)))


def nonfinite_notes(
    values: Mapping[str, Any], reasons: Mapping[str, str] | None = None, events: tuple[str, ...] = ()
) -> dict[str, str]:
    """``{key: reason}`` for every value in ``values`` that is (or holds) nan or ±inf.

    ``reasons`` gives the known reason per key (or under ``"*"`` for all keys); otherwise the reason is the
    floating-point events recorded while computing (``events``), or that the value is out of float64 range.
    """
    reasons = dict(reasons or {})
    fallback = (
        f"not representable in float64 for these inputs (numpy reported {', '.join(events)})"
        if events
        else "not representable in float64 for these inputs"
    )
    notes = {}
    for key, value in values.items():
        if _nonfinite(value):
            notes[key] = reasons.get(key) or reasons.get("*") or fallback
    return notes
