"""Reference-step runs that the claims measure (Roburin et al. 2020; docs/adam.md).

* :func:`effective_lr_run` — AdamW (and AdamS/AdamSRT) from a small norm: the effective learning rate measured
  per step against the formula from the state and the prediction from the hyperparameters and the norm;
* :func:`sgd_adamg_pair` — SGD + L2 and the mapped AdamG on the same draws, with the derived bound on their gap.

Both run the numpy references of :mod:`.reference` (no simulation, no plotting). The figures drawn from them are
in ``paper_checks/adam.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .measure import decompose_step
from .oracle import gradient, noise_scale_for, unit_gradient
from .reference import adam_init, adam_step, adamg_step, sgd_step

__all__ = ["EffectiveLrRun", "effective_lr_from_norm", "effective_lr_run", "sgd_adamg_pair", "unit_rows"]


def unit_rows(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Independent uniform points on the unit sphere along the last axis of ``shape``."""
    x = rng.standard_normal(shape)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def effective_lr_from_norm(lr: float, norm: np.ndarray, sigma: float, eps: float) -> np.ndarray:
    """η_e = η/(r(σ + εr)) predicted from the hyperparameters and the current norm r: ``adam.effective_lr.adam``
    (Roburin et al. 2020, η/(r ν)) with every coordinate of the unit gradient at the same scale σ = √(L/d), so
    that E v = σ² and E √v = σ."""
    from ..theory import get

    return get("adam.effective_lr.adam")(lr=lr, norm=norm, unit_v_mean=sigma**2, unit_sqrt_v_mean=sigma, eps=eps)


@dataclass
class EffectiveLrRun:
    """Result of :func:`effective_lr_run`: scalar ``numbers`` (JSON-ready), per-step ``series`` and the run's
    ``params`` (its keyword arguments, plus ``sigma`` = √(L/d), the per-coordinate gradient scale).

    ``series`` holds arrays of shape (steps, batch): ``measured``, ``exact`` (formula from the state),
    ``predicted`` (from hyperparameters and the norm) and ``norm`` for AdamW, and ``adams_measured``,
    ``adams_predicted``, ``adamsrt_measured``, ``adamsrt_predicted`` for the group-second-moment variants.
    """

    numbers: dict[str, float]
    series: dict[str, np.ndarray] = field(default_factory=dict)
    params: dict[str, float] = field(default_factory=dict)


