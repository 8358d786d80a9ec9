"""A monitor of the spherical motion dynamics of a PyTorch network's scale-invariant weights.

``SphereMonitor.attach(model, optimizer)`` registers two optimizer step hooks (``register_step_pre_hook`` /
``register_step_post_hook``); the training loop is not changed otherwise. Every ``every`` optimizer steps it
records, for each scale-invariant group (or each invariant unit, ``per_unit=True``), these raw sums over the
group's rows, computed in torch without leaving the device (one batched Gram-matrix product per parameter,
summed in float64):

=======  ==========================================  =======  ======================================
key      quantity (step t, before the update)        key      quantity
=======  ==========================================  =======  ======================================
``w2``   ‖w_t‖²                                      ``d2``   ‖w_{t+1} − w_t‖²
``g2``   ‖g_t‖² (g = p.grad, the loss gradient)      ``dw``   ⟨w_{t+1} − w_t, w_t⟩
``wg``   ⟨w_t, g_t⟩                                  ``w0w``  ⟨w_0, w_t⟩ (w_0: weights at attach)
``vg``   ⟨v_{t−1}, g_t⟩ (SGD momentum buffer)        ``b2``   Σ(√v̂_t + ε)² (Adam family only)
=======  ==========================================  =======  ======================================

plus the learning rate, weight decay and momentum of the parameter's optimizer param group at that step (so LR
schedulers and per-group hyperparameters are followed). The derived series use the names and definitions of
:mod:`spheretheory.simulation.result` (Wan et al. 2021):

* ``sq_norm`` = ‖w_t‖²;
* ``angular_update`` Δ_t = ∠(w_t, w_{t+1}) (Def. 3), computed by :func:`spheretheory.analysis.angle_between`
  on the exact planar images a = (‖w_t‖, 0), b = (‖w_t‖ + ⟨d, ŵ_t⟩, ‖d_⊥‖) of w_t and w_{t+1} = w_t + d in
  the plane they span (‖d_⊥‖² = ‖d‖² − ⟨d, ŵ_t⟩²), so no weight copy ever leaves torch;
* ``unit_grad_sq`` ‖g̃_t‖² = ‖g_t‖²‖w_t‖²;
* ``h_tilde`` h̃_t = (‖g_t‖² + 2α⟨v_{t−1}, g_t⟩)‖w_t‖² (Thm 2; equal to ‖g̃_t‖² for α = 0; NaN unless the
  optimizer is ``torch.optim.SGD``, whose heavy-ball buffer v it reads);
* ``effective_lr`` η√n/(‖w_t‖²‖√v̂_t + ε‖) for Adam/AdamW (Roburin et al.: η/(r ν) with ν = ‖r b‖/√n), and
  η_t/‖w_t‖² for SGD(M) and every other optimizer (van Laarhoven 2017);
* ``cos_wg`` ⟨w_t, g_t⟩/(‖w_t‖‖g_t‖), zero for a scale-invariant group (Lemma 1) — a live check of the
  detection;
* ``cos_to_start`` cos∠(w_0, w_t).
"""

from __future__ import annotations

import csv
import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ..._validation import InputError, InputTypeError, check_choice, check_int, check_real
from .detect import DetectionReport, ScaleInvariantGroup, find_scale_invariant_groups

__all__ = ["SphereMonitor", "rescale_on_lr_drop", "rescale_weights", "optimizer_family"]

_PRE = ("w2", "g2", "wg", "vg", "w0w")
_POST = ("d2", "dw", "b2")
RAW_KEYS: tuple[str, ...] = _PRE + _POST
_CHUNK = 1024  # records kept as device tensors before they are moved into numpy arrays
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
HYPER: tuple[str, ...] = ("lr", "weight_decay", "momentum")


# ---------------------------------------------------------------------------------------------------------
# optimizer families
# ---------------------------------------------------------------------------------------------------------
def _as_float(x: Any) -> float:
    return float(x.item()) if isinstance(x, torch.Tensor) else float(x)


