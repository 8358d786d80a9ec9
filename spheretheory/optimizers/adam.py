"""Adam with coupled L2 weight decay (PyTorch ``Adam``): the decay is added to the gradient, then normalised."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .adamw import adam_moments, decoupled
from .base import EPS, OptimizerSpec, TorchMapping, TorchMatch, betas, no_equilibrium_where, relaxation
from .base import theory as _get


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
        "relaxation_steps": relaxation(mu),
        "norm_exponent_in_unit_grad_norm": 1.0 / 3.0,
        "l2_to_grad_ratio": safe_wd * r**2 / np.sqrt(L),
        "eps_ratio": eps * r / sigma,
        "angular_update_hyperparameter_only": False,
        "norm_hyperparameter_only": False,
        "exact_available": False,
    }
    return no_equilibrium_where(out, wd == 0)


def step(w, grad, state, lr, weight_decay, beta1=0.9, beta2=0.999, eps=1e-8):
    """One PyTorch Adam step with coupled L2: g ← g + λw, then w ← w − η m̂/(√v̂ + ε)."""
    update, new = adam_moments(grad + weight_decay * w, state, beta1, beta2, eps)
    return w - lr * update, new


def _match(group: Mapping[str, Any], classes: Sequence[str]) -> TorchMatch | None:
    if decoupled(group, classes):
        return None
    return TorchMatch({}, "Adam with coupled L2 weight decay has no hyperparameter-only equilibrium (use AdamW)")


SPEC = OptimizerSpec(
    name="adam",
    description="Adam with coupled L2: no hyperparameter-only equilibrium; r* ∝ ‖g̃‖^(1/3)",
    compute=adam_compute,
    hyperparameters={**betas(0.999), **EPS},
    needs_dim=True,
    derivations=(
        "adam_l2.equilibrium_norm_first_order",
        "adam_l2.angular_update_first_order",
        "adam_l2.contraction",
        "adam_l2.contraction_lagged_v",
    ),
    step=step,
    torch=TorchMapping(("Adam",), _match, "torch.optim.Adam (coupled L2): mapped with a reason, not predicted"),
    momentum_hint=" (use beta1 for the Adam family and Lion)",
)
