"""The result object returned by every simulator (full-d backends and the reduced-state simulator).

Batch layout
------------
Hyperparameters may be arrays of shape ``(G,)`` (a grid; scalars mean G = 1) and each grid point runs
``n = trajectories`` independent trajectories. Every recorded per-trajectory series has shape
``(n_records, G, n)``; per-trajectory end-of-run quantities have shape ``(G, n)``.

Time convention
---------------
Record ``k`` is taken at iteration ``t = steps[k]`` (t = 0 is the initial weight, records at
t = 0, record_every, 2·record_every, … ≤ steps − 1) and holds the quantities of iteration t in the notation of
Wan et al. (2021): ‖w_t‖², Δ_t = ∠(w_t, w_{t+1}) (Def. 3), ‖g̃_t‖² = ‖g_t‖²‖w_t‖², h̃_t = h_t‖w_t‖² with
h_t = ‖g_t‖² + 2α⟨v_{t−1}, g_t⟩ (Thm 2), cos(w_0, w_t) and the effective learning rate η_t/‖w_t‖².
After a trajectory diverges its later records are NaN and it is flagged in ``diverged``/``diverged_step``;
every statistic leaves it out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: The per-trajectory quantities a simulator records (series and streaming summaries).
QUANTITIES: tuple[str, ...] = (
    "sq_norm",
    "angular_update",
    "unit_grad_sq",
    "h_tilde",
    "cos_to_start",
    "effective_lr",
)


@dataclass
class SimulationResult:
    """Output of :func:`spheretheory.simulate` (any backend, any method).

    Attributes
    ----------
    steps:
        ``(n_records,)`` int64, the iteration t of each record (empty when ``record="summary"``).
    sq_norm, angular_update, unit_grad_sq, h_tilde, cos_to_start, effective_lr:
        ``(n_records, G, n)`` series (see the module docstring), or ``None`` when not recorded
        (``record="summary"``, or a quantity an optimizer does not define, e.g. ``h_tilde`` for Adam).
    summary:
        Streaming statistics of shape ``(G, n)`` computed online over the equilibrium window — every iteration
        t ≥ ``config["summary_start"]`` (the last ``config["summary_fraction"]`` of the run), whether recorded
        or not: keys ``f"{q}_mean"`` and ``f"{q}_var"`` (population variance over time, Welford) for each
        recorded quantity q, ``"count"`` (iterations accumulated; smaller for diverged trajectories) and
        ``"final_sq_norm"`` (‖w_T‖² after the last step).
    diverged:
        ``(G, n)`` bool: the trajectory overflowed, underflowed or produced a non-finite value.
    diverged_step:
        ``(G, n)`` int64: the iteration at which it was detected, −1 where it did not diverge.
    params:
        The hyperparameters broadcast to ``(G,)`` arrays (``lr``, ``weight_decay``, ``momentum``,
        ``unit_grad_sq``, ``beta1``, ``beta2``, ``eps``).
    config:
        Everything else that defines the run: ``optimizer``, ``backend``, ``method``, ``dim``, ``steps``,
        ``trajectories``, ``seed``, ``record``, ``record_every``, ``noise``, ``dtype``, ``decoupled``,
        schedules,
        ``summary_start``, ``summary_fraction``, ...
    w_final:
        ``(G, n, d)`` final weights w_T (``None`` for the reduced-state simulator, which has no weights).
    """

    steps: np.ndarray
    sq_norm: np.ndarray | None
    angular_update: np.ndarray | None
    unit_grad_sq: np.ndarray | None
    h_tilde: np.ndarray | None
    cos_to_start: np.ndarray | None
    effective_lr: np.ndarray | None
    summary: dict[str, np.ndarray]
    diverged: np.ndarray
    diverged_step: np.ndarray
    params: dict[str, np.ndarray]
    config: dict[str, Any]
    w_final: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------------------------------------
    @property
    def grid_size(self) -> int:
        """G, the number of hyperparameter grid points."""
        return int(self.diverged.shape[0])

    @property
    def trajectories(self) -> int:
        """n, the number of trajectories per grid point."""
        return int(self.diverged.shape[1])

    def series(self, name: str) -> np.ndarray | None:
        """The recorded series of quantity ``name`` (one of :data:`QUANTITIES`)."""
        if name not in QUANTITIES:
            raise ValueError(f"name must be one of {', '.join(QUANTITIES)}; got {name!r}")
        return getattr(self, name)

    def trajectory_mean(self, name: str) -> np.ndarray:
        """``(n_records, G)`` mean of a series over the trajectories that did not diverge."""
        s = self.series(name)
        if s is None:
            raise ValueError(f"{name} was not recorded (record={self.config.get('record')!r})")
        ok = ~self.diverged[None]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(ok, s, 0.0).sum(axis=-1) / ok.sum(axis=-1)

    def equilibrium_stats(
        self,
        fraction: float | None = None,
        quantities: tuple[str, ...] | None = None,
        source: str = "auto",
    ) -> dict[str, Any]:
        """Equilibrium means with standard errors, per grid point (arrays of shape ``(G,)``).

        Over the last ``fraction`` of the recorded series when series were recorded, otherwise from the
        streaming summaries (whose window is fixed at ``config["summary_fraction"]``; asking for another
        fraction then raises ``ValueError``). ``fraction=None`` means the summary fraction. Diverged
        trajectories are left out. The standard error is taken across independent trajectories: the sample
        standard deviation (ddof=1) of the per-trajectory window means over √n
        (:func:`spheretheory.analysis.equilibrium_stats`).

        ``source="summary"`` forces the streaming summaries (every iteration of the window, even when the
        series were thinned by ``record_every``); ``"series"`` forces the recorded series.

        Returns
        -------
        dict mapping each quantity to an :class:`spheretheory.analysis.EquilibriumStats`.
        """
        from .._stats import equilibrium_stats, stats_from_trajectory_means

        summary_fraction = float(self.config.get("summary_fraction", 0.25))
        frac = summary_fraction if fraction is None else float(fraction)
        names = QUANTITIES if quantities is None else tuple(quantities)
        out: dict[str, Any] = {}
        mask = ~self.diverged
        if source not in ("auto", "series", "summary"):
            raise ValueError(f"source must be one of auto, series, summary; got {source!r}")
        for q in names:
            s = self.series(q)
            if source != "summary" and s is not None and s.shape[0] > 0:
                out[q] = equilibrium_stats(s, frac, mask=mask)
            elif source != "series" and f"{q}_mean" in self.summary:
                if abs(frac - summary_fraction) > 1e-12:
                    raise ValueError(
                        f"fraction={frac} but only streaming summaries over the last {summary_fraction} "
                        "of the "
                        f"run were kept (record='summary'); use fraction={summary_fraction}"
                    )
                count = self.summary.get("count")
                n_rec = int(np.max(count)) if count is not None and count.size else 0
                out[q] = stats_from_trajectory_means(
                    self.summary[f"{q}_mean"], self.summary.get(f"{q}_var"), n_records=n_rec, mask=mask
                )
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every field (arrays kept as arrays)."""
        d: dict[str, Any] = {"steps": self.steps}
        for q in QUANTITIES:
            d[q] = getattr(self, q)
        d.update(
            summary=self.summary,
            diverged=self.diverged,
            diverged_step=self.diverged_step,
            params=self.params,
            config=self.config,
            w_final=self.w_final,
        )
        return d

    def __repr__(self) -> str:
        c = self.config
        return (
            f"SimulationResult(optimizer={c.get('optimizer')!r}, backend={c.get('backend')!r}, "
            f"method={c.get('method')!r}, dim={c.get('dim')}, steps={c.get('steps')}, G={self.grid_size}, "
            f"n={self.trajectories}, records={len(self.steps)}, diverged={int(self.diverged.sum())})"
        )