def effective_lr_run(
    *,
    dim: int = 128,
    batch: int = 16,
    steps: int = 6000,
    lr: float = 1e-2,
    weight_decay: float = 0.02,
    eps: float = 3e-2,
    unit_grad_sq: float = 1.0,
    init_norm: float = 0.5,
    seed: int = 0,
) -> EffectiveLrRun:
    """AdamW from a small norm: η_e measured per step vs (i) the exact formula from the state and (ii) the
    prediction from the hyperparameters and the current norm.

    (i) is ``adam.effective_lr.adam`` (Roburin et al. 2020, η_e = η/(r ν)); (ii) is η/(r(σ + εr)) with σ = √(L/d),
    the same formula with equal coordinates. As the norm grows past σ/ε the scaling turns from 1/r to 1/r² — the
    effect of ε. The same draws are rerun with AdamS (group second moment) and AdamSRT (group second moment
    rescaled by ‖x‖²/‖x'‖² at every step, so it does not lag the norm).

    Returns
    -------
    EffectiveLrRun
        ``numbers``: the maximal relative error of the state formula, the median and 95th-percentile relative
        errors of the hyperparameter prediction after a warm-up of ``steps // 10`` (for AdamW, AdamS, AdamSRT),
        the start/end norms, the crossover σ/ε, and the measured vs predicted equilibrium η_e and norm.
    """
    from ..prediction import predict
    from .measure import adam_effective_lr_formula

    rng = np.random.default_rng(seed)
    sig = noise_scale_for(unit_grad_sq, dim)
    sigma_c = math.sqrt(unit_grad_sq / dim)
    state = adam_init(init_norm * unit_rows(rng, (batch, dim)))
    meas, exact, pred, norms = [], [], [], []
    for _ in range(steps):
        g = gradient(state.x, rng.standard_normal((batch, dim)), sigma=sig)
        o = adam_step(state, g, lr=lr, beta1=0.9, beta2=0.999, eps=eps, weight_decay=weight_decay)
        dec = decompose_step(state.x, o.state.x, o.a, o.b, lr, o.decay)
        v_hat = o.state.v / (1 - 0.999**o.state.t)
        meas.append(dec.eta_e)
        exact.append(adam_effective_lr_formula(lr, dec.norm, v_hat, eps))
        pred.append(effective_lr_from_norm(lr, dec.norm, sigma_c, eps))
        norms.append(dec.norm)
        state = o.state
    meas, exact, pred, norms = (np.array(a) for a in (meas, exact, pred, norms))
    series = {"measured": meas, "exact": exact, "predicted": pred, "norm": norms}
    for variant in ("adams", "adamsrt"):
        rng = np.random.default_rng(seed)
        state = adam_init(init_norm * unit_rows(rng, (batch, dim)), per_group=True)
        m_v, p_v = [], []
        for _ in range(steps):
            g = gradient(state.x, rng.standard_normal((batch, dim)), sigma=sig)
            o = adam_step(state, g, lr=lr, beta1=0.9, beta2=0.999, eps=eps, weight_decay=weight_decay, variant=variant)
            dec = decompose_step(state.x, o.state.x, o.a, o.b, lr, o.decay)
            m_v.append(dec.eta_e)
            p_v.append(effective_lr_from_norm(lr, dec.norm, sigma_c, eps))
            state = o.state
        series[f"{variant}_measured"], series[f"{variant}_predicted"] = np.array(m_v), np.array(p_v)
    warm = steps // 10  # v̂ needs ~1/(1−β₂) steps to track the gradient scale

    def rel(variant: str) -> np.ndarray:
        prefix = "" if variant == "adamw" else f"{variant}_"
        return np.abs(series[f"{prefix}measured"][warm:] / series[f"{prefix}predicted"][warm:] - 1)

    eq = predict(
        "adamw", lr=lr, weight_decay=weight_decay, unit_grad_sq=unit_grad_sq, dim=dim, beta1=0.9, beta2=0.999, eps=eps
    )
    numbers = {
        "max_rel_err_state_formula": float(np.max(np.abs(meas / exact - 1))),
        "median_rel_err_hyperparameter_prediction": float(np.median(rel("adamw"))),
        "p95_rel_err_hyperparameter_prediction": float(np.quantile(rel("adamw"), 0.95)),
        "norm_start": float(norms[0].mean()),
        "norm_end": float(norms[-1].mean()),
        "crossover_norm_sigma_over_eps": sigma_c / eps,
        "adams_median_rel_err_hyperparameter_prediction": float(np.median(rel("adams"))),
        "adamsrt_median_rel_err_hyperparameter_prediction": float(np.median(rel("adamsrt"))),
        "adamsrt_p95_rel_err_hyperparameter_prediction": float(np.quantile(rel("adamsrt"), 0.95)),
        "eta_e_last_10pct_mean": float(meas[-steps // 10 :].mean()),
        "eta_e_equilibrium_predicted": float(eq.effective_lr),
        "norm_last_10pct_rms": float(np.sqrt(np.mean(norms[-steps // 10 :] ** 2))),
        "norm_equilibrium_predicted": float(eq.equilibrium_norm),
        "relaxation_steps_predicted": float(eq.relaxation_steps),
    }
    params = dict(dim=dim, batch=batch, steps=steps, lr=lr, weight_decay=weight_decay, eps=eps)
    params.update(unit_grad_sq=unit_grad_sq, init_norm=init_norm, seed=seed, sigma=sigma_c)
    return EffectiveLrRun(numbers, series, params)


def sgd_adamg_pair(
    lr: float,
    weight_decay: float,
    init_norm: float,
    steps: int,
    *,
    seed: int = 0,
    exact: bool = False,
    dim: int = 16,
    batch: int = 8,
    sigma: float = 0.1,
    h: float = 0.2,
) -> dict[str, np.ndarray]:
    """Run SGD + L2 from r0·u0 and the mapped AdamG from u0 on the same draws; return the gap and its bound.

    The bound (docs/adam.md, "SGD ≡ AdamG"), with e_k the chordal gap and δ_k ≥ |v^S_k − v^A_k|
    (v^S = C r⁴ the second moment SGD's norm carries)::

        δ_{k+1} ≤ β δ_k + (1−β)(‖g^S_k‖ + ‖g^A_k‖) L_k e_k + E_k
        |η^S_k − η^A_k| ≤ η' δ_k / (√v^S √v^A (√v^S + √v^A))
        e_{k+1} ≤ (1 + η^A_k L_k) e_k + |η^S_k − η^A_k| ‖g^S_k‖

    L_k = 8h + 2σ‖ξ_k‖ bounds the Lipschitz constant of u ↦ P_u(2Hu + σξ_k) on the sphere; the radial
    projection is 1-Lipschitz outside the unit ball (‖u − ηg‖ ≥ 1 as g ⟂ u).
    """
    from . import sgd_adamg_mapping

    rng = np.random.default_rng(seed)
    spectrum = np.linspace(0.0, h, dim)
    u0 = unit_rows(rng, (batch, dim))
    m = sgd_adamg_mapping(lr, weight_decay, init_norm)
    beta, gamma, lrp = m["beta"], m["gamma"], m["lr"]
    C = m["v0"] / init_norm**4
    x = init_norm * u0
    u, v = u0.copy(), np.full((batch, 1), m["v0"])
    delta = np.zeros(batch)
    bound = np.zeros(batch)
    rec: dict[str, list] = {"gap": [], "bound": [], "eta_s": [], "eta_a": [], "deta_bound": [], "path": []}
    path = np.zeros(batch)
    for _ in range(steps):
        xi = rng.standard_normal((batch, dim))
        r = np.linalg.norm(x, axis=-1, keepdims=True)
        gs = unit_gradient(x / r, xi, sigma=sigma, spectrum=spectrum)
        ga = unit_gradient(u, xi, sigma=sigma, spectrum=spectrum)
        vs = (C * r**4)[..., 0]
        eta_s = (lr / ((1 - lr * weight_decay) * r**2))[..., 0]
        x = sgd_step(x, gs / r, lr=lr, weight_decay=weight_decay)
        va = v[..., 0]
        u, v, eta_a = adamg_step(u, v, ga, lr=lrp, beta=beta, gamma=gamma, exact_sgd=exact)
        eta_a = eta_a[..., 0]
        ns, na = np.linalg.norm(gs, axis=-1), np.linalg.norm(ga, axis=-1)
        L = 8 * h + 2 * sigma * np.linalg.norm(xi, axis=-1)
        deta = lrp * delta / (np.sqrt(vs) * np.sqrt(va) * (np.sqrt(vs) + np.sqrt(va)))
        E = gamma**2 * ns**4 / (4 * beta * vs)
        with np.errstate(over="ignore", invalid="ignore"):  # the bound may become vacuous (inf) on long runs
            bound_next = (1 + eta_a * L) * bound + deta * ns
            delta = beta * delta + gamma * (ns + na) * L * bound + E
        bound = bound_next
        path = path + eta_a * na
        rec["eta_s"].append(eta_s)
        rec["eta_a"].append(eta_a)
        rec["deta_bound"].append(deta)
        rec["gap"].append(np.linalg.norm(x / np.linalg.norm(x, axis=-1, keepdims=True) - u, axis=-1))
        rec["bound"].append(bound.copy())
        rec["path"].append(path.copy())
    return {k: np.array(val) for k, val in rec.items()}
