"""Muon on batched small scale-invariant matrices: the numpy simulator behind ``simulate(optimizer="muon")``.

Each of the G·n independent m×n matrices W follows, per step (PyTorch ``torch.optim.Muon``):

    B_t = β B_{t−1} + (1 − β) G_t                         (``buf.lerp_(grad, 1 − momentum)``)
    U_t = (1 − β) G_t + β B_t  (Nesterov)                 (``grad.lerp(buf, momentum)``)
    O_t = orth(U_t)                                       (Newton–Schulz, or the exact polar factor U Vᵀ)
    W_{t+1} = (1 − η_tλ_t) W_t − η'_t O_t                 (decoupled decay with η; η' = adjusted LR)

with η' = η·√max(1, m/n) (``adjust_lr_fn`` None/"original", ``adjust_lr=0``) or η·0.2·√max(m, n)
("match_rms_adamw", ``adjust_lr=1``); the update is :mod:`spheretheory.optimizers.muon`'s ``step`` (written
once there). The gradient of a scale-invariant matrix is the numpy backend's synthetic gradient on the
flattened matrix, G_t = g̃_t/‖W_t‖ with g̃_t ⟂ W_t in the Frobenius inner product (Wan et al. Lemma 1 for the
whole matrix), drawn from the same per-trajectory streams as the vector backends (the same seed gives the
same noise as ``simulate("sgd", dim=m·n)``). Newton–Schulz runs in float64 here (torch runs it in bfloat16);
``ns_steps=0`` is the idealisation of the exact polar factor.

Recorded quantities (:data:`spheretheory.simulation.QUANTITIES`): ‖W_t‖², Δ_t = ∠(W_t, W_{t+1}), ‖g̃_t‖²,
cos(W_0, W_t) and, as ``effective_lr``, η'_t‖O_t‖/‖W_t‖ (the angle an update uncorrelated with W would make:
``predict("muon").effective_lr``); ``h_tilde`` is not defined. ``result.extra`` holds the streaming mean and
variance over the equilibrium window of the consecutive-update correlation ⟨O_{t−1}, O_t⟩/‖O_t‖²
(``update_correlation_mean``/``_var``, shape (G, n); ``predict("muon").update_correlation``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .._stats import angle_between, welford_update
from .._validation import InputError
from ..optimizers import muon as spec_module
from ._common import NQ, Q_INDEX, assemble, initial_weights, make_progress, new_buffers, per_trajectory, seed_sequences
from ._rng import StreamDrawer, stream_states

if TYPE_CHECKING:
    from ._spec import Problem
    from .result import SimulationResult

#: The spec's hyperparameters that simulate takes through ``options=`` (momentum is simulate's own argument,
#: rows and cols come from ``dim=(rows, cols)``).
OPTIONS = tuple(k for k in spec_module.SPEC.hyperparameters if k not in ("momentum", "rows", "cols"))


def matrix_problem(dim: Any, options: Mapping[str, Any] | None) -> tuple[int, dict[str, Any]]:
    """Validate Muon's ``dim=(rows, cols)`` and ``options`` for :func:`spheretheory.simulate`.

    ``options`` may hold ``nesterov``, ``ns_steps`` and ``adjust_lr`` (0/1, or torch's ``adjust_lr_fn`` value
    None/"original"/"match_rms_adamw" under either name), each checked against the spec's domain.

    Returns
    -------
    (d, extra)
        d = rows·cols and the Problem's ``extra``: ``{"shape": (rows, cols), "options": {...}}``.
    """
    hps = spec_module.SPEC.hyperparameters
    if isinstance(dim, (str, bytes)) or np.ndim(dim) != 1 or len(dim) != 2:
        raise InputError(f"dim must be a pair (rows, cols) for optimizer='muon' (the weight is a matrix); got {dim!r}")
    rows, cols = (hps[name].validate(name, value) for name, value in zip(("rows", "cols"), dim, strict=True))
    if rows * cols < 2:
        raise InputError(f"dim=(rows, cols) must have at least 2 entries for optimizer='muon'; got {(rows, cols)}")
    given = dict(options or {})
    if "adjust_lr_fn" in given:
        if "adjust_lr" in given:
            raise InputError("options: give adjust_lr or adjust_lr_fn, not both")
        given["adjust_lr"] = given.pop("adjust_lr_fn")
    unknown = sorted(set(given) - set(OPTIONS))
    if unknown:
        raise InputError(
            f"options for optimizer='muon' are {', '.join(OPTIONS)} (adjust_lr_fn is accepted for adjust_lr); "
            f"got {', '.join(map(str, unknown))}"
        )
    if "adjust_lr" in given:
        given["adjust_lr"] = adjust_lr_code(given["adjust_lr"])
    values = {k: hps[k].validate(k, given.get(k, hps[k].default)) for k in OPTIONS}
    return rows * cols, {"shape": (rows, cols), "options": values}


def adjust_lr_code(value: Any) -> Any:
    """torch.optim.Muon's ``adjust_lr_fn`` (None, "original", "match_rms_adamw") as the spec's ``adjust_lr``
    code 0/1; other values are returned for the spec's domain check."""
    if value is None or isinstance(value, str):
        fns = spec_module.ADJUST_LR_FNS
        if value is not None and value not in fns:
            raise InputError(f"adjust_lr_fn must be None or one of {', '.join(map(str, fns))}; got {value!r}")
        return 0 if value is None else fns.index(value)
    return value


