"""AdamC (Defazio 2025, "Why gradients rapidly increase near the end of training"): AdamW whose weight decay on
normalised layers follows the learning-rate schedule, λ_t = λ·η_t/η_max.

At constant learning rate it is AdamW (same update, same equilibrium: :mod:`.adamw`'s compute). Under a schedule
the product η_tλ_t = λη_t²/η_max keeps the equilibrium angular update √(2η_tλ_t(1−β₁)/(1+β₁)) ∝ η_t, so the
steady-state ‖w‖² ∝ η_t/λ_t = η_max/λ stays put while the LR decays (the motivation of the paper). The
convention is data on the spec (``weight_decay_convention="decoupled_lr_ratio"``) and :func:`weight_decay_at`;
trajectory predictions under schedules live with the schedules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import adamw
from .base import OptimizerSpec, TorchMapping, TorchMatch


def weight_decay_at(lr: Any, lr_max: Any, weight_decay: Any) -> np.ndarray:
    """AdamC's weight decay at learning rate η_t: λ_t = λ·η_t/η_max (Defazio 2025, normalised layers)."""
    return np.asarray(weight_decay, dtype=float) * np.asarray(lr, dtype=float) / np.asarray(lr_max, dtype=float)


def step(w, grad, state, lr, weight_decay, beta1=0.9, beta2=0.999, eps=1e-8, lr_max=None):
    """One AdamC step: the AdamW step with λ_t = λ·η/η_max (``lr_max`` defaults to ``lr``: constant LR)."""
    lam = weight_decay_at(lr, lr if lr_max is None else lr_max, weight_decay)
    return adamw.step(w, grad, state, lr, lam, beta1=beta1, beta2=beta2, eps=eps)


def _match(group: Mapping[str, Any], classes: Sequence[str]) -> TorchMatch | None:
    reason = "AMSGrad is not covered by the predictions" if group.get("amsgrad", False) else ""
    return TorchMatch(adamw.adam_group(group), reason)


SPEC = OptimizerSpec(
    name="adamc",
    description="AdamC (Defazio 2025): AdamW with λ_t = λ·η_t/η_max; at constant LR identical to AdamW",
    compute=adamw.adamw_compute,
    hyperparameters=adamw.SPEC.hyperparameters,
    derivations=adamw.DERIVATIONS,
    step=step,
    torch=TorchMapping(("AdamC",), _match, "an optimizer class named AdamC (AdamW with λ_t ∝ η_t)"),
    weight_decay_convention="decoupled_lr_ratio",
    alias_of="adamw",
    momentum_hint=adamw.SPEC.momentum_hint,
)