def optimizer_family(optimizer: torch.optim.Optimizer, param_group: dict) -> tuple[str | None, dict, str]:
    """Map a torch optimizer and one of its param groups to the name used by :func:`spheretheory.predict`.

    Returns ``(family, extra_kwargs, reason)``: family is ``"sgd"``, ``"sgdm"``, ``"adamw"``, ``"lion"`` or
    ``None`` when the update rule is one the predictions do not cover (``reason`` says why).
    """
    name = type(optimizer).__name__
    if isinstance(optimizer, torch.optim.SGD):
        if param_group.get("nesterov", False):
            return None, {}, "SGD with Nesterov momentum is not covered by the predictions"
        if _as_float(param_group.get("dampening", 0.0)) != 0.0:
            return None, {}, "SGD with dampening != 0 is not covered by the predictions"
        if param_group.get("maximize", False):
            return None, {}, "SGD with maximize=True is not covered by the predictions"
        mom = _as_float(param_group.get("momentum", 0.0))
        return ("sgdm", {"momentum": mom}, "") if mom > 0 else ("sgd", {}, "")
    decoupled = isinstance(optimizer, torch.optim.AdamW) or (
        isinstance(optimizer, torch.optim.Adam) and param_group.get("decoupled_weight_decay", False)
    )
    if decoupled:
        if param_group.get("amsgrad", False):
            return None, {}, "AMSGrad is not covered by the predictions"
        b1, b2 = (_as_float(b) for b in param_group["betas"])
        return "adamw", {"beta1": b1, "beta2": b2, "eps": _as_float(param_group["eps"])}, ""
    if isinstance(optimizer, torch.optim.Adam):
        return (
            None,
            {},
            "Adam with coupled L2 weight decay has no hyperparameter-only equilibrium (use AdamW)",
        )
    if name.lower() == "lion" and "betas" in param_group:
        b1, b2 = (_as_float(b) for b in param_group["betas"])
        return "lion", {"beta1": b1, "beta2": b2}, ""
    return None, {}, f"optimizer {name} is not covered by the predictions"


def _adam_like(optimizer: torch.optim.Optimizer) -> bool:
    return isinstance(optimizer, (torch.optim.Adam, torch.optim.AdamW))


# ---------------------------------------------------------------------------------------------------------
# rescaling (Wan et al. Sec. 4.2)
# ---------------------------------------------------------------------------------------------------------
def rescale_weights(params: Iterable[torch.Tensor], factor: float) -> None:
    """Multiply scale-invariant weights in place by ``factor`` > 0 (the network's function is unchanged).

    With ``factor = k^(−1/4)`` after dividing the learning rate by k, this is the rescaling of Wan et al.
    (2021), Sec. 4.2: the equilibrium norm scales as (η/λ)^(1/4) (Thms 1–2), so the new equilibrium is
    reached at once.
    """
    f = float(check_real("factor", factor, low=0.0, low_inclusive=False))
    with torch.no_grad():
        for p in params:
            p.mul_(f)


class _LRChangeRescaler:
    """Rescale the scale-invariant params of a param group by ((η'/λ')/(η/λ))^(1/4) whenever (η, λ)
    changes."""

    def __init__(self, optimizer: torch.optim.Optimizer, params: Sequence[torch.Tensor]):
        ids = {id(p) for p in params}
        self.optimizer = optimizer
        self.members = [[p for p in pg["params"] if id(p) in ids] for pg in optimizer.param_groups]
        self.last = [self._ratio(pg) for pg in optimizer.param_groups]
        self.events: list[tuple[int, int, float]] = []  # (step, param group, factor)
        self.step = 0

    @staticmethod
    def _ratio(pg: dict) -> float:
        wd = _as_float(pg.get("weight_decay", 0.0))
        return _as_float(pg["lr"]) / wd if wd > 0 else math.nan

    def __call__(self, *_: Any) -> None:
        for i, pg in enumerate(self.optimizer.param_groups):
            r = self._ratio(pg)
            old = self.last[i]
            if math.isfinite(r) and math.isfinite(old) and r != old and self.members[i]:
                factor = (r / old) ** 0.25
                rescale_weights(self.members[i], factor)
                self.events.append((self.step, i, factor))
            self.last[i] = r
        self.step += 1


