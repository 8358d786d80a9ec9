"""The torch side of the monitor: the per-step raw sums of a set of parameters, computed without leaving the
device.

One batched matrix product per parameter gives every inner product of its rows at once (the per-row Gram
matrix), in the parameter's dtype; the rows are then summed into the recorded columns in float64.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .families import as_float

__all__ = ["GramProbe", "Tracked"]


@dataclass
class Tracked:
    """One monitored parameter: its name, number of rows (invariant units) and optimizer param group."""

    param: nn.Parameter
    name: str
    rows: int
    pg_index: int  # index of the optimizer param group


class _PerDevice:
    """A small index tensor, copied once to each device it is asked for."""

    def __init__(self, value: torch.Tensor):
        self.value = value
        self.copies: dict[torch.device, torch.Tensor] = {}

    def get(self, device: torch.device) -> torch.Tensor:
        out = self.copies.get(device)
        if out is None:
            out = self.copies[device] = self.value.to(device)
        return out


class GramProbe:
    """Raw sums of the tracked parameters, per recorded column (see :data:`.records.RAW_KEYS`).

    Parameters
    ----------
    tracked:
        The parameters, in column order.
    column_index:
        Column of each parameter row (concatenated over ``tracked``), shape (total rows,).
    n_columns:
        Number of recorded columns.
    adam, sgd:
        Read Adam's ``exp_avg_sq`` (for Σ(√v̂ + ε)²) / SGD's ``momentum_buffer`` (for ⟨v_{t−1}, g_t⟩).
    """

    def __init__(self, tracked: Sequence[Tracked], column_index: np.ndarray, n_columns: int, *, adam: bool, sgd: bool):
        self.tracked = list(tracked)
        self.n_columns = int(n_columns)
        self.adam, self.sgd = bool(adam), bool(sgd)
        self._col_index = _PerDevice(torch.as_tensor(column_index, dtype=torch.long))
        # entries of the flattened 4x4 Gram matrix of (w, g, v, w0) in PRE_KEYS order: ww, gg, wg, vg, w0w, wv, vv
        self._pre_index = _PerDevice(torch.tensor([0, 5, 1, 9, 12, 2, 10], dtype=torch.long))
        flat = self.tracked
        per_row = [t.param.numel() // t.rows if t.param.dim() else 1 for t in flat]
        self.n_elements = self.reduce_rows(
            torch.cat(
                [torch.full((t.rows,), float(n), dtype=torch.float64) for t, n in zip(flat, per_row, strict=True)]
            )
        ).numpy()
        with torch.no_grad():
            self._w0 = [t.param.detach().clone() for t in flat]
            self.w0_sq = (
                self.reduce_rows(torch.cat([self.rowsum(w, w, t.rows) for w, t in zip(self._w0, flat, strict=True)]))
                .cpu()
                .numpy()
            )
            self._prev = [torch.empty_like(t.param) for t in flat]
            self._zero = [torch.zeros_like(t.param) for t in flat]
            self._diff = [torch.empty_like(t.param) for t in flat]

    def reduce_rows(self, rows: torch.Tensor) -> torch.Tensor:
        """Sum per-row values into the recorded columns (one copy of the index per device)."""
        out = torch.zeros((self.n_columns, *rows.shape[1:]), dtype=rows.dtype, device=rows.device)
        return out.index_add_(0, self._col_index.get(rows.device), rows)

    @staticmethod
    def rowsum(a: torch.Tensor, b: torch.Tensor, rows: int) -> torch.Tensor:
        """Per-row inner products ⟨a_i, b_i⟩ in float64."""
        return (a.reshape(rows, -1) * b.reshape(rows, -1)).sum(1, dtype=torch.float64)

    def before_step(self, optimizer: torch.optim.Optimizer) -> tuple[torch.Tensor, list[str]]:
        """Raw sums of :data:`.records.PRE_KEYS` per column (and remember w_t); the names of parameters without a
        gradient (their g2, wg, vg are NaN)."""
        parts = []
        missing = []
        with torch.no_grad():
            for t_, prev, w0, zero in zip(self.tracked, self._prev, self._w0, self._zero, strict=True):
                p, r = t_.param, t_.rows
                w = p.detach()
                prev.copy_(w)
                g = p.grad
                if g is None:
                    missing.append(t_.name)
                    g = zero
                buf = optimizer.state.get(p, {}).get("momentum_buffer") if self.sgd else None
                vecs = torch.stack([w, g.detach(), zero if buf is None else buf, w0]).reshape(4, r, -1)
                vecs = vecs.transpose(0, 1)  # (r, 4, k)
                gram = torch.bmm(vecs, vecs.transpose(1, 2)).reshape(r, 16)
                part = gram.index_select(1, self._pre_index.get(gram.device)).double()
                if g is zero:
                    part[:, 1:4] = math.nan  # g2, wg, vg unknown without a gradient
                parts.append(part)
            return self.reduce_rows(torch.cat(parts)), missing

    def after_step(self, optimizer: torch.optim.Optimizer) -> torch.Tensor:
        """Raw sums of :data:`.records.POST_KEYS` per column: ‖d‖², ⟨d, w_t⟩ (d = w_{t+1} − w_t) and, for Adam,
        Σ(√v̂_t + ε)² (NaN otherwise)."""
        parts = []
        with torch.no_grad():
            for t_, prev, diff in zip(self.tracked, self._prev, self._diff, strict=True):
                p, r = t_.param, t_.rows
                torch.sub(p.detach(), prev, out=diff)
                vecs = torch.stack([diff, prev]).reshape(2, r, -1).transpose(0, 1)  # (r, 2, k)
                gram = torch.bmm(vecs, vecs.transpose(1, 2)).reshape(r, 4)
                b2 = torch.full((r, 1), math.nan, dtype=gram.dtype, device=gram.device)
                if self.adam:
                    st = optimizer.state.get(p, {})
                    v = st.get("exp_avg_sq")
                    if v is not None:
                        pg = optimizer.param_groups[t_.pg_index]
                        bc2 = 1.0 - as_float(pg["betas"][1]) ** as_float(st.get("step", 1))
                        b = (v / bc2).sqrt_().add_(as_float(pg["eps"]))
                        b2 = (b * b).reshape(r, -1).sum(1, keepdim=True)
                parts.append(torch.cat([gram[:, :2], b2], dim=1).double())  # ‖d‖², ⟨d, w_t⟩, Σb²
            return self.reduce_rows(torch.cat(parts))
