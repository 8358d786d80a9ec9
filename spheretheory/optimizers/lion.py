"""Lion (Chen et al. 2023), decoupled weight decay: c = β₁m + (1−β₁)g; w ← (1 − ηλ)w − η sign(c);
m ← β₂m + (1−β₂)g."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .base import OptimizerSpec, TorchMapping, TorchMatch, as_float, betas, no_equilibrium_where, relaxation
from .base import theory as _get


def lion_compute(lr, weight_decay, unit_grad_sq, dim, *, beta1=0.9, beta2=0.99) -> dict[str, Any]:
    """Lion (decoupled decay) equilibrium (derivations ``lion.*``; arcsine-law series).

    Independent of the gradient norm (sign update). ``angular_update_linearized`` is Kosson et al.'s
    √(π/2)·√(2ηλ)·√V (sign linearized); the first-order forms need ηλ ≪ 1 − β₂.
    """
    d = np.nan if dim is None else dim
    lr, wd, L, d = (np.asarray(a, dtype=float) for a in (lr, weight_decay, unit_grad_sq, d))
    b1, b2 = np.asarray(beta1, dtype=float), np.asarray(beta2, dtype=float)
    safe_wd = np.where(wd > 0, wd, 1.0)
    sq = _get("lion.equilibrium_sq_norm")(lr=lr, weight_decay=safe_wd, dim=d, beta1=b1, beta2=b2)
    first = _get("lion.angular_update_first_order")(lr=lr, weight_decay=safe_wd, beta1=b1, beta2=b2)
    r = np.sqrt(sq)
    rho = 1 - lr * safe_wd
    out = {
        "angular_update": _get("lion.angular_update")(lr=lr, weight_decay=safe_wd, beta1=b1, beta2=b2),
        "angular_update_first_order": first,
        "angular_update_linearized": _get("lion.angular_update_linearized")(
            lr=lr, weight_decay=safe_wd, beta1=b1, beta2=b2
        ),
        "equilibrium_sq_norm": sq,
        "equilibrium_norm": r,
        "equilibrium_norm_first_order": lr * np.sqrt(d) / first,
        "effective_lr": lr / sq,
        "relaxation_steps": relaxation(rho**2),
        "angular_update_hyperparameter_only": True,
        "norm_hyperparameter_only": True,
        "exact_available": True,
        "norm_needs_dim": dim is None,
    }
    return no_equilibrium_where(out, wd == 0)


def lion_parts(grad: np.ndarray, m: np.ndarray, beta1: float, beta2: float) -> tuple[np.ndarray, np.ndarray]:
    """Lion's update sign(c), c = β₁m + (1 − β₁)g, and the new momentum β₂m + (1 − β₂)g (the one Lion update of
    the package: the spec's step and :func:`spheretheory.adaptive.reference.lion_step`)."""
    c = beta1 * m + (1 - beta1) * grad
    return np.sign(c), beta2 * m + (1 - beta2) * grad


def step(w, grad, state, lr, weight_decay, beta1=0.9, beta2=0.99):
    """One Lion step (decoupled decay), state ``{"m": m}``."""
    update, m = lion_parts(grad, state.get("m", np.zeros_like(grad)), beta1, beta2)
    return w * (1 - lr * weight_decay) - lr * update, {"m": m}


def _match(group: Mapping[str, Any], classes: Sequence[str]) -> TorchMatch | None:
    if "betas" not in group:
        return None
    b1, b2 = (as_float(b) for b in group["betas"])
    return TorchMatch({"beta1": b1, "beta2": b2})


SPEC = OptimizerSpec(
    name="lion",
    description="Lion (decoupled weight decay): arcsine-law equilibrium",
    compute=lion_compute,
    hyperparameters=betas(0.99),
    derivations=(
        "lion.equilibrium_sq_norm",
        "lion.angular_update",
        "lion.angular_update_first_order",
        "lion.angular_update_linearized",
    ),
    step=step,
    torch=TorchMapping(("Lion",), _match, "any optimizer class named Lion with betas (e.g. lion-pytorch)"),
    weight_decay_convention="decoupled",
    momentum_hint=" (use beta1 for the Adam family and Lion)",
)
