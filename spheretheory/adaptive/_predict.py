"""Equilibrium predictions for the Adam family: the ``adam``, ``adamw`` and ``lion`` entries of :mod:`predict`.

Every value comes from a registered derivation of :mod:`spheretheory.theory.adam` (generated numpy functions,
or the hand-written Lion series); nothing is typed in. Importing this module registers the three optimizers
with :func:`spheretheory.prediction.register_optimizer` (it is listed in ``prediction._OPTIMIZER_MODULES``).

Keys common to every optimizer (see :mod:`spheretheory.prediction`): ``angular_update``,
``angular_update_first_order``, ``equilibrium_sq_norm``, ``equilibrium_norm``, ``equilibrium_norm_first_order``,
``effective_lr`` (η/(rν) at r = r*, Roburin et al.'s definition), ``relaxation_steps``; plus
``angular_update_hyperparameter_only`` and ``norm_hyperparameter_only`` (whether Δ* / the norm follow from the
hyperparameters and d alone, without the gradient norm), ``exact_available`` (whether a finite-ηλ value exists
or the first-order one is repeated) and ``equilibrium_exists`` (False where λ = 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["adam_compute", "adamw_compute", "lion_compute", "register_all"]


def _get(name: str):
    from ..theory import get

    return get(name)


def _dim(dim: Any) -> Any:
    """d, or NaN when not given: the norm-dependent values are then NaN (Δ* does not need d)."""
    return np.nan if dim is None else dim


def _relaxation(mu: np.ndarray) -> np.ndarray:
    """Steps for a deviation to shrink by e: −1/ln μ (NaN unless 0 < μ < 1)."""
    mu = np.asarray(mu, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((mu > 0) & (mu < 1), -1.0 / np.log(np.where(mu > 0, mu, 1.0)), np.nan)


def adamw_compute(lr, weight_decay, unit_grad_sq, dim, *, beta1=0.9, beta2=0.999, eps=1e-8) -> dict[str, Any]:
    """AdamW (decoupled decay) equilibrium (derivations ``adamw.*``).

    Δ* (``adamw.angular_update``, finite ηλ, with the radial part of the momentum) and its first-order form
    √(2ηλ(1−β₁)/(1+β₁)) depend on the hyperparameters only. The norm: ``adamw.equilibrium_sq_norm`` (ε = 0,
    exact in the symmetric-noise model) gives r₀; with ε > 0 the balance r (1 + ε r/σ) = r₀ of
    ``adamw.equilibrium_norm_eps`` (there with the first-order r₀) gives r*, which depends on the gradient scale
    σ = √(unit_grad_sq/d). The first-order key is ``adamw.equilibrium_norm_eps`` itself.
    β₂ sets the relaxation time together with ηλ (``adamw.contraction_lagged_v``: the second moment lags the
    norm); in the equilibrium values it enters only through a correction of relative size ≈ (1 − β₂) for
    Gaussian noise (not included).
    """
    lr, wd, L, d = (np.asarray(a, dtype=float) for a in (lr, weight_decay, unit_grad_sq, _dim(dim)))
    b1, eps = np.asarray(beta1, dtype=float), np.asarray(eps, dtype=float)
    sq0 = _get("adamw.equilibrium_sq_norm")(lr=lr, weight_decay=wd, dim=d, beta1=b1)
    r_first = _get("adamw.equilibrium_norm_eps")(lr=lr, weight_decay=wd, dim=d, unit_grad_sq=L, eps=eps)
    sigma = np.sqrt(L / d)
    # ε: r (1 + ε r/σ) = r₀ (adamw.equilibrium_norm_eps), here with the finite-ηλ r₀ = √sq0 of ε = 0
    r0 = np.sqrt(sq0)
    r = 2 * r0 / (1 + np.sqrt(1 + 4 * eps * r0 / sigma))
    sq = r**2
    b2 = np.asarray(beta2, dtype=float)
    mu = _get("adamw.contraction_lagged_v")(lr=lr, weight_decay=wd, beta2=b2, dim=d, unit_grad_sq=L, eps=eps)
    out = {
        "angular_update": _get("adamw.angular_update")(lr=lr, weight_decay=wd, beta1=b1),
        "angular_update_first_order": _get("adamw.angular_update_first_order")(lr=lr, weight_decay=wd, beta1=b1),
        "equilibrium_sq_norm": sq,
        "equilibrium_norm": r,
        "equilibrium_norm_first_order": r_first,
        # η/(r(σ + εr)) at r(1 + εr/σ) = r₀ (adamw.equilibrium_norm_eps) is η/(σ r₀): ε leaves it unchanged
        "effective_lr": lr / (sigma * np.sqrt(sq0)),
        "relaxation_steps": _relaxation(mu),
        "eps_ratio": eps * r / sigma,
        # E‖ĝ‖²/d for Gaussian noise (adam.second_moment_kappa, K = 3): multiply equilibrium_sq_norm by it
        "kappa_gaussian": _get("adam.second_moment_kappa")(beta2=b2, kurtosis=3.0),
        "angular_update_hyperparameter_only": True,
        "norm_hyperparameter_only": bool(np.all(eps == 0)),
        "exact_available": True,
        "norm_needs_dim": dim is None,
    }
    return _no_equilibrium_where(out, wd == 0)


def lion_compute(lr, weight_decay, unit_grad_sq, dim, *, beta1=0.9, beta2=0.99) -> dict[str, Any]:
    """Lion (decoupled decay) equilibrium (derivations ``lion.*``; arcsine-law series).

    Independent of the gradient norm (sign update). ``angular_update_linearized`` is Kosson et al.'s
    √(π/2)·√(2ηλ)·√V (sign linearized); the first-order forms need ηλ ≪ 1 − β₂.
    """
    from ..theory.adam import lion_angular_update, lion_angular_update_first_order, lion_equilibrium_sq_norm

    lr, wd, L, d = (np.asarray(a, dtype=float) for a in (lr, weight_decay, unit_grad_sq, _dim(dim)))
    b1, b2 = np.asarray(beta1, dtype=float), np.asarray(beta2, dtype=float)
    safe_wd = np.where(wd > 0, wd, 1.0)
    sq = lion_equilibrium_sq_norm(lr, safe_wd, d, b1, b2)
    first = lion_angular_update_first_order(lr, safe_wd, b1, b2)
    r = np.sqrt(sq)
    rho = 1 - lr * safe_wd
    out = {
        "angular_update": lion_angular_update(lr, safe_wd, b1, b2),
        "angular_update_first_order": first,
        "angular_update_linearized": _get("lion.angular_update_linearized")(
            lr=lr, weight_decay=safe_wd, beta1=b1, beta2=b2
        ),
        "equilibrium_sq_norm": sq,
        "equilibrium_norm": r,
        "equilibrium_norm_first_order": lr * np.sqrt(d) / first,
        "effective_lr": lr / sq,
        "relaxation_steps": _relaxation(rho**2),
        "angular_update_hyperparameter_only": True,
        "norm_hyperparameter_only": True,
        "exact_available": True,
        "norm_needs_dim": dim is None,
    }
    return _no_equilibrium_where(out, wd == 0)


def adam_compute(lr, weight_decay, unit_grad_sq, dim, *, beta1=0.9, beta2=0.999, eps=1e-8) -> dict[str, Any]:
    """Adam with coupled L2 (derivations ``adam_l2.*``): no hyperparameter-only equilibrium.

    First order: r* = (η √d ‖g̃‖/(2λ))^{1/3} — it scales as ‖g̃‖^{1/3} — and Δ* = √(2ηλ_eff(1−β₁)/(1+β₁)) with
    λ_eff = λ r*/σ, σ = √(unit_grad_sq/d). Only first-order values are derived (``exact_available`` False: the
    finite-ηλ keys repeat them); the coupled decay also passes through the momentum, which changes the
    O(ηλ_eff/(1−β₁)) terms, so AdamW's finite-ηλ forms do not carry over. ``l2_to_grad_ratio`` = λ r*²/‖g̃‖
    and ``eps_ratio`` = ε r*/σ must be ≪ 1 for the derivation's assumptions (gradient-dominated second moment,
    negligible ε).
    """
    lr, wd, L, d = (np.asarray(a, dtype=float) for a in (lr, weight_decay, unit_grad_sq, dim))
    b1, eps = np.asarray(beta1, dtype=float), np.asarray(eps, dtype=float)
    safe_wd = np.where(wd > 0, wd, 1.0)
    r1 = _get("adam_l2.equilibrium_norm_first_order")(lr=lr, weight_decay=safe_wd, dim=d, unit_grad_sq=L)
    ang1 = _get("adam_l2.angular_update_first_order")(lr=lr, weight_decay=safe_wd, dim=d, unit_grad_sq=L, beta1=b1)
    sigma = np.sqrt(L / d)
    r, ang, lam_eff = r1, ang1, safe_wd * r1 / sigma
    b2 = np.asarray(beta2, dtype=float)
    mu = _get("adam_l2.contraction_lagged_v")(lr=lr, weight_decay=safe_wd, beta2=b2, dim=d, unit_grad_sq=L)
    out = {
        "angular_update": ang,
        "angular_update_first_order": ang,
        "equilibrium_sq_norm": r**2,
        "equilibrium_norm": r,
        "equilibrium_norm_first_order": r,
        "effective_weight_decay": lam_eff,
        "effective_lr": lr / (r * (sigma + eps * r)),
        "relaxation_steps": _relaxation(mu),
        "norm_exponent_in_unit_grad_norm": 1.0 / 3.0,
        "l2_to_grad_ratio": safe_wd * r**2 / np.sqrt(L),
        "eps_ratio": eps * r / sigma,
        "angular_update_hyperparameter_only": False,
        "norm_hyperparameter_only": False,
        "exact_available": False,
    }
    return _no_equilibrium_where(out, wd == 0)


def _no_equilibrium_where(out: dict[str, Any], mask: np.ndarray) -> dict[str, Any]:
    """λ = 0: no equilibrium — the norm grows forever. As for SGD in :func:`spheretheory.prediction.predict`:
    norm inf, Δ* = 0, η_e = 0, relaxation inf (ratios NaN); ``equilibrium_exists`` says where."""
    mask = np.asarray(mask)
    fill = {
        "angular_update": 0.0,
        "angular_update_first_order": 0.0,
        "angular_update_linearized": 0.0,
        "equilibrium_sq_norm": np.inf,
        "equilibrium_norm": np.inf,
        "equilibrium_norm_first_order": np.inf,
        "effective_lr": 0.0,
        "relaxation_steps": np.inf,
        "eps_ratio": np.nan,
        "l2_to_grad_ratio": np.nan,
    }
    for key, value_if_none in fill.items():
        if key in out:
            value, m = np.broadcast_arrays(np.asarray(out[key], dtype=float), mask)
            out[key] = np.where(m, value_if_none, value)
    out["equilibrium_exists"] = bool(not np.any(mask))
    return out


def register_all() -> None:
    """Register ``adam``, ``adamw`` and ``lion`` with :func:`spheretheory.prediction.register_optimizer`."""
    from ..prediction import HyperParameter, OptimizerSpec, register_optimizer

    def betas(b2_default: float) -> dict[str, Any]:
        return {
            "beta1": HyperParameter(0.9, 0.0, 1.0, True, False, "first-moment decay β₁ in [0, 1)"),
            "beta2": HyperParameter(b2_default, 0.0, 1.0, True, False, "second-moment decay β₂ in [0, 1)"),
        }

    eps_hp = {"eps": HyperParameter(1e-8, 0.0, None, True, False, "ε ≥ 0 added to √v̂")}
    register_optimizer(
        OptimizerSpec(
            name="adamw",
            description="AdamW (decoupled weight decay): Δ* = √(2ηλ(1−β₁)/(1+β₁)) to first order",
            hyperparameters={**betas(0.999), **eps_hp},
            compute=adamw_compute,
        )
    )
    register_optimizer(
        OptimizerSpec(
            name="adam",
            description="Adam with coupled L2: no hyperparameter-only equilibrium; r* ∝ ‖g̃‖^(1/3)",
            hyperparameters={**betas(0.999), **eps_hp},
            compute=adam_compute,
            needs_dim=True,
        )
    )
    register_optimizer(
        OptimizerSpec(
            name="lion",
            description="Lion (decoupled weight decay): arcsine-law equilibrium",
            hyperparameters=betas(0.99),
            compute=lion_compute,
        )
    )


register_all()
