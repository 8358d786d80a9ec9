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
``wv``   ⟨w_t, v_{t−1}⟩ (SGD momentum buffer)        ``v2``   ‖v_{t−1}‖² (SGD momentum buffer)
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

The pieces: :mod:`.probe` computes the raw sums in torch, :mod:`.records` stores them and derives the series,
:mod:`.families` maps the optimizer to a :func:`spheretheory.predict` family, :mod:`.rescale` applies Wan et al.'s
rescaling, and :mod:`.compare` / :mod:`.plot` read a monitor through :class:`.records.MonitoredRun`. This module
holds only the :class:`SphereMonitor` that wires them to the optimizer hooks.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ..._validation import InputError, InputTypeError, check_choice, check_int
from .detect import DetectionReport, ScaleInvariantGroup, find_scale_invariant_groups
from .families import adam_like, as_float, optimizer_family
from .probe import GramProbe, Tracked
from .records import (
    HYPER,
    RAW_KEYS,
    SERIES,
    ColumnLayout,
    RecordStore,
    derive_series,
    first_diverged_step,
    records_as_numpy,
    write_csv,
)
from .rescale import LRChangeRescaler, rescale_on_lr_drop, rescale_weights

# re-exported: the names this module had before the split into families/probe/records/rescale
__all__ = ["HYPER", "RAW_KEYS", "SERIES", "SphereMonitor", "optimizer_family", "rescale_on_lr_drop", "rescale_weights"]


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
        self._step = 0
        self._pending: dict[str, Any] | None = None
        self.rescaler: LRChangeRescaler | None = None
        self._layout: ColumnLayout | None = None
        self._store = RecordStore(0, 0)
        # (step, (lr, weight_decay) per group) whenever they change: the per-step schedule, also with every > 1
        self._hyper_log: list[tuple[int, tuple[float, ...]]] = []

        params = dict(model.named_parameters())
        pg_of = {id(p): i for i, pg in enumerate(optimizer.param_groups) for p in pg["params"]}
        self.groups: list[ScaleInvariantGroup] = []
        self._tracked: list[list[Tracked]] = []
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
            self._tracked.append([Tracked(params[n], n, g.n_rows, pg_of[id(params[n])]) for n in g.param_names])
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
        self.n_columns = offset if per_unit else len(self.groups)
        self._pg_of_group = [ts[0].pg_index for ts in self._tracked]
        for g, ts in zip(self.groups, self._tracked, strict=True):
            if len({t.pg_index for t in ts}) > 1:
                warnings.warn(
                    f"group {g.name}: its parameters sit in different optimizer param groups; the "
                    f"hyperparameters of {ts[0].name}'s group are used for it",
                    UserWarning,
                    stacklevel=3,
                )
        flat = [t for ts in self._tracked for t in ts]
        # h̃ needs SGD's heavy-ball momentum buffer; the Adam ELR needs exp_avg_sq
        adam, sgd = adam_like(optimizer), isinstance(optimizer, torch.optim.SGD)
        self._probe = GramProbe(flat, np.concatenate(cols), self.n_columns, adam=adam, sgd=sgd)
        group_names = [g.name for g in self.groups]
        self._layout = ColumnLayout(
            names=(
                [f"{g.name}[{u}]" for g in self.groups for u in range(g.n_units)] if per_unit else list(group_names)
            ),
            group_names=group_names,
            column_group=(
                np.concatenate([np.full(g.n_units, i) for i, g in enumerate(self.groups)])
                if per_unit
                else np.arange(len(self.groups))
            ),
            n_elements=self._probe.n_elements,
            w0_sq=self._probe.w0_sq,
            adam=adam,
            sgd=sgd,
        )
        self._store = RecordStore(self.n_columns, len(self.groups))
        if rescale_on_lr_change:
            self.rescaler = LRChangeRescaler(optimizer, [t.param for t in flat])
        self._handles.append(optimizer.register_step_pre_hook(self._pre_hook))
        self._handles.append(optimizer.register_step_post_hook(self._post_hook))

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
    def param_group(self, index: int) -> dict:
        """The optimizer param group whose hyperparameters group ``index`` follows."""
        return self.optimizer.param_groups[self._pg_of_group[index]]

    def optimizer_family(self, index: int) -> tuple[str | None, dict, str]:
        """``(family, extra_kwargs, reason)`` of group ``index`` for :func:`spheretheory.predict`
        (:func:`~spheretheory.integrations.pytorch.families.optimizer_family`)."""
        return optimizer_family(self.optimizer, self.param_group(index))

    def _hypers(self) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {k: [] for k in HYPER}
        for gi in range(len(self.groups)):
            pg = self.param_group(gi)
            out["lr"].append(as_float(pg["lr"]))
            out["weight_decay"].append(as_float(pg.get("weight_decay", 0.0)))
            mom = pg.get("momentum", None)
            if mom is None and "betas" in pg:
                mom = pg["betas"][0]
            out["momentum"].append(as_float(mom) if mom is not None else 0.0)
        return out

    def _pre_hook(self, optimizer: torch.optim.Optimizer, *_: Any) -> None:
        if self.rescaler is not None:
            self.rescaler()
        t = self._step
        key = tuple(as_float(optimizer.param_groups[i].get(k, 0.0)) for i in self._pg_of_group for k in HYPER[:2])
        if not self._hyper_log or key != self._hyper_log[-1][1]:
            self._hyper_log.append((t, key))
        if t % self.every:
            self._pending = None
            return
        pre, missing = self._probe.before_step(optimizer)
        rec: dict[str, Any] = {"pre": pre, **self._hypers(), "step": t, "missing_grad": missing}
        self._pending = rec

    def _post_hook(self, optimizer: torch.optim.Optimizer, *_: Any) -> None:
        rec, self._pending = self._pending, None
        self._step += 1
        if rec is None:
            return
        rec["raw"] = torch.cat([rec.pop("pre"), self._probe.after_step(optimizer)], dim=1)  # RAW_KEYS order
        self._store.append(rec)
        if self.callback is not None:
            self.callback(rec["step"], self._callback_values(rec))

    def _callback_values(self, rec: dict[str, Any]) -> dict[str, float]:
        lay = self._layout
        assert lay is not None  # hooks are registered only when something is monitored
        one = derive_series(
            {k: rec["raw"][:, i].cpu().numpy()[None] for i, k in enumerate(RAW_KEYS)},
            {k: np.asarray(rec[k])[None] for k in HYPER},
            lay.n_elements,
            lay.w0_sq,
            lay.adam,
            lay.sgd,
            lay.column_group,
        )
        return {f"{name}/{q}": float(one[q][0, c]) for q in SERIES for c, name in enumerate(lay.names)}

    # ----------------------------------------------------------------------------------------------------
    @property
    def column_names(self) -> list[str]:
        """Names of the recorded columns: group names, or ``"<group>[<unit>]"`` with ``per_unit=True``."""
        return [] if self._layout is None else list(self._layout.names)

    def group_size(self, index: int) -> int:
        """Number of weights (elements) in group ``index``: the d of the theory for that group."""
        params = dict(self.model.named_parameters())
        return sum(params[n].numel() for n in self.groups[index].param_names)

    @property
    def n_records(self) -> int:
        return len(self._store)

    @property
    def n_steps(self) -> int:
        """Optimizer steps taken since :meth:`attach` (recorded or not)."""
        return self._step

    def hyper_per_step(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """``(lr, weight_decay)`` of group ``index`` at every optimizer step 0 … :attr:`n_steps` − 1, read at each
        step (also the steps that ``every > 1`` does not record), as the optimizer used them."""
        lr, wd = np.full(self._step, np.nan), np.full(self._step, np.nan)
        for j, (t, key) in enumerate(self._hyper_log):
            stop = self._hyper_log[j + 1][0] if j + 1 < len(self._hyper_log) else self._step
            lr[t:stop], wd[t:stop] = key[2 * index], key[2 * index + 1]
        return lr, wd

    def weight_change_steps(self) -> list[int]:
        """Steps before which the monitored weights were changed outside the optimizer step: the rescalings of
        ``rescale_on_lr_change=True``."""
        return sorted({t for t, _, _ in self.rescaler.events}) if self.rescaler is not None else []

    def records(self) -> dict[str, np.ndarray]:
        """All records as numpy arrays.

        Returns
        -------
        dict
            ``"step"`` (n_records,) int64; ``"lr"``, ``"weight_decay"``, ``"momentum"`` (n_records, n_groups);
            the derived series of :data:`SERIES` and the raw sums of :data:`RAW_KEYS`, each (n_records,
            n_columns); ``"columns"`` (n_columns,) names, ``"column_group"`` (n_columns,) group index and
            ``"n_elements"`` (n_columns,) the number of weights d of each column.
        """
        return records_as_numpy(self._store, self._layout, pool=False)

    def group_records(self) -> dict[str, np.ndarray]:
        """Like :meth:`records` with one column per group, also when ``per_unit=True``.

        Per-unit raw sums are added up over the units of each group (exact: every raw quantity is a sum over
        rows), then the series are derived for the group as a whole.
        """
        return records_as_numpy(self._store, self._layout, pool=self.per_unit)

    @property
    def diverged_step(self) -> int:
        """First recorded step with a non-finite weight norm or gradient (−1 if none): a NaN loss shows up
        here."""
        return first_diverged_step(self.records(), self._store.arrays()["missing"])

    # ----------------------------------------------------------------------------------------------------
    def save_npz(self, path: str) -> None:
        """Save :meth:`records` to a ``.npz`` file (``np.load(path, allow_pickle=True)``)."""
        np.savez(path, **self.records())

    def to_csv(self, path: str) -> None:
        """Write the records as a long CSV table: step, column, group, lr, weight_decay, momentum,
        quantities."""
        write_csv(path, self.records(), [g.name for g in self.groups])

    def compare(self, **kwargs: Any) -> Any:
        """Measured vs predicted equilibrium per group and per constant-hyperparameter phase.

        See :func:`spheretheory.integrations.pytorch.compare.compare`.
        """
        from .compare import compare

        return compare(self, **kwargs)

    def plot(self, path: str | None = None, **kwargs: Any) -> Any:
        """Figure per layer as in Wan et al. (2021) Fig. 3 / 5; see
        :func:`spheretheory.integrations.pytorch.plot.plot_monitor`."""
        from .plot import plot_monitor

        return plot_monitor(self, path=path, **kwargs)
