"""ELR sweep → phase diagram: loss level, angular update and regime per ELR over several seeds, with the
derived boundaries (Kodryan et al. 2022's three regimes; docs/regimes.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import InputError, check_choice, check_int, check_real
from .classify import classify

MODELS = ("nrq", "toy", "net")


def make_model(name: str, **kwargs: Any):
    """The default model called ``name`` (``nrq``, ``toy`` or ``net``)."""
    name = check_choice("model", name, MODELS)
    from ..models import BatchNormNet, NoisyRayleighQuotient, WellsOnSphere

    return {"nrq": NoisyRayleighQuotient, "toy": WellsOnSphere, "net": BatchNormNet}[name](**kwargs)


@dataclass
class PhaseDiagram:
    """The result of :func:`sweep`.

    Attributes
    ----------
    results:
        One dict per ELR: ``elr``, ``regime`` (or ``undetermined``: the run is too short to tell),
        ``confidence``, ``votes`` and the classifier's statistics
        (``loss``, ``loss_se``, ``loss_level``, ``angular_update``, ``angle_fraction``,
        ``loss_trend_t``, ...),
        plus ``predicted_stationary_loss`` where the model has a derived stationary loss.
    boundaries:
        Derived ELR boundaries (name → ELR).
    model:
        The model's name; ``steps``, ``runs``, ``seed``: the sweep's settings.
    """

    results: list[dict[str, Any]]
    boundaries: dict[str, float]
    model: str
    steps: int
    runs: int
    seed: int | None
    extra: dict[str, Any] = field(default_factory=dict)

    def regimes(self) -> list[str]:
        return [r["regime"] for r in self.results]

    def ordered(self) -> bool:
        """True when the decided regimes never go back in ELR (convergence → chaotic → divergence;
        ``undetermined`` ELRs are skipped: a longer run decides them)."""
        from .classify import REGIMES

        idx = [REGIMES.index(r) for r in self.regimes() if r in REGIMES]
        return all(a <= b for a, b in zip(idx[:-1], idx[1:], strict=True))


def sweep(
    model: Any,
    elrs: Sequence[float],
    *,
    steps: int = 4000,
    runs: int = 8,
    seed: int | None = 0,
    record_every: int = 5,
    backend: str = "numpy",
    progress_bar: bool | None = None,
) -> PhaseDiagram:
    """Train ``runs`` seeds on the sphere at each ELR, classify each, and attach the derived boundaries.

    Parameters
    ----------
    model:
        A model instance or one of ``"nrq"``, ``"toy"``, ``"net"`` (the defaults).
    elrs:
        The ELRs, each > 0.
    steps, runs, seed, record_every, backend, progress_bar:
        As in :func:`spheretheory.training.train_sphere` (the same seed at every ELR).
    """
    from ..training.sphere import train_sphere, train_sphere_elrs

    name = model if isinstance(model, str) else type(model).__name__
    if isinstance(model, str):
        model = make_model(model)
    elrs_arr = check_real("elr", np.atleast_1d(np.asarray(elrs, dtype=float)), low=0.0, low_inclusive=False)
    if elrs_arr.ndim != 1:
        raise InputError(f"elr must be a list of numbers; got shape {elrs_arr.shape}")
    steps = check_int("steps", steps, low=40)
    runs = check_int("runs", runs, low=1)
    backend = check_choice("backend", backend, ("numpy", "numba"))
    results = []
    kw = dict(runs=runs, seed=seed, record_every=record_every, progress_bar=progress_bar)
    kw["loss_from"] = 0.5  # the classifier reads the loss over the last half only
    if backend == "numpy":  # every ELR from the same seed: advanced jointly (the same numbers as one by one)
        trajectories = train_sphere_elrs(model, elrs_arr, steps, **kw)
    else:
        trajectories = [train_sphere(model, float(elr), steps, backend=backend, **kw) for elr in elrs_arr]
    for elr, tr in zip(elrs_arr, trajectories, strict=True):
        res = classify(tr, convergence_steps=_convergence_steps(model, float(elr)))
        row: dict[str, Any] = {"elr": float(elr), "regime": res.regime, "confidence": res.confidence}
        row.update(res.statistics)
        pred = getattr(model, "predicted_excess_risk", None)
        if pred is not None:
            stab = 1.0 / model.gaps.max()
            row["predicted_stationary_loss"] = float(model.min_loss + pred(elr)) if elr < stab else None
        results.append(row)
    boundaries = _boundaries(model, steps, trajectories, results)
    return PhaseDiagram(
        results=results,
        boundaries=boundaries,
        model=name,
        steps=steps,
        runs=runs,
        seed=seed,
        extra={"trajectories": trajectories, "model": model},
    )


def _convergence_steps(model: Any, elr: float) -> float | None:
    """Derived steps a run needs to converge at this ELR: RELAXATION_BUDGET / (slowest relaxation rate), for a
    model with a derived rate (the NRQ's ``predicted_rate``, ``nrq.direction_rate``); ``None`` otherwise."""
    from ..theory.toy import RELAXATION_BUDGET

    rate = getattr(model, "predicted_rate", None)
    if rate is None:
        return None
    r = float(rate(elr))
    return RELAXATION_BUDGET / r if r > 0 else float("inf")


def _boundaries(model, steps, trajectories, results) -> dict[str, float]:
    from ..models import BatchNormNet

    if isinstance(model, BatchNormNet):
        # stability at the lowest-loss point reached by a converging/equilibrated run (the best run found)
        best = None
        for tr, row in zip(trajectories, results, strict=True):
            if row["regime"] == "divergence":
                continue
            final = tr.meta["final_weights"]
            losses = model.loss(final)
            i = int(np.nanargmin(losses))
            if best is None or losses[i] < best[0]:
                best = (losses[i], final[i])
        return model.regime_boundaries(steps, w_min=None if best is None else best[1])
    return model.regime_boundaries(steps)


REGIME_COLORS = {
    "convergence": "tab:blue",
    "chaotic_equilibrium": "tab:orange",
    "divergence": "tab:red",
    "undetermined": "tab:gray",
}


def _readable(key: str) -> str:
    """Legend name of a derived boundary: ``stability_0`` -> ``stability of minimum 0``, ``random_walk`` ->
    ``random walk``."""
    head, _, tail = key.rpartition("_")
    if head and tail.isdigit():
        return f"{head.replace('_', ' ')} of minimum {tail}"
    return key.replace("_", " ")


def plot_phase_diagram(diagram: PhaseDiagram, path: str) -> str:
    """Draw loss level and angular update against ELR, coloured by regime, with the derived boundaries.

    Returns ``path``. Uses matplotlib's Agg backend (imported here).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = diagram.results
    elr = np.array([r["elr"] for r in rows])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    ax = axes[0]
    for r in rows:
        c = REGIME_COLORS[r["regime"]]
        y, se = r.get("loss"), r.get("loss_se")
        if y is None or not np.isfinite(y):
            ax.axvline(r["elr"], color=c, lw=6, alpha=0.3)
            continue
        ax.errorbar(r["elr"], y, yerr=2 * se if se and np.isfinite(se) else None, fmt="o", color=c, capsize=3)
    pred = [(r["elr"], r["predicted_stationary_loss"]) for r in rows if r.get("predicted_stationary_loss") is not None]
    model = diagram.extra.get("model")
    if model is not None and hasattr(model, "predicted_excess_risk"):
        grid = np.logspace(np.log10(elr.min()), np.log10(min(elr.max(), 0.99 / model.gaps.max())), 200)
        ax.plot(
            grid,
            model.min_loss + model.predicted_excess_risk(grid),
            "k--",
            lw=1,
            label="derived stationary loss",
        )
    elif pred:
        ax.plot(*zip(*pred, strict=True), "k--", lw=1, label="derived stationary loss")
    if model is not None and getattr(model, "random_loss", None) is not None:
        ax.axhline(model.random_loss, color="gray", ls=":", label="random direction")
    ax.set_xscale("log")
    ax.set_xlabel(r"effective learning rate $\eta/\|w\|^2$")
    ax.set_ylabel("stationary loss (2nd half, mean ± 2 SE over seeds)")
    ax2 = axes[1]
    floor = 1e-8  # angular updates below this (converged runs: exact 0 up to rounding) are drawn at the floor
    for r in rows:
        a = r.get("angular_update")
        if a is not None and np.isfinite(a):
            marker = "o" if a >= floor else "v"
            ax2.plot(r["elr"], max(a, floor), marker, color=REGIME_COLORS[r["regime"]])
    ax2.axhline(np.pi / 2, color="gray", ls=":", label="π/2 (uniform)")
    ax2.axhline(0.8 * np.pi / 2, color="gray", ls="--", lw=0.8, label="divergence angle")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel(r"effective learning rate $\eta/\|w\|^2$")
    ax2.set_ylabel(r"mean angular update $\Delta$ (rad; ▼ = below $10^{-8}$)")
    styles = ["-", "--", "-.", ":"]
    for ax_ in axes:
        for i, (k, v) in enumerate(sorted(diagram.boundaries.items())):
            if v is not None and np.isfinite(v) and v > 0:
                ax_.axvline(
                    v, color="k", ls=styles[i % 4], lw=0.8, alpha=0.7, label=f"derived: {_readable(k)} = {v:.3g}"
                )
    for reg, c in REGIME_COLORS.items():
        axes[0].plot([], [], "o", color=c, label=_readable(reg))
    axes[0].legend(fontsize=7, loc="best")
    ax2.legend(fontsize=7, loc="lower right")
    fig.suptitle(f"Sphere training at fixed ELR — {diagram.model} ({diagram.runs} seeds, {diagram.steps} steps)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
