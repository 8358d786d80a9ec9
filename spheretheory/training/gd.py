"""Full-batch gradient descent with weight decay on a scale-invariant model (Lobacheva et al. 2021).

    w_{t+1} = w_t − η (∇L(w_t) + λ w_t)

With exact gradients near a minimum ∇L → 0, weight decay shrinks ‖w‖ geometrically, so the effective learning
rate η/‖w‖² grows until ELR·λ_max(tangent Hessian) exceeds 2; training destabilises, the gradient grows,
the norm jumps (‖w_{t+1}‖² = (1 − ηλ)²‖w_t‖² + η²‖∇L‖², as ∇L ⟂ w), the ELR drops and a new period begins.
"""

from __future__ import annotations

import numpy as np

from .._validation import InputError, check_int, check_real
from ..models.base import ScaleInvariantModel
from .sphere import initial_weights
from .trajectory import Recorder, Trajectory, angle_between, cosine, progress


def full_batch_gd(
    model: ScaleInvariantModel,
    lr: float,
    weight_decay: float,
    steps: int,
    *,
    runs: int = 1,
    seed: int | None = 0,
    w0: np.ndarray | None = None,
    record_every: int = 1,
    progress_bar: bool | None = None,
) -> Trajectory:
    """Full-batch GD with coupled weight decay: w ← w − lr·(∇L(w) + weight_decay·w), exact gradients.

    Parameters
    ----------
    model:
        A scale-invariant model.
    lr:
        Learning rate η > 0.
    weight_decay:
        λ ≥ 0.
    steps, runs, seed, w0, record_every, progress_bar:
        As in :func:`spheretheory.training.train_sphere` (``w0`` is not normalized).

    Returns
    -------
    Trajectory
        ``sq_norm`` holds ‖w_t‖² (the effective learning rate is lr/‖w_t‖², ``meta["effective_lr"]``).
    """
    lr = float(check_real("lr", lr, low=0.0, low_inclusive=False))
    weight_decay = float(check_real("weight_decay", weight_decay, low=0.0))
    steps = check_int("steps", steps, low=1)
    runs = check_int("runs", runs, low=1)
    record_every = check_int("record_every", record_every, low=1)
    rng = np.random.default_rng(seed)
    if w0 is None:
        w = initial_weights(model, runs, rng)
    else:
        w = np.array(check_real("w0", w0), dtype=float)
        if w.ndim == 1 and runs == 1:
            w = w[None]
        if w.shape != (runs, model.dim):
            raise InputError(f"w0 must have shape (runs, dim) = ({runs}, {model.dim}); got {np.shape(w0)}")
    w_start = w.copy()
    record_at = set(range(0, steps, record_every)) | {steps - 1}
    rec = Recorder(runs, len(record_at))
    alive = np.ones(runs, dtype=bool)
    diverged_at = np.full(runs, -1, dtype=np.int64)
    with np.errstate(all="ignore"):
        for t in progress(range(steps), steps, progress_bar, "full-batch GD"):
            v = w - lr * (model.grad(w) + weight_decay * w)
            bad = ~np.all(np.isfinite(v), axis=-1) & alive
            if np.any(bad):
                diverged_at[bad] = t
                alive &= ~bad
            v = np.where(alive[:, None], v, w)
            if t in record_at:
                rec.record(t + 1, model.loss(v), angle_between(w, v), cosine(v, w_start), np.sum(v * v, -1), alive)
            w = v
    return rec.trajectory(
        model,
        alive,
        diverged_at,
        elr=None,
        meta={
            "mode": "full_batch_gd",
            "model": type(model).__name__,
            "lr": lr,
            "weight_decay": weight_decay,
            "seed": seed,
            "effective_lr": lr / rec.sq_norm,
            "final_weights": w,
        },
    )


def periods(trajectory: Trajectory, jump: float = 1.5) -> list[np.ndarray]:
    """Steps at which ‖w‖² jumps up by more than the factor ``jump`` within one record (one list per run):
    the starts of Lobacheva et al.'s periods."""
    out = []
    for r in range(trajectory.runs):
        n = trajectory.sq_norm[r]
        ratio = n[1:] / n[:-1]
        idx = np.nonzero(ratio > jump)[0] + 1
        # merge consecutive records of one jump
        keep = idx[np.concatenate([[True], np.diff(idx) > 1])] if idx.size else idx
        out.append(trajectory.steps[keep])
    return out