def check_supported(problem: Problem) -> None:
    """Refuse the combinations this simulator does not cover, each with the reason (``InputError``)."""
    if problem.method == "reduced":
        raise InputError(
            "method='reduced' is not available for optimizer='muon': the reduced chain is exact only for updates "
            "that act on w, g and the momentum through their inner products, while Muon's orthogonalisation "
            "depends on the whole singular spectrum of the momentum matrix; use method='full'"
        )
    if problem.backend not in ("auto", "numpy"):
        raise InputError(
            f"backend={problem.backend!r} is not available for optimizer='muon': it runs on the numpy backend "
            "(batched matrix products); use backend='auto' or 'numpy'"
        )
    if problem.model is not None:
        raise InputError("model= is not available for optimizer='muon' (the toy models have vector weights)")
    if problem.noise != "isotropic":
        raise InputError(f"noise={problem.noise!r} is not available for optimizer='muon'; use noise='isotropic'")
    if not problem.decoupled:
        raise InputError("decoupled=False with optimizer='muon': torch.optim.Muon's weight decay is decoupled")
    if problem.dtype != np.dtype(np.float64):
        raise InputError("dtype must be float64 for optimizer='muon' (its Newton–Schulz runs in float64 here)")


def run(problem: Problem) -> SimulationResult:
    """Simulate Muon on ``problem`` (see the module docstring); diverged trajectories are flagged, not NaN."""
    from ._numpy import _flag, synthetic_unit_gradient

    check_supported(problem)
    rows, cols = problem.extra["shape"]
    opts = problem.extra["options"]
    p = per_trajectory(problem)
    N, d = problem.N, problem.dim
    mat = (N, rows, cols)
    _, noise_ss = seed_sequences(problem)
    streams = stream_states(noise_ss, N)[0]
    drawer = StreamDrawer()
    block = max(1, min(256, (1 << 19) // (N * d)))
    xi_block = np.empty((0, N, d))
    no_scale, no_drift = np.zeros(0), np.zeros(0)

    w = initial_weights(problem).reshape(mat)
    w_start = w.reshape(N, d).copy()
    state: dict[str, np.ndarray] = {}
    buf = new_buffers(problem)
    rec, count, mean, m2 = buf["rec"], buf["sum_count"], buf["sum_mean"], buf["sum_m2"]
    corr_count, corr_mean, corr_m2 = np.zeros(N, dtype=np.int64), np.zeros((1, N)), np.zeros((1, N))
    active = np.ones(N, dtype=bool)
    beta = p["momentum"][:, None, None]
    lr_scale = float(spec_module.lr_scale(rows, cols, opts["adjust_lr"]))
    prev_o = None
    bar = make_progress(problem, "simulate muon (numpy)")
    with np.errstate(all="ignore"):
        for t in range(problem.steps):
            lr = p["lr"] * problem.lr_schedule(t)
            wd = p["weight_decay"] * problem.wd_schedule(t)
            L = p["unit_grad_sq"] * problem.grad_schedule(t)
            factor = problem.rescale_factors(t, t + 1)[0]
            if factor != 1.0:  # Wan et al. Sec. 4.2: divide W by k^(1/4) when the LR drops by k
                w = w * factor

            flat = w.reshape(N, d)
            sq = np.sum(flat * flat, axis=1)
            bad = active & ~((sq <= problem.max_sq_norm) & (sq >= problem.min_sq_norm))
            _flag(buf, bad, t)
            active &= ~bad

            if problem.noise_draws is not None:
                xi = problem.noise_draws[t].reshape(N, d).astype(np.float64)
            else:
                if t % block == 0:
                    nb = min(block, problem.steps - t)
                    xi_block = np.empty((nb, N, d))
                    for j in range(N):
                        xi_block[:, j, :] = drawer.normal(streams, j, (nb, d))
                xi = xi_block[t % block]
            g_unit = synthetic_unit_gradient(flat, xi, L, no_scale, no_drift)
            g = (g_unit / np.sqrt(sq)[:, None]).reshape(mat)

            lr3, wd3 = lr[:, None, None], wd[:, None, None]
            w_new, state = spec_module.SPEC.step(w, g, state, lr3, wd3, beta, **opts)
            o = ((1 - lr3 * wd3) * w - w_new) / (lr3 * lr_scale)  # the orthogonalised update O_t
            o_flat = o.reshape(N, d)
            o_sq = np.sum(o_flat * o_flat, axis=1)

            new_flat = w_new.reshape(N, d)
            new_sq = np.sum(new_flat * new_flat, axis=1)
            bad = active & ~((new_sq <= problem.max_sq_norm) & (new_sq >= problem.min_sq_norm))
            _flag(buf, bad, t)
            active &= ~bad

            values = np.full((NQ, N), np.nan)
            values[Q_INDEX["sq_norm"]] = sq
            values[Q_INDEX["angular_update"]] = angle_between(flat, new_flat)  # Δ_t = ∠(W_t, W_{t+1})
            values[Q_INDEX["unit_grad_sq"]] = np.sum(g_unit * g_unit, axis=1)
            values[Q_INDEX["cos_to_start"]] = np.sum(w_start * flat, axis=1) / np.sqrt(
                np.sum(w_start * w_start, axis=1) * sq
            )
            values[Q_INDEX["effective_lr"]] = lr * lr_scale * np.sqrt(o_sq / sq)  # η'‖O_t‖/‖W_t‖
            if problem.record == "series" and t % problem.record_every == 0:
                rec[:, t // problem.record_every, active] = values[:, active]
            if t >= problem.summary_start:
                welford_update(count, mean, m2, values, active)
                if prev_o is not None:
                    corr = np.sum(prev_o * o_flat, axis=1) / o_sq
                    welford_update(corr_count, corr_mean, corr_m2, corr[None], active)
            prev_o = o_flat
            w = np.where(active[:, None, None], w_new, w)
            bar.update(1)
    bar.close()
    result = assemble(problem, buf, w.reshape(N, d), "numpy")
    G, n = problem.G, problem.trajectories
    diverged = result.diverged
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (corr_count > 0).reshape(G, n) & ~diverged
        result.extra["update_correlation_mean"] = np.where(ok, corr_mean[0].reshape(G, n), np.nan)
        var = corr_m2[0] / np.maximum(corr_count, 1)
        result.extra["update_correlation_var"] = np.where(ok, var.reshape(G, n), np.nan)
    return result
