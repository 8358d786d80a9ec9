"""AdamW (decoupled weight decay), PyTorch convention: w ← (1 − ηλ)w − η m̂/(√v̂ + ε)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .base import EPS, OptimizerSpec, TorchMapping, TorchMatch, as_float, betas, no_equilibrium_where, relaxation
from .base import theory as _get

GAUSSIAN_KURTOSIS = 3.0  # E g⁴/(E g²)² of Gaussian gradient noise, the noise model of the simulators


def _dim(dim: Any) -> Any:
    """d, or NaN when not given: the norm-dependent values are then NaN (Δ* does not need d)."""
    return np.nan if dim is None else dim


def adamw_compute(lr, weight_decay, unit_grad_sq, dim, *, beta1=0.9, beta2=0.999, eps=1e-8) -> dict[str, Any]:
    """AdamW (decoupled decay) equilibrium (derivations ``adamw.*``).

    Δ* (``adamw.angular_update``, finite ηλ, with the radial part of the momentum) and its first-order form
    √(2ηλ(1−β₁)/(1+β₁)) depend on the hyperparameters only. The norm: ``adamw.equilibrium_sq_norm`` (ε = 0,
    exact in the symmetric-noise model) gives r₀; with ε > 0 the balance r (1 + ε r/σ) = r₀ of
    ``adamw.equilibrium_norm_eps`` (there with the first-order r₀) gives r*, which depends on the gradient scale
    σ = √(unit_grad_sq/d). The first-order key is ``adamw.equilibrium_norm_eps`` itself.
    β₂ sets the relaxation time together with ηλ (``adamw.contraction_lagged_v``: the second moment lags the
    norm), and the norm through κ = E[g²/v]/(E g²/E v) = 1 − (1 − β₂)(K − 1)/2 (``adam.second_moment_kappa``,
    first order in 1 − β₂): the update's power is κ·d, so E‖x*‖² = κ·(the κ = 1 value), i.e. r₀ → √κ·r₀ above,
    and η_e = η/(σ r₀√κ). The gradient noise is taken Gaussian (kurtosis K = 3, as in the simulators), so
    κ = β₂; key ``second_moment_kappa``, checked for ηλ ≤ 1 − β₂ (``second_moment_kappa_in_range``: beyond it
    the norm relaxes faster than the second moment forgets, and at ηλ = 5(1 − β₂) the κ = 1 value fits better).
    Δ* is unchanged (norm and step scale alike). The ``*_first_order`` norm is first order in ηλ and in 1 − β₂
    (κ = 1).
    """
    lr, wd, L, d = (np.asarray(a, dtype=float) for a in (lr, weight_decay, unit_grad_sq, _dim(dim)))
    b1, eps = np.asarray(beta1, dtype=float), np.asarray(eps, dtype=float)
    b2 = np.asarray(beta2, dtype=float)
    # κ = E‖ĝ‖²/d for Gaussian gradient noise (kurtosis 3): the update power, hence E‖x*‖², scales by κ
    kappa = _get("adam.second_moment_kappa")(beta2=b2, kurtosis=GAUSSIAN_KURTOSIS)
    sq0 = kappa * _get("adamw.equilibrium_sq_norm")(lr=lr, weight_decay=wd, dim=d, beta1=b1)
    r_first = _get("adamw.equilibrium_norm_eps")(lr=lr, weight_decay=wd, dim=d, unit_grad_sq=L, eps=eps)
    sigma = np.sqrt(L / d)
    # ε: r (1 + ε r/σ) = r₀ (adamw.equilibrium_norm_eps), here with the finite-ηλ r₀ = √sq0 of ε = 0 (κ applied)
    r0 = np.sqrt(sq0)
    r = 2 * r0 / (1 + np.sqrt(1 + 4 * eps * r0 / sigma))
    sq = r**2
    mu = _get("adamw.contraction_lagged_v")(lr=lr, weight_decay=wd, beta2=b2, dim=d, unit_grad_sq=L, eps=eps)
    out = {
        "angular_update": _get("adamw.angular_update")(lr=lr, weight_decay=wd, beta1=b1),
        "angular_update_first_order": _get("adamw.angular_update_first_order")(lr=lr, weight_decay=wd, beta1=b1),
        "equilibrium_sq_norm": sq,
        "equilibrium_norm": r,
        "equilibrium_norm_first_order": r_first,
        # η/(r(σ + εr)) at r(1 + εr/σ) = r₀ (adamw.equilibrium_norm_eps) is η/(σ r₀): ε leaves it unchanged
        "effective_lr": lr / (sigma * np.sqrt(sq0)),
        "relaxation_steps": relaxation(mu),
        "eps_ratio": eps * r / sigma,
        # E‖ĝ‖²/d for Gaussian noise (adam.second_moment_kappa, K = 3): already applied to the norm keys above
        "second_moment_kappa": kappa,
        # κ averages g² over the second moment's memory 1/(1 − β₂) at a fixed norm: checked for ηλ ≤ 1 − β₂
        # (tests/test_adam_sim.py); at ηλ = 5(1 − β₂) the norm relaxes faster than v forgets and the κ = 1 value
        # fits better (claims wen2025.adamw_norm)
        "second_moment_kappa_in_range": lr * wd <= 1 - b2,
        "angular_update_hyperparameter_only": True,
        "norm_hyperparameter_only": bool(np.all(eps == 0)),
        "exact_available": True,
        "norm_needs_dim": dim is None,
    }
    return no_equilibrium_where(out, wd == 0)


def adam_parts(
    grad: np.ndarray,
    state: dict,
    beta1: float,
    beta2: float,
    eps: float,
    *,
    sq: np.ndarray | None = None,
    bias_correction: bool = True,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """The two halves of PyTorch Adam's update m̂ ⊘ (√v̂ + ε) and the new state (``m``, ``v``, ``t``):
    m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)·sq (sq = g² by default; AdamS feeds the group mean of g²),
    m̂ = m/(1 − β₁^t), v̂ = v/(1 − β₂^t) (t counted from 1; raw moments without ``bias_correction``). The one
    Adam moment update of the package (the specs' steps and :func:`spheretheory.adaptive.reference.adam_step`)."""
    sq = grad**2 if sq is None else sq
    t = state.get("t", 0) + 1
    m = beta1 * state.get("m", np.zeros_like(grad)) + (1 - beta1) * grad
    v = beta2 * state.get("v", np.zeros_like(sq)) + (1 - beta2) * sq
    c1, c2 = (1 - beta1**t, 1 - beta2**t) if bias_correction else (1.0, 1.0)
    return m / c1, np.sqrt(v / c2) + eps, {"m": m, "v": v, "t": t}


def adam_moments(grad: np.ndarray, state: dict, beta1: float, beta2: float, eps: float):
    """PyTorch Adam's bias-corrected update m̂/(√v̂ + ε) and the new state (``m``, ``v``, ``t``)."""
    num, den, new = adam_parts(grad, state, beta1, beta2, eps)
    return num / den, new


def step(w, grad, state, lr, weight_decay, beta1=0.9, beta2=0.999, eps=1e-8):
    """One PyTorch AdamW step: w ← (1 − ηλ)w − η m̂/(√v̂ + ε)."""
    update, new = adam_moments(grad, state, beta1, beta2, eps)
    return w * (1 - lr * weight_decay) - lr * update, new


def adam_group(group: Mapping[str, Any]) -> dict[str, float]:
    b1, b2 = (as_float(b) for b in group["betas"])
    return {"beta1": b1, "beta2": b2, "eps": as_float(group["eps"])}


def decoupled(group: Mapping[str, Any], classes: Sequence[str]) -> bool:
    return "AdamW" in classes or ("Adam" in classes and bool(group.get("decoupled_weight_decay", False)))


def _match(group: Mapping[str, Any], classes: Sequence[str]) -> TorchMatch | None:
    if not decoupled(group, classes):
        return None
    reason = "AMSGrad is not covered by the predictions" if group.get("amsgrad", False) else ""
    return TorchMatch(adam_group(group), reason)


DERIVATIONS = (
    "adamw.equilibrium_sq_norm",
    "adamw.equilibrium_sq_norm_first_order",
    "adamw.angular_update",
    "adamw.angular_update_first_order",
    "adamw.equilibrium_norm_eps",
    "adamw.contraction",
    "adamw.contraction_lagged_v",
    "adam.second_moment_kappa",
)

SPEC = OptimizerSpec(
    name="adamw",
    description="AdamW (decoupled weight decay): Δ* = √(2ηλ(1−β₁)/(1+β₁)) to first order",
    compute=adamw_compute,
    hyperparameters={**betas(0.999), **EPS},
    derivations=DERIVATIONS,
    step=step,
    torch=TorchMapping(("AdamW", "Adam"), _match, "torch.optim.AdamW, or Adam(decoupled_weight_decay=True)"),
    weight_decay_convention="decoupled",
    momentum_hint=" (use beta1 for the Adam family and Lion)",
)
