"""What a :class:`~spheretheory.integrations.pytorch.monitor.SphereMonitor` records, and the numpy side of it.

* the record schema: raw sums :data:`RAW_KEYS`, hyperparameters :data:`HYPER`, derived series :data:`SERIES`;
* :func:`derive_series` — the series (‖w‖², Δ_t, ‖g̃‖², h̃, ELR, ...) from the raw sums;
* :class:`ColumnLayout` — which group each recorded column belongs to, and its size;
* :class:`RecordStore` — records appended as device tensors, moved into numpy arrays in chunks;
* :class:`MonitoredRun` — the read-only view of a monitor that :mod:`.compare` and :mod:`.plot` use.

No torch state lives here beyond the tensors handed to :meth:`RecordStore.append`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch

from ...analysis import angle_between

__all__ = [
    "HYPER",
    "POST_KEYS",
    "PRE_KEYS",
    "RAW_KEYS",
    "SERIES",
    "ColumnLayout",
    "MonitoredRun",
    "RecordStore",
    "derive_series",
]

#: Raw sums taken before the step (w_t, g_t, v_{t−1}, w_0) and after it (d = w_{t+1} − w_t, Adam's √v̂ + ε).
#: ``wv`` = ⟨w_t, v_{t−1}⟩ and ``v2`` = ‖v_{t−1}‖² (SGD's momentum buffer; 0 otherwise) complete the state of the
#: SGD family's moment map, from which :mod:`.trajectory` starts its prediction.
PRE_KEYS: tuple[str, ...] = ("w2", "g2", "wg", "vg", "w0w", "wv", "v2")
POST_KEYS: tuple[str, ...] = ("d2", "dw", "b2")
RAW_KEYS: tuple[str, ...] = PRE_KEYS + POST_KEYS
#: Derived series, named as in :data:`spheretheory.simulation.result.QUANTITIES` (+ ``cos_wg``).
SERIES: tuple[str, ...] = (
    "sq_norm",
    "angular_update",
    "unit_grad_sq",
    "h_tilde",
    "effective_lr",
    "cos_wg",
    "cos_to_start",
)
#: Hyperparameters recorded per group at every record.
HYPER: tuple[str, ...] = ("lr", "weight_decay", "momentum")
#: Records kept as device tensors before they are moved into numpy arrays (one device sync per chunk).
CHUNK = 1024


class MonitoredRun(Protocol):
    """What :func:`~spheretheory.integrations.pytorch.compare.compare` and the plots read from a monitor."""

    groups: list[Any]
    message: str
    every: int

    @property
    def n_records(self) -> int: ...

    @property
    def diverged_step(self) -> int: ...

    def group_records(self) -> dict[str, np.ndarray]: ...

    def group_size(self, index: int) -> int: ...

    def optimizer_family(self, index: int) -> tuple[str | None, dict, str]: ...


@dataclass
class ColumnLayout:
    """The recorded columns: one per group, or one per invariant unit with ``per_unit=True``.

    Attributes
    ----------
    names:
        Column names (group names, or ``"<group>[<unit>]"``).
    group_names:
        Names of the groups.
    column_group:
        Group index of each column, shape (n_columns,).
    n_elements:
        Number of weights in each column, shape (n_columns,).
    w0_sq:
        ‖w_0‖² of each column (weights at attach), shape (n_columns,).
    adam, sgd:
        Whether the optimizer keeps Adam's second moment / SGD's heavy-ball buffer.
    """

    names: list[str]
    group_names: list[str]
    column_group: np.ndarray
    n_elements: np.ndarray
    w0_sq: np.ndarray
    adam: bool
    sgd: bool

    def pooled(self) -> ColumnLayout:
        """The same layout with the columns of each group added up into one (raw sums pool exactly)."""
        return ColumnLayout(
            names=list(self.group_names),
            group_names=list(self.group_names),
            column_group=np.arange(len(self.group_names)),
            n_elements=self.pool(self.n_elements),
            w0_sq=self.pool(self.w0_sq),
            adam=self.adam,
            sgd=self.sgd,
        )

    def pool(self, a: np.ndarray) -> np.ndarray:
        """Sum the last axis (columns) of ``a`` into groups."""
        res = np.zeros(a.shape[:-1] + (len(self.group_names),))
        np.add.at(res, (..., self.column_group), a)  # unbuffered: repeated group indices accumulate
        return res


@dataclass
class RecordStore:
    """Records of the raw sums: the latest ones as device tensors, older ones consolidated into numpy chunks.

    Each record is a dict with ``"step"`` (int), ``"missing_grad"`` (names of parameters without a gradient),
    ``"raw"`` (tensor (n_columns, len(RAW_KEYS))) and one float per group for each of :data:`HYPER`.
    """

    n_columns: int
    n_groups: int
    recent: list[dict[str, Any]] = field(default_factory=list)
    chunks: list[dict[str, np.ndarray]] = field(default_factory=list)
    n_done: int = 0

    def __len__(self) -> int:
        return self.n_done + len(self.recent)

    def append(self, rec: dict[str, Any]) -> None:
        """Add one record; consolidate every :data:`CHUNK` records (bounded Python overhead on long runs)."""
        self.recent.append(rec)
        if len(self.recent) >= CHUNK:
            self.consolidate()

    def consolidate(self) -> None:
        """Move the device-tensor records into one numpy chunk."""
        recs, self.recent = self.recent, []
        if not recs:
            return
        chunk = {
            "step": np.array([r["step"] for r in recs], dtype=np.int64),
            "missing": np.array([bool(r["missing_grad"]) for r in recs]),
        }
        raw = torch.stack([r["raw"] for r in recs]).cpu().numpy()  # (n, ncol, len(RAW_KEYS))
        chunk.update({k: raw[..., i] for i, k in enumerate(RAW_KEYS)})
        chunk.update({k: np.array([r[k] for r in recs], dtype=np.float64) for k in HYPER})
        self.chunks.append(chunk)
        self.n_done += len(recs)

    def arrays(self) -> dict[str, np.ndarray]:
        """Every record so far: ``step``, ``missing``, the raw sums and the hyperparameters, concatenated."""
        self.consolidate()
        empty = {
            "step": np.zeros(0, dtype=np.int64),
            "missing": np.zeros(0, dtype=bool),
            **{k: np.zeros((0, self.n_columns)) for k in RAW_KEYS},
            **{k: np.zeros((0, self.n_groups)) for k in HYPER},
        }
        chunks = self.chunks or [empty]
        return {k: np.concatenate([c[k] for c in chunks]) for k in empty}


def records_as_numpy(store: RecordStore, layout: ColumnLayout | None, pool: bool) -> dict[str, np.ndarray]:
    """The records of ``store`` as numpy arrays, with the derived series (see ``SphereMonitor.records``).

    With ``pool``, per-unit raw sums are added up over the units of each group first (exact: every raw quantity
    is a sum over rows), then the series are derived for the group as a whole. ``layout=None`` means nothing is
    monitored (no columns).
    """
    arrays = store.arrays()
    out: dict[str, np.ndarray] = {"step": arrays["step"]}
    raw = {k: arrays[k] for k in RAW_KEYS}
    hyp = {k: arrays[k] for k in HYPER}
    if layout is None:
        out.update(raw)
        out.update(hyp)
        out["columns"] = np.array([], dtype=object)
        out["column_group"] = np.zeros(0, dtype=np.int64)
        out["n_elements"] = np.zeros(0, dtype=np.int64)
        return out
    if pool:
        raw = {k: layout.pool(v) for k, v in raw.items()}
        layout = layout.pooled()
    out.update(derive_series(raw, hyp, layout.n_elements, layout.w0_sq, layout.adam, layout.sgd, layout.column_group))
    out.update(raw)
    out.update(hyp)
    out["columns"] = np.array(layout.names, dtype=object)
    out["column_group"] = layout.column_group
    out["n_elements"] = np.asarray(layout.n_elements, dtype=np.int64)
    return out


def first_diverged_step(rec: dict[str, np.ndarray], missing: np.ndarray) -> int:
    """First recorded step with a non-finite ‖w‖² or ‖g̃‖² in any column (−1 if none); records where a
    gradient was missing are not counted."""
    if not rec["step"].size:
        return -1
    bad = ~np.all(np.isfinite(rec["sq_norm"]) & np.isfinite(rec["unit_grad_sq"]), axis=1)
    bad &= ~missing
    return int(rec["step"][np.argmax(bad)]) if bad.any() else -1


def write_csv(path: str, rec: dict[str, np.ndarray], group_names: list[str]) -> None:
    """Write records as a long CSV table: step, column, group, lr, weight_decay, momentum, quantities."""
    fields = ["step", "column", "group", *HYPER, *SERIES, *RAW_KEYS]
    with open(path, "w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(fields)
        for i, step in enumerate(rec["step"]):
            for c, name in enumerate(rec["columns"]):
                gi = int(rec["column_group"][c])
                row = [int(step), name, group_names[gi]]
                row += [repr(float(rec[k][i, gi])) for k in HYPER]
                row += [repr(float(rec[k][i, c])) for k in (*SERIES, *RAW_KEYS)]
                wr.writerow(row)


def derive_series(
    raw: dict[str, np.ndarray],
    hyp: dict[str, np.ndarray],
    n_elements: np.ndarray,
    w0_sq: np.ndarray,
    adam: bool,
    sgd: bool,
    column_group: np.ndarray,
) -> dict[str, np.ndarray]:
    """Derived series of :data:`SERIES` from the raw sums (see :mod:`.monitor`). Arrays are (n_records, n_columns)."""
    w2, g2, wg, vg, w0w = (raw[k] for k in ("w2", "g2", "wg", "vg", "w0w"))
    d2, dw, b2 = (raw[k] for k in POST_KEYS)
    lr = hyp["lr"][:, column_group]
    mom = hyp["momentum"][:, column_group]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        r = np.sqrt(w2)
        d_par = dw / r  # ⟨d, ŵ_t⟩
        d_perp = np.sqrt(np.maximum(d2 - d_par**2, 0.0))
        a = np.stack([r, np.zeros_like(r)], axis=-1)  # planar image of w_t
        b = np.stack([r + d_par, d_perp], axis=-1)  # planar image of w_{t+1}
        delta = angle_between(a, b, axis=-1)
        alpha = np.where(np.isfinite(mom), mom, 0.0)
        out = {
            "sq_norm": w2,
            "angular_update": delta,
            "unit_grad_sq": g2 * w2,
            "h_tilde": (g2 + 2.0 * alpha * vg) * w2 if sgd else np.full_like(w2, np.nan),
            "effective_lr": (lr * np.sqrt(n_elements) / (w2 * np.sqrt(b2))) if adam else lr / w2,
            "cos_wg": wg / np.sqrt(w2 * g2),
            "cos_to_start": w0w / np.sqrt(w0_sq * w2),
        }
    return out
