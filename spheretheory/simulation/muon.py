"""Muon on batched small scale-invariant matrices: the simulator behind ``simulate(optimizer="muon")``.

Two engines run the same steps block by block on the same injected draws: the numba kernel
(:mod:`._muon_numba`, ``backend="numba"`` and ``"auto"``) and the numpy reference path (:func:`numpy_block`,
``backend="numpy"``), which calls the spec's ``step``; they agree to round-off (tests/test_muon_backends.py).

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
from types import SimpleNamespace
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
    if problem.backend not in ("auto", "numpy", "numba"):
        raise InputError(
            f"backend={problem.backend!r} is not available for optimizer='muon': it runs on the numba and numpy "
            "backends (batched small matrix products); use backend='auto', 'numba' or 'numpy'"
        )
    if problem.model is not None:
        raise InputError("model= is not available for optimizer='muon' (the toy models have vector weights)")
    if problem.noise != "isotropic":
        raise InputError(f"noise={problem.noise!r} is not available for optimizer='muon'; use noise='isotropic'")
    if not problem.decoupled:
        raise InputError("decoupled=False with optimizer='muon': torch.optim.Muon's weight decay is decoupled")
    if problem.dtype != np.dtype(np.float64):
        raise InputError("dtype must be float64 for optimizer='muon' (its Newton–Schulz runs in float64 here)")


#: The order of the per-step values the block engines fill (``values[s, i, j]``).
BLOCK_QUANTITIES = ("sq_norm", "angular_update", "unit_grad_sq", "cos_to_start", "effective_lr")


class _State:
    """The numpy engine's state across blocks (the numba engine's is :class:`._muon_numba.MuonState`)."""

    def __init__(self, w: np.ndarray, active: np.ndarray) -> None:
        self.w, self.buf, self.prev_o = w, np.zeros_like(w), np.zeros_like(w)
        self.w_start, self.active = w.copy(), active


def numpy_block(problem: Problem, st: Any, blk: Any, values: np.ndarray, corr: np.ndarray, alive: np.ndarray):
    """The numpy reference of :func:`._muon_numba.muon_block` (same state, block and outputs), stepping through
    :mod:`spheretheory.optimizers.muon`'s ``step`` batched over the trajectories."""
    from ._numpy import synthetic_unit_gradient

    opts = problem.extra["options"]
    rows, cols = problem.extra["shape"]
    N, d = problem.N, problem.dim
    beta = per_trajectory(problem)["momentum"][:, None, None]
    scale = float(spec_module.lr_scale(rows, cols, opts["adjust_lr"]))
    no = np.zeros(0)
    for s in range(blk.lr.shape[0]):
        if blk.factor[s] != 1.0:  # Wan et al. Sec. 4.2: divide W by k^(1/4) when the LR drops by k
            st.w *= blk.factor[s]
        flat = st.w.reshape(N, d)
        sq = np.sum(flat * flat, axis=1)
        st.active &= (sq <= problem.max_sq_norm) & (sq >= problem.min_sq_norm)
        g_unit = synthetic_unit_gradient(flat, blk.xi[s], blk.unit_grad_sq[s], no, no)
        g = (g_unit / np.sqrt(sq)[:, None]).reshape(st.w.shape)
        lr3, wd3 = blk.lr[s][:, None, None], blk.wd[s][:, None, None]
        w_new, state = spec_module.SPEC.step(st.w, g, {"buf": st.buf}, lr3, wd3, beta, **opts)
        st.buf = state["buf"]
        o_flat = state["orth"].reshape(N, d)
        o_sq = np.sum(o_flat * o_flat, axis=1)
        new_flat = w_new.reshape(N, d)
        new_sq = np.sum(new_flat * new_flat, axis=1)
        st.active &= (new_sq <= problem.max_sq_norm) & (new_sq >= problem.min_sq_norm)
        values[s, 0] = sq
        values[s, 1] = angle_between(flat, new_flat)  # Δ_t = ∠(W_t, W_{t+1})
        values[s, 2] = np.sum(g_unit * g_unit, axis=1)
        values[s, 3] = np.sum(st.w_start.reshape(N, d) * flat, axis=1) / np.sqrt(
            np.sum(st.w_start.reshape(N, d) ** 2, axis=1) * sq
        )
        values[s, 4] = blk.lr[s] * scale * np.sqrt(o_sq / sq)  # η'‖O_t‖/‖W_t‖
        corr[s] = np.sum(st.prev_o.reshape(N, d) * o_flat, axis=1) / o_sq
        st.prev_o = state["orth"]
        alive[s] = st.active
        st.w = np.where(st.active[:, None, None], w_new, st.w)


