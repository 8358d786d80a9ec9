"""Free training (SGD/SGDM with weight decay, the dynamics of the SMD papers) through the simulation engine.

:func:`train_free` calls :func:`spheretheory.simulate` with ``model=`` (the engine's update rules; no second
simulator here) in chunks of ``loss_every`` steps, restarting each chunk from the previous chunk's final
weights, and evaluates the model's full loss at every chunk boundary. For SGD this is exactly one long run
(the optimizer has no state besides w; only the random stream differs); for SGDM the momentum buffer restarts
at zero at each boundary, a perturbation of relative size ~ 1/((1 − α)·loss_every) — keep
``loss_every`` ≫ 1/(1 − α).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int
from ..models.base import ScaleInvariantModel
from .trajectory import Trajectory


def train_free(
    model: ScaleInvariantModel,
    lr: float | np.ndarray,
    weight_decay: float | np.ndarray,
    steps: int,
    *,
    optimizer: str = "sgd",
    momentum: float = 0.0,
    runs: int = 8,
    loss_every: int = 100,
    init_norm: float | np.ndarray = 1.0,
    seed: int = 0,
) -> list[Trajectory]:
    """Free SGD/SGDM training of ``model`` over a grid of (lr, weight_decay) (1-D arrays of length G).

    Returns one :class:`Trajectory` per grid point, recorded every ``loss_every`` steps: full loss, angular
    update Δ_t (of the step at that record), ‖w‖² and cos to the start. ``init_norm`` (scalar or per grid
    point) sets ‖w_0‖ — e.g. the equilibrium norm (η L/(2λ))^{1/4} (``sgd.equilibrium_sq_norm``) to
    skip the transient.
    """
    from ..simulation import simulate

    steps = check_int("steps", steps, low=1)
    loss_every = check_int("loss_every", loss_every, low=1)
    runs = check_int("runs", runs, low=1)
    lr_a, wd_a = np.broadcast_arrays(
        np.atleast_1d(np.asarray(lr, float)), np.atleast_1d(np.asarray(weight_decay, float))
    )
    G = lr_a.size
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((G, runs, model.dim))
    w = (
        z
        / np.linalg.norm(z, axis=-1, keepdims=True)
        * np.broadcast_to(np.asarray(init_norm, float), (G,))[:, None, None]
    )
    w_start = w.copy()
    n_chunks = -(-steps // loss_every)
    loss = np.full((G, runs, n_chunks), np.nan)
    angle = np.full_like(loss, np.nan)
    sq = np.full_like(loss, np.nan)
    cos0 = np.full_like(loss, np.nan)
    diverged = np.zeros((G, runs), bool)
    diverged_at = np.full((G, runs), -1, np.int64)
    rec_steps = np.zeros(n_chunks, np.int64)
    done = 0
    for k in range(n_chunks):
        n = min(loss_every, steps - done)
        res = simulate(
            optimizer,
            lr=lr_a,
            weight_decay=wd_a,
            momentum=momentum,
            dim=model.dim,
            steps=n,
            trajectories=runs,
            model=model,
            w0=w,
            record_every=n,
            backend="numpy",
            seed=int(rng.integers(2**63)),
            progress=False,
        )
        w = res.w_final
        done += n
        rec_steps[k] = done
        newly = res.diverged & ~diverged
        diverged_at[newly] = done - n + np.maximum(res.diverged_step[newly], 0)
        diverged |= res.diverged
        with np.errstate(all="ignore"):
            loss[..., k] = np.where(diverged, np.nan, model.loss(np.where(np.isfinite(w), w, 1.0)))
            angle[..., k] = np.where(diverged, np.nan, res.angular_update[-1])
            sq[..., k] = np.where(diverged, np.nan, np.sum(w * w, -1))
            cos0[..., k] = np.where(
                diverged,
                np.nan,
                np.sum(w * w_start, -1) / np.sqrt(np.sum(w * w, -1) * np.sum(w_start**2, -1)),
            )
    out = []
    for g in range(G):
        out.append(
            Trajectory(
                steps=rec_steps,
                loss=loss[g],
                angular_update=angle[g],
                cos_to_start=cos0[g],
                sq_norm=sq[g],
                diverged=diverged[g],
                diverged_at=diverged_at[g],
                dim=model.dim,
                min_loss=getattr(model, "min_loss", None),
                random_loss=getattr(model, "random_loss", None),
                meta={
                    "mode": "free",
                    "optimizer": optimizer,
                    "lr": float(lr_a[g]),
                    "weight_decay": float(wd_a[g]),
                    "momentum": momentum,
                    "seed": seed,
                    "final_weights": w[g],
                },
            )
        )
    return out