def rescale_on_lr_drop(optimizer: torch.optim.Optimizer, params: Iterable[torch.Tensor]) -> Any:
    """Register a step pre-hook that rescales ``params`` by ((η'/λ')/(η/λ))^(1/4) whenever a scheduler changes
    the learning rate η (or weight decay λ) of their param group — k^(−1/4) after a drop η → η/k (Wan et al.
    2021, Sec. 4.2, eq. of Thm 1/2: w* ∝ (η/λ)^(1/4)).

    Returns the hook handle (``.remove()`` to stop). Register it before :meth:`SphereMonitor.attach` (or use
    ``SphereMonitor.attach(..., rescale_on_lr_change=True)``) so that the monitor records the rescaled
    weights.
    """
    rescaler = _LRChangeRescaler(optimizer, list(params))
    handle = optimizer.register_step_pre_hook(rescaler)
    handle.rescaler = rescaler  # type: ignore[attr-defined]
    return handle


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


# ---------------------------------------------------------------------------------------------------------
# the monitor
# ---------------------------------------------------------------------------------------------------------
@dataclass
class _Tracked:
    param: nn.Parameter
    name: str
    rows: int
    pg_index: int  # index of the optimizer param group


class SphereMonitor:
    """Record the spherical motion dynamics of the scale-invariant groups of a model during training.

    Use :meth:`attach` (one line). See the module docstring for the recorded quantities.

    Attributes
    ----------
    groups:
        The monitored :class:`~spheretheory.integrations.pytorch.detect.ScaleInvariantGroup` objects.
    detection:
        The :class:`~spheretheory.integrations.pytorch.detect.DetectionReport` (``None`` when groups were
        given).
    skipped:
        ``(group, reason)`` pairs of groups left out at attach time (not optimized by this optimizer, ...).
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        groups: DetectionReport | Sequence[ScaleInvariantGroup],
        *,
        every: int = 1,
        per_unit: bool = False,
        callback: Callable[[int, dict[str, float]], Any] | None = None,
        rescale_on_lr_change: bool = False,
        on_empty: str = "warn",
    ) -> None:
        if not isinstance(model, nn.Module):
            raise InputTypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise InputTypeError(f"optimizer must be a torch.optim.Optimizer; got {type(optimizer).__name__}")
        self.every = check_int("every", every, low=1)
        if not isinstance(per_unit, bool):
            raise InputTypeError(f"per_unit must be a bool; got {per_unit!r}")
        if callback is not None and not callable(callback):
            raise InputTypeError(f"callback must be callable(step, values) or None; got {callback!r}")
        on_empty = check_choice("on_empty", on_empty, ("warn", "raise"))
        self.model = model
        self.optimizer = optimizer
        self.per_unit = per_unit
        self.callback = callback
        self.detection = groups if isinstance(groups, DetectionReport) else None
        candidate = list(groups.groups if isinstance(groups, DetectionReport) else groups)
        self.skipped: list[tuple[str, str]] = []
        self._handles: list[Any] = []
        self._records: list[dict[str, Any]] = []  # recent records, tensors still on the device
        self._chunks: list[dict[str, np.ndarray]] = []  # older records, consolidated into numpy arrays
        self._n_done = 0
        self._step = 0
        self._pending: dict[str, Any] | None = None
        self.rescaler: _LRChangeRescaler | None = None

        params = dict(model.named_parameters())
        pg_of = {id(p): i for i, pg in enumerate(optimizer.param_groups) for p in pg["params"]}
        self.groups: list[ScaleInvariantGroup] = []
        self._tracked: list[list[_Tracked]] = []
        for g in candidate:
            missing = [n for n in g.param_names if id(params[n]) not in pg_of]
            if missing:
                self.skipped.append((g.name, f"{', '.join(missing)} not optimized by this optimizer"))
                continue
            frozen = [n for n in g.param_names if not params[n].requires_grad]
            if frozen:
                self.skipped.append((g.name, f"frozen parameter(s) {', '.join(frozen)}"))
                continue
            self.groups.append(g)
            self._tracked.append([_Tracked(params[n], n, g.n_rows, pg_of[id(params[n])]) for n in g.param_names])
        if not self.groups:
            msg = (
                self.detection.message
                if self.detection is not None and not self.detection.groups
                else "no scale-invariant parameter group is optimized by this optimizer"
            )
            if self.skipped:
                msg += "; skipped: " + "; ".join(f"{n} ({r})" for n, r in self.skipped)
            if on_empty == "raise":
                raise InputError(msg)
            warnings.warn(f"SphereMonitor records nothing: {msg}", UserWarning, stacklevel=3)
            self.message = msg
            return
        self.message = f"monitoring {len(self.groups)} scale-invariant group(s)"

        # each parameter row -> output column (its group, or its invariant unit with per_unit=True)
        cols, offset = [], 0
        for gi, g in enumerate(self.groups):
            base = g.units + offset if per_unit else np.full(g.n_rows, gi, dtype=np.int64)
            offset += g.n_units
            cols.extend(base for _ in g.param_names)
        self._col_index = torch.as_tensor(np.concatenate(cols), dtype=torch.long)
        self._col_index_on: dict[torch.device, torch.Tensor] = {}
        # entries of the flattened 4x4 Gram matrix of (w, g, v, w0) in _PRE order: ww, gg, wg, vg, w0w
        self._pre_index = _PerDevice(torch.tensor([0, 5, 1, 9, 12], dtype=torch.long))
        self.n_columns = offset if per_unit else len(self.groups)
        self._column_group = (
            np.concatenate([np.full(g.n_units, i) for i, g in enumerate(self.groups)])
            if per_unit
            else np.arange(len(self.groups))
        )
        flat = [t for ts in self._tracked for t in ts]
        per_row = [t.param.numel() // t.rows if t.param.dim() else 1 for t in flat]
        self._n_elements = self._reduce_rows(
            torch.cat(
                [torch.full((t.rows,), float(n), dtype=torch.float64) for t, n in zip(flat, per_row, strict=True)]
            )
        ).numpy()
        self._pg_of_group = [ts[0].pg_index for ts in self._tracked]
        for g, ts in zip(self.groups, self._tracked, strict=True):
            if len({t.pg_index for t in ts}) > 1:
                warnings.warn(
                    f"group {g.name}: its parameters sit in different optimizer param groups; the "
                    f"hyperparameters of {ts[0].name}'s group are used for it",
                    UserWarning,
                    stacklevel=3,
                )
        self._adam = _adam_like(optimizer)
        self._sgd = isinstance(optimizer, torch.optim.SGD)  # h̃ needs SGD's heavy-ball momentum buffer
        self._flat = flat
        with torch.no_grad():
            self._w0 = [t.param.detach().clone() for t in flat]
            self._w0_sq = self._reduce_rows(
                torch.cat([self._rowsum(w, w, t.rows) for w, t in zip(self._w0, flat, strict=True)])
            )
            self._prev = [torch.empty_like(t.param) for t in flat]
            self._zero = [torch.zeros_like(t.param) for t in flat]
            self._diff = [torch.empty_like(t.param) for t in flat]
        if rescale_on_lr_change:
            self.rescaler = _LRChangeRescaler(optimizer, [t.param for t in flat])
        self._handles.append(optimizer.register_step_pre_hook(self._pre_hook))
        self._handles.append(optimizer.register_step_post_hook(self._post_hook))

    # ----------------------------------------------------------------------------------------------------
    @classmethod
    def attach(
        cls,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        example_input: Any = None,
        *,
        every: int = 1,
        per_unit: bool = False,
        include: Iterable[Any] = (),
        exclude: Iterable[str] = (),
        auto: bool = True,
        verify: bool = True,
        callback: Callable[[int, dict[str, float]], Any] | None = None,
        rescale_on_lr_change: bool = False,
        on_empty: str = "warn",
    ) -> SphereMonitor:
        """Detect the scale-invariant groups of ``model`` and start recording at every ``every``-th step.

        Parameters
        ----------
        model, optimizer:
            The network and its optimizer (any ``torch.optim.Optimizer``; predictions cover SGD, SGD with
            heavy-ball momentum and, once available, AdamW/Lion; other optimizers are measured only).
        example_input:
            A batch for :func:`find_scale_invariant_groups` (tensor, tuple of args or dict of kwargs).
        every:
            Record every ``every``-th optimizer step (k ≥ 1).
        per_unit:
            Record each invariant unit (e.g. each BatchNorm channel) instead of each layer.
        include, exclude, auto, verify:
            Passed to :func:`find_scale_invariant_groups`.
        callback:
            ``callback(step, values)`` after each record, ``values`` a flat dict of floats named
            ``"<group>/<quantity>"`` (for the user's logger, e.g. ``writer.add_scalars``).
        rescale_on_lr_change:
            Apply the k^(−1/4) rescaling of Wan et al. Sec. 4.2 whenever η/λ of a param group changes (before
            the step is recorded).
        on_empty:
            ``"warn"`` (default: a warning, and a monitor that records nothing) or ``"raise"``
            (``ValueError``) when no scale-invariant group is found.
        """
        if example_input is None:
            raise InputError(
                "example_input must be a batch the model accepts (a tensor, a tuple of positional arguments "
                "or a dict of keyword arguments); it is used to find and verify the scale-invariant groups"
            )
        report = find_scale_invariant_groups(
            model, example_input, include=include, exclude=exclude, auto=auto, verify=verify
        )
        return cls(
            model,
            optimizer,
            report,
            every=every,
            per_unit=per_unit,
            callback=callback,
            rescale_on_lr_change=rescale_on_lr_change,
            on_empty=on_empty,
        )

    def detach(self) -> None:
        """Remove the optimizer hooks (the records are kept)."""
        for h in self._handles:
            h.remove()
        self._handles.clear()

    # ----------------------------------------------------------------------------------------------------
    def _reduce_rows(self, rows: torch.Tensor) -> torch.Tensor:
        out = torch.zeros((self.n_columns, *rows.shape[1:]), dtype=rows.dtype, device=rows.device)
        index = self._col_index_on.get(rows.device)
        if index is None:  # cache one copy per device (no host-to-device copy per step)
            index = self._col_index_on[rows.device] = self._col_index.to(rows.device)
        return out.index_add_(0, index, rows)

    @staticmethod
    def _rowsum(a: torch.Tensor, b: torch.Tensor, rows: int) -> torch.Tensor:
        return (a.reshape(rows, -1) * b.reshape(rows, -1)).sum(1, dtype=torch.float64)

    def _hypers(self) -> dict[str, list[float]]:
        pgs = self.optimizer.param_groups
        out = {k: [] for k in HYPER}
        for i in self._pg_of_group:
            pg = pgs[i]
            out["lr"].append(_as_float(pg["lr"]))
            out["weight_decay"].append(_as_float(pg.get("weight_decay", 0.0)))
            mom = pg.get("momentum", None)
            if mom is None and "betas" in pg:
                mom = pg["betas"][0]
            out["momentum"].append(_as_float(mom) if mom is not None else 0.0)
        return out

    def _pre_hook(self, optimizer: torch.optim.Optimizer, *_: Any) -> None:
        if self.rescaler is not None:
            self.rescaler()
        t = self._step
        if t % self.every:
            self._pending = None
            return
        # One batched matrix product per parameter gives every inner product of its rows at once: the per-row
        # Gram matrix of (w_t, g_t, v_{t−1}, w_0), in the parameter's dtype, then summed in float64.
        parts = []
        missing = []
        with torch.no_grad():
            for t_, prev, w0, zero in zip(self._flat, self._prev, self._w0, self._zero, strict=True):
                p, r = t_.param, t_.rows
                w = p.detach()
                prev.copy_(w)
                g = p.grad
                if g is None:
                    missing.append(t_.name)
                    g = zero
                buf = optimizer.state.get(p, {}).get("momentum_buffer") if self._sgd else None
                vecs = torch.stack([w, g.detach(), zero if buf is None else buf, w0]).reshape(4, r, -1)
                vecs = vecs.transpose(0, 1)  # (r, 4, k)
                gram = torch.bmm(vecs, vecs.transpose(1, 2)).reshape(r, 16)
                part = gram.index_select(1, self._pre_index.get(gram.device)).double()
                if g is zero:
                    part[:, 1:4] = math.nan  # g2, wg, vg unknown without a gradient
                parts.append(part)
            rec = {"pre": self._reduce_rows(torch.cat(parts))}
        rec.update(self._hypers())
        rec["step"] = t
        rec["missing_grad"] = missing
        self._pending = rec

    def _post_hook(self, optimizer: torch.optim.Optimizer, *_: Any) -> None:
        rec, self._pending = self._pending, None
        self._step += 1
        if rec is None:
            return
        parts = []
        with torch.no_grad():
            for t_, prev, diff in zip(self._flat, self._prev, self._diff, strict=True):
                p, r = t_.param, t_.rows
                torch.sub(p.detach(), prev, out=diff)
                vecs = torch.stack([diff, prev]).reshape(2, r, -1).transpose(0, 1)  # (r, 2, k)
                gram = torch.bmm(vecs, vecs.transpose(1, 2)).reshape(r, 4)
                b2 = torch.full((r, 1), math.nan, dtype=gram.dtype, device=gram.device)
                if self._adam:
                    st = optimizer.state.get(p, {})
                    v = st.get("exp_avg_sq")
                    if v is not None:
                        pg = optimizer.param_groups[t_.pg_index]
                        bc2 = 1.0 - _as_float(pg["betas"][1]) ** _as_float(st.get("step", 1))
                        b = (v / bc2).sqrt_().add_(_as_float(pg["eps"]))
                        b2 = (b * b).reshape(r, -1).sum(1, keepdim=True)
                parts.append(torch.cat([gram[:, :2], b2], dim=1).double())  # ‖d‖², ⟨d, w_t⟩, Σb²
            post = self._reduce_rows(torch.cat(parts))
            rec["raw"] = torch.cat([rec.pop("pre"), post], dim=1)  # columns in RAW_KEYS order
        self._records.append(rec)
        if len(self._records) >= _CHUNK:  # bounded Python overhead on long runs (one device sync per chunk)
            self._consolidate()
        if self.callback is not None:
            self.callback(rec["step"], self._callback_values(rec))

    def _callback_values(self, rec: dict[str, Any]) -> dict[str, float]:
        one = _derive(
            {k: rec["raw"][:, i].cpu().numpy()[None] for i, k in enumerate(RAW_KEYS)},
            {k: np.asarray(rec[k])[None] for k in HYPER},
            self._n_elements,
            self._w0_sq.cpu().numpy(),
            self._adam,
            self._sgd,
            self._column_group,
        )
        names = self.column_names
        return {f"{names[c]}/{q}": float(one[q][0, c]) for q in SERIES for c in range(self.n_columns)}

    # ----------------------------------------------------------------------------------------------------
    @property
    def column_names(self) -> list[str]:
        """Names of the recorded columns: group names, or ``"<group>[<unit>]"`` with ``per_unit=True``."""
        if not self.groups:
            return []
        if not self.per_unit:
            return [g.name for g in self.groups]
        return [f"{g.name}[{u}]" for g in self.groups for u in range(g.n_units)]

    def group_size(self, index: int) -> int:
        """Number of weights (elements) in group ``index``: the d of the theory for that group."""
        params = dict(self.model.named_parameters())
        return sum(params[n].numel() for n in self.groups[index].param_names)

    @property
    def n_records(self) -> int:
        return self._n_done + len(self._records)

    def _consolidate(self) -> None:
        recs, self._records = self._records, []
        if not recs:
            return
        chunk = {
            "step": np.array([r["step"] for r in recs], dtype=np.int64),
            "missing": np.array([bool(r["missing_grad"]) for r in recs]),
        }
        raw = torch.stack([r["raw"] for r in recs]).cpu().numpy()  # (n, ncol, len(RAW_KEYS))
        chunk.update({k: raw[..., i] for i, k in enumerate(RAW_KEYS)})
        chunk.update({k: np.array([r[k] for r in recs], dtype=np.float64) for k in HYPER})
        self._chunks.append(chunk)
        self._n_done += len(recs)

    def records(self) -> dict[str, np.ndarray]:
        """All records as numpy arrays.

        Returns
        -------
        dict
            ``"step"`` (n_records,) int64; ``"lr"``, ``"weight_decay"``, ``"momentum"`` (n_records, n_groups);
            the derived series of :data:`SERIES` and the raw sums of :data:`RAW_KEYS`, each (n_records,
            n_columns); ``"columns"`` (n_columns,) names and ``"column_group"`` (n_columns,) group index.
        """
        return self._records_as_numpy(pool=False)

    def group_records(self) -> dict[str, np.ndarray]:
        """Like :meth:`records` with one column per group, also when ``per_unit=True``.

        Per-unit raw sums are added up over the units of each group (exact: every raw quantity is a sum over
        rows), then the series are derived for the group as a whole.
        """
        return self._records_as_numpy(pool=self.per_unit)

    def _records_as_numpy(self, pool: bool) -> dict[str, np.ndarray]:
        self._consolidate()
        ncol = getattr(self, "n_columns", 0)
        empty = {
            "step": np.zeros(0, dtype=np.int64),
            **{k: np.zeros((0, ncol)) for k in RAW_KEYS},
            **{k: np.zeros((0, len(self.groups))) for k in HYPER},
        }
        chunks = self._chunks or [empty]
        out: dict[str, np.ndarray] = {"step": np.concatenate([c["step"] for c in chunks])}
        raw = {k: np.concatenate([c[k] for c in chunks]) for k in RAW_KEYS}
        hyp = {k: np.concatenate([c[k] for c in chunks]) for k in HYPER}
        if not self.groups:
            out.update(raw)
            out.update(hyp)
            out["columns"] = np.array([], dtype=object)
            out["column_group"] = np.zeros(0, dtype=np.int64)
            return out
        colgroup = self._column_group
        n_el = self._n_elements
        w0_sq = self._w0_sq.cpu().numpy()
        names = self.column_names
        if pool:
            ng = len(self.groups)

            def pool_cols(a: np.ndarray) -> np.ndarray:
                res = np.zeros(a.shape[:-1] + (ng,))
                np.add.at(res, (..., colgroup), a)  # unbuffered: repeated group indices accumulate
                return res

            raw = {k: pool_cols(v) for k, v in raw.items()}
            n_el, w0_sq = pool_cols(n_el), pool_cols(w0_sq)
            colgroup = np.arange(ng)
            names = [g.name for g in self.groups]
        out.update(_derive(raw, hyp, n_el, w0_sq, self._adam, self._sgd, colgroup))
        out.update(raw)
        out.update(hyp)
        out["columns"] = np.array(names, dtype=object)
        out["column_group"] = colgroup
        return out

    @property
    def diverged_step(self) -> int:
        """First recorded step with a non-finite weight norm or gradient (−1 if none): a NaN loss shows up
        here."""
        rec = self.records()
        if not rec["step"].size:
            return -1
        bad = ~np.all(np.isfinite(rec["sq_norm"]) & np.isfinite(rec["unit_grad_sq"]), axis=1)
        missing = np.concatenate([c["missing"] for c in self._chunks])
        bad &= ~missing
        return int(rec["step"][np.argmax(bad)]) if bad.any() else -1

    # ----------------------------------------------------------------------------------------------------
    def save_npz(self, path: str) -> None:
        """Save :meth:`records` to a ``.npz`` file (``np.load(path, allow_pickle=True)``)."""
        np.savez(path, **self.records())

    def to_csv(self, path: str) -> None:
        """Write the records as a long CSV table: step, column, group, lr, weight_decay, momentum,
        quantities."""
        rec = self.records()
        fields = ["step", "column", "group", *HYPER, *SERIES, *RAW_KEYS]
        with open(path, "w", newline="") as fh:
            wr = csv.writer(fh)
            wr.writerow(fields)
            for i, step in enumerate(rec["step"]):
                for c, name in enumerate(rec["columns"]):
                    gi = int(rec["column_group"][c])
                    row = [int(step), name, self.groups[gi].name]
                    row += [repr(float(rec[k][i, gi])) for k in HYPER]
                    row += [repr(float(rec[k][i, c])) for k in (*SERIES, *RAW_KEYS)]
                    wr.writerow(row)

    def compare(self, **kwargs: Any) -> Any:
        """Measured vs predicted equilibrium per group and per constant-hyperparameter phase.

        See :func:`spheretheory.integrations.pytorch.compare.compare`.
        """
        from .compare import compare

        return compare(self, **kwargs)

    def plot(self, path: str | None = None, **kwargs: Any) -> Any:
        """Figure per layer as in Wan et al. (2021) Fig. 3 / 5; see
        :func:`spheretheory.integrations.pytorch.plot`."""
        from .plot import plot_monitor

        return plot_monitor(self, path=path, **kwargs)


# ---------------------------------------------------------------------------------------------------------
def _derive(
    raw: dict[str, np.ndarray],
    hyp: dict[str, np.ndarray],
    n_elements: np.ndarray,
    w0_sq: np.ndarray,
    adam: bool,
    sgd: bool,
    column_group: np.ndarray,
) -> dict[str, np.ndarray]:
    """Derived series from the raw sums (module docstring). Arrays are (n_records, n_columns)."""
    from ...analysis import angle_between

    w2, g2, wg, vg, w0w = (raw[k] for k in _PRE)
    d2, dw, b2 = (raw[k] for k in _POST)
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