def resolve_backend(problem: Problem) -> str:
    """``backend="auto"`` is numba (the compiled kernel); "numpy" is the reference path."""
    return "numpy" if problem.backend == "numpy" else "numba"


def run(problem: Problem) -> SimulationResult:
    """Simulate Muon on ``problem`` (see the module docstring); diverged trajectories are flagged, not NaN."""
    from ._numpy import _flag

    check_supported(problem)
    backend = resolve_backend(problem)
    rows, cols = problem.extra["shape"]
    opts = problem.extra["options"]
    p = per_trajectory(problem)
    N, d = problem.N, problem.dim
    _, noise_ss = seed_sequences(problem)
    streams = stream_states(noise_ss, N)[0]
    drawer = StreamDrawer()
    block = max(1, min(256, (1 << 19) // (N * d)))

    w = np.ascontiguousarray(initial_weights(problem).reshape(N, rows, cols), dtype=np.float64)
    buf = new_buffers(problem)
    rec, count, mean, m2 = buf["rec"], buf["sum_count"], buf["sum_mean"], buf["sum_m2"]
    corr_count, corr_mean, corr_m2 = np.zeros(N, dtype=np.int64), np.zeros((1, N)), np.zeros((1, N))
    active = np.ones(N, dtype=bool)
    if backend == "numba":
        from ..theory.muon import NS_COEFFICIENTS
        from ._muon_numba import MuonBlock, MuonConfig, MuonState, muon_block

        a, b, c = NS_COEFFICIENTS
        cfg = MuonConfig(
            np.ascontiguousarray(p["momentum"], dtype=np.float64),
            bool(opts["nesterov"]),
            int(opts["ns_steps"]),
            float(a),
            float(b),
            float(c),
            float(spec_module.NS_EPS),
            float(spec_module.lr_scale(rows, cols, opts["adjust_lr"])),
            float(problem.max_sq_norm),
            float(problem.min_sq_norm),
        )
        st: Any = MuonState(w, np.zeros_like(w), np.zeros_like(w), w.copy(), active)
    else:
        st = _State(w, active)
    idx = [Q_INDEX[q] for q in BLOCK_QUANTITIES]
    bar = make_progress(problem, f"simulate muon ({backend})")
    with np.errstate(all="ignore"):
        for t0 in range(0, problem.steps, block):
            nb = min(block, problem.steps - t0)
            ts = range(t0, t0 + nb)
            if problem.noise_draws is not None:
                xi = np.ascontiguousarray(problem.noise_draws[t0 : t0 + nb].reshape(nb, N, d), dtype=np.float64)
            else:
                xi = np.empty((nb, N, d))
                for j in range(N):
                    xi[:, j, :] = drawer.normal(streams, j, (nb, d))
            lr = np.stack([p["lr"] * problem.lr_schedule(t) for t in ts])
            wd = np.stack([p["weight_decay"] * problem.wd_schedule(t) for t in ts])
            L = np.stack([p["unit_grad_sq"] * problem.grad_schedule(t) for t in ts])
            factor = problem.rescale_factors(t0, t0 + nb)
            values = np.full((nb, len(idx), N), np.nan)
            corr = np.full((nb, N), np.nan)
            alive = np.zeros((nb, N), dtype=bool)
            before = st.active.copy()
            if backend == "numba":
                blk = MuonBlock(xi, *(np.ascontiguousarray(x, dtype=np.float64) for x in (lr, wd, L, factor)))
                muon_block(cfg, st, blk, values, corr, alive)
            else:
                numpy_block(
                    problem,
                    st,
                    SimpleNamespace(xi=xi, lr=lr, wd=wd, unit_grad_sq=L, factor=factor),
                    values,
                    corr,
                    alive,
                )
            for s, t in enumerate(ts):
                _flag(buf, before & ~alive[s], t)
                before = alive[s]
                full = np.full((NQ, N), np.nan)
                full[idx] = values[s]
                if problem.record == "series" and t % problem.record_every == 0:
                    rec[:, t // problem.record_every, alive[s]] = full[:, alive[s]]
                if t >= problem.summary_start:
                    welford_update(count, mean, m2, full, alive[s])
                    if t > 0:
                        welford_update(corr_count, corr_mean, corr_m2, corr[s][None], alive[s])
            bar.update(nb)
    bar.close()
    result = assemble(problem, buf, st.w.reshape(N, d), backend)
    G, n = problem.G, problem.trajectories
    diverged = result.diverged
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (corr_count > 0).reshape(G, n) & ~diverged
        result.extra["update_correlation_mean"] = np.where(ok, corr_mean[0].reshape(G, n), np.nan)
        var = corr_m2[0] / np.maximum(corr_count, 1)
        result.extra["update_correlation_var"] = np.where(ok, var.reshape(G, n), np.nan)
    return result
