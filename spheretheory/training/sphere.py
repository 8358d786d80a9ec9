"""Training on the sphere at a fixed effective learning rate (Kodryan et al. 2022; theory brief Sec. 5).

    u_{t+1} = (u_t − ELR·∇L_B(u_t)) / ‖u_t − ELR·∇L_B(u_t)‖

on one joint sphere (all weights) or one sphere per group. Because L is scale-invariant, this is the authors'
"lr = ELR·ρ₀² with the norm reset to ρ₀ after each step" for any ρ₀; we use ρ₀ = 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import InputError, check_choice, check_int, check_real
from ..models.base import ScaleInvariantModel
from .trajectory import Recorder, Trajectory, angle_between, cosine, progress


def _groups(dim: int, groups: Sequence[int] | None) -> list[slice] | None:
    if groups is None:
        return None
    sizes = [check_int("groups[i]", g, low=1) for g in groups]
    if sum(sizes) != dim:
        raise InputError(f"groups must be sizes summing to the model dimension {dim}; got sum {sum(sizes)}")
    out, start = [], 0
    for s in sizes:
        out.append(slice(start, start + s))
        start += s
    return out


def _normalize(w: np.ndarray, groups: list[slice] | None) -> np.ndarray:
    if groups is None:
        return w / np.linalg.norm(w, axis=-1, keepdims=True)
    out = np.empty_like(w)
    for sl in groups:
        out[..., sl] = w[..., sl] / np.linalg.norm(w[..., sl], axis=-1, keepdims=True)
    return out


def initial_weights(model: ScaleInvariantModel, runs: int, rng: np.random.Generator) -> np.ndarray:
    """Uniformly random unit directions, shape ``(runs, dim)`` (or the model's ``initial_weights``)."""
    init = getattr(model, "initial_weights", None)
    if init is not None:
        return init(runs, rng)
    z = rng.standard_normal((runs, model.dim))
    return z / np.linalg.norm(z, axis=-1, keepdims=True)


def train_sphere(
    model: ScaleInvariantModel,
    elr: float,
    steps: int,
    *,
    runs: int = 8,
    seed: int | None = 0,
    w0: np.ndarray | None = None,
    groups: Sequence[int] | None = None,
    record_every: int = 1,
    stochastic: bool = True,
    record_weights: bool = False,
    backend: str = "numpy",
    progress_bar: bool | None = None,
    loss_from: float = 0.0,
) -> Trajectory:
    """Train ``runs`` independent copies of ``model`` on the sphere at a fixed ELR.

    Implements u_{t+1} = (u_t − ELR·∇L_B(u_t))/‖·‖ (Kodryan et al. 2022), per group when ``groups`` is given.

    Parameters
    ----------
    model:
        A :class:`~spheretheory.models.base.ScaleInvariantModel`.
    elr:
        Effective learning rate, > 0.
    steps:
        Number of updates, ≥ 1.
    runs:
        Independent runs (vectorized), ≥ 1.
    seed:
        Seed of the generator drawing the initial directions and the gradient noise.
    w0:
        Initial weights, shape ``(runs, dim)`` (normalized here); default uniform random directions.
    groups:
        Sizes of consecutive weight groups, each trained on its own unit sphere; ``None``: one joint sphere.
    record_every:
        Record the statistics every this many steps (the last step is always recorded).
    stochastic:
        ``False`` uses the exact full gradient (deterministic sphere GD).
    record_weights:
        Also keep the weights at every record in ``meta["weights"]`` (shape ``(runs, n, dim)``; for small
        models: plots of the trajectory and of the stationary density).
    backend:
        ``"numpy"`` (any model) or ``"numba"`` (a compiled kernel; only for a
        :class:`~spheretheory.models.NoisyRayleighQuotient` with diagonal H on one joint sphere, stochastic,
        without ``record_weights``). Both draw the same normals from ``seed``, in the same order.
    progress_bar:
        Show a tqdm bar (default: when stderr is a TTY).
    loss_from:
        Evaluate the full-data loss only at the records from this fraction of the run on (0 ≤ loss_from < 1;
        the earlier records hold NaN). The regime classifier reads the loss over the last half only
        (:func:`spheretheory.regimes.classify`), so a phase sweep passes 0.5: for a model whose full loss costs
        several gradients (the batch-norm net) this halves the loss evaluations.

    Returns
    -------
    Trajectory
        With ``elr`` set; a run that produces a non-finite value is frozen and reported as diverged.
    """
    elr = float(check_real("elr", elr, low=0.0, low_inclusive=False))
    steps = check_int("steps", steps, low=1)
    runs = check_int("runs", runs, low=1)
    record_every = check_int("record_every", record_every, low=1)
    loss_from = float(check_real("loss_from", loss_from, low=0.0, high=1.0, high_inclusive=False))
    sl = _groups(model.dim, groups)
    backend = check_choice("backend", backend, ("numpy", "numba"))
    rng = np.random.default_rng(seed)
    if w0 is None:
        u = initial_weights(model, runs, rng)
    else:
        u = check_real("w0", w0)
        if u.ndim == 1 and runs == 1:
            u = u[None]
        if u.shape != (runs, model.dim):
            raise InputError(f"w0 must have shape (runs, dim) = ({runs}, {model.dim}); got {np.shape(w0)}")
    u = _normalize(np.array(u, dtype=float), sl)
    if backend == "numba":
        return _train_nrq_compiled(
            model, u, elr, steps, runs, rng, record_every, groups, stochastic, record_weights, seed
        )
    flags = (record_every, stochastic, record_weights, progress_bar, loss_from, seed, groups)
    return _sphere_loop(model, u, np.array([elr]), steps, sl, rng, *flags)[0]


def train_sphere_elrs(
    model: ScaleInvariantModel,
    elrs: Sequence[float],
    steps: int,
    *,
    runs: int = 8,
    seed: int | None = 0,
    record_every: int = 1,
    progress_bar: bool | None = None,
    loss_from: float = 0.0,
) -> list[Trajectory]:
    """``[train_sphere(model, elr, steps, runs=runs, seed=seed, ...) for elr in elrs]``, computed jointly.

    Every ELR of that list starts from the same seed, so its runs share their initial directions and, step by
    step, their gradient noise (the noise of a step does not depend on the weights). When the model can draw
    that noise on its own (``draw_noise(rng, shape)`` returning the keyword arguments of an injected-noise
    ``grad``), it is drawn once per step for the ``runs`` and broadcast over the ELRs, and the ELRs are advanced
    as one ``(len(elrs), runs, dim)`` array: the same numbers as the loop over ELRs (tested bit for bit), with
    one numpy call where the loop made one per ELR. Other models fall back to that loop.
    """
    elrs_arr = np.array([float(check_real("elr", e, low=0.0, low_inclusive=False)) for e in elrs])
    kw = dict(runs=runs, seed=seed, record_every=record_every, progress_bar=progress_bar, loss_from=loss_from)
    if elrs_arr.size < 2 or not hasattr(model, "draw_noise"):
        return [train_sphere(model, float(e), steps, **kw) for e in elrs_arr]
    steps = check_int("steps", steps, low=1)
    runs = check_int("runs", runs, low=1)
    record_every = check_int("record_every", record_every, low=1)
    loss_from = float(check_real("loss_from", loss_from, low=0.0, high=1.0, high_inclusive=False))
    rng = np.random.default_rng(seed)
    u = _normalize(np.array(initial_weights(model, runs, rng), dtype=float), None)
    return _sphere_loop(
        model, u, elrs_arr, steps, None, rng, record_every, True, False, progress_bar, loss_from, seed, None
    )


def _sphere_loop(
    model, u1, elrs, steps, sl, rng, record_every, stochastic, record_weights, progress_bar, loss_from, seed, groups
) -> list[Trajectory]:
    """The numpy loop of :func:`train_sphere` from the unit directions ``u1`` (runs, dim), for each ELR in
    ``elrs``: with one ELR on ``(runs, dim)`` arrays, with several on ``(E, runs, dim)`` arrays sharing the
    noise drawn by ``model.draw_noise`` (see :func:`train_sphere_elrs`)."""
    runs = u1.shape[0]
    joint = elrs.size > 1
    lead = (elrs.size, runs) if joint else (runs,)
    u = np.broadcast_to(u1, (*lead, model.dim)).copy() if joint else u1
    elr = elrs.reshape(-1, 1, 1) if joint else float(elrs[0])
    u_start = u.copy()
    record_at = set(range(0, steps, record_every)) | {steps - 1}
    rec = Recorder(lead, len(record_at))
    # the first record whose loss is evaluated: the same index split as the classifier's (n // 2 for 0.5)
    first_loss = int(len(record_at) * loss_from)
    no_loss = np.full(lead, np.nan)
    alive = np.ones(lead, dtype=bool)
    diverged_at = np.full(lead, -1, dtype=np.int64)
    grng = rng if stochastic else None
    kept = np.full((*lead, len(record_at), model.dim), np.nan) if record_weights else None
    desc = f"sphere ELR={elrs[0]:g}" if not joint else f"sphere {elrs.size} ELRs"
    with np.errstate(all="ignore"):
        for t in progress(range(steps), steps, progress_bar, desc):
            if joint:  # one draw for the runs, shared by every ELR (what the per-ELR loop draws from the seed)
                drawn = model.draw_noise(rng, (runs,)).items()
                g = model.grad(u, **{k: np.broadcast_to(v, (*lead, *v.shape[1:])) for k, v in drawn})
            else:
                g = model.grad(u, rng=grng)
            v = _normalize(u - elr * g, sl)
            bad = ~np.all(np.isfinite(v), axis=-1) & alive
            if np.any(bad):
                diverged_at[bad] = t
                alive &= ~bad
            v = np.where(alive[..., None], v, u)
            if t in record_at:
                if kept is not None:
                    kept[..., rec.k, :] = np.where(alive[..., None], v, np.nan)
                loss = model.loss(v) if rec.k >= first_loss else no_loss
                rec.record(t + 1, loss, angle_between(u, v), cosine(v, u_start), np.sum(v * v, -1), alive)
            u = v
    out = []
    for e in range(elrs.size):
        pick = (lambda x, e=e: x[e]) if joint else (lambda x: x)
        out.append(
            rec.trajectory(
                model,
                pick(alive),
                pick(diverged_at),
                elr=float(elrs[e]),
                meta={
                    "mode": "sphere",
                    "model": type(model).__name__,
                    "seed": seed,
                    "groups": groups,
                    "final_weights": pick(u),
                    "weights": kept,
                },
                index=e if joint else None,
            )
        )
    return out


def _train_nrq_compiled(model, u, elr, steps, runs, rng, record_every, groups, stochastic, record_weights, seed):
    from ..models.nrq import NoisyRayleighQuotient
    from ._kernels import sphere_nrq_numba

    if not isinstance(model, NoisyRayleighQuotient) or not model._diag:
        raise InputError("backend='numba' needs a NoisyRayleighQuotient with diagonal H; use backend='numpy'")
    if groups is not None or not stochastic or record_weights:
        raise InputError("backend='numba' supports one joint sphere, stochastic=True, record_weights=False")
    evals = np.ascontiguousarray(np.diag(model.H), dtype=np.float64)
    u = np.ascontiguousarray(u)
    u0 = u.copy()
    loss = np.empty((steps, runs))
    angle = np.empty((steps, runs))
    cos0 = np.empty((steps, runs))
    chunk = max(1, 2**20 // (runs * model.dim))  # ~8 MB of normals at a time, drawn in the numpy order
    for start in range(0, steps, chunk):
        n = min(chunk, steps - start)
        noise = rng.standard_normal((n, runs, model.dim))
        sl = slice(start, start + n)
        sphere_nrq_numba(u, evals, model.noise_std, elr, noise, u0, loss[sl], angle[sl], cos0[sl])
    idx = np.array(sorted(set(range(0, steps, record_every)) | {steps - 1}))
    finite = np.all(np.isfinite(loss), axis=0)
    return Trajectory(
        steps=idx + 1,
        loss=loss[idx].T.copy(),
        angular_update=angle[idx].T.copy(),
        cos_to_start=cos0[idx].T.copy(),
        sq_norm=np.ones((runs, idx.size)),
        diverged=~finite,
        diverged_at=np.where(finite, -1, np.argmax(~np.isfinite(loss), axis=0)),
        dim=model.dim,
        min_loss=model.min_loss,
        random_loss=model.random_loss,
        elr=elr,
        meta={
            "mode": "sphere",
            "model": "NoisyRayleighQuotient",
            "seed": seed,
            "groups": None,
            "final_weights": u,
            "weights": None,
            "backend": "numba",
        },
    )
