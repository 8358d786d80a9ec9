"""Heavy-ball SGD with dampening τ, coupled weight decay: ``torch.optim.SGD(momentum=α, dampening=τ)``.

d_t = g_t + λw_t;  v_1 = d_1 (torch does not dampen the first step);  v_t = αv_{t−1} + (1 − τ)d_t;
w_{t+1} = w_t − ηv_t.

Every later buffer is v_t = (1 − τ)·v_t^SGDM + α^{t−1}τ d_1, so after the transient α^t this is exactly SGDM with the
learning rate η(1 − τ) (and the same λ): every prediction is :mod:`.sgdm`'s at η(1 − τ) — the effective LR and ηλ
products included. (No LR-drop prediction: ``lr_drop`` would iterate the recursion at η.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from . import sgdm
from .base import MOMENTUM_DOC, HyperParameter, OptimizerSpec, TorchMapping, TorchMatch, as_float
from .sgd import sgd_group


def step(w: np.ndarray, grad: np.ndarray, state: dict, lr: float, weight_decay: float, momentum=0.9, dampening=0.0):
    """One PyTorch SGD step with momentum and dampening: state ``{"v": v_{t−1}}`` (absent: the first step)."""
    d = grad + weight_decay * w
    v = d if "v" not in state else momentum * state["v"] + (1 - dampening) * d
    return w - lr * v, {"v": v}


def compute(lr, weight_decay, unit_grad_sq, dim=None, momentum=None, dampening=None):
    """SGDM's predictions at the learning rate η(1 − τ)."""
    return sgdm.SPEC.compute(lr * (1 - dampening), weight_decay, unit_grad_sq, dim, momentum=momentum)


def _match(group: Mapping[str, Any], cls: str) -> TorchMatch | None:
    mom, damp = as_float(group.get("momentum", 0.0)), as_float(group.get("dampening", 0.0))
    if group.get("nesterov", False) or mom == 0.0 or damp == 0.0:
        return None  # plain SGD/SGDM/Nesterov: another spec's
    return TorchMatch({"momentum": mom, "dampening": damp}, sgd_group({**group, "dampening": 0.0}))


SPEC = OptimizerSpec(
    name="sgdm_dampened",
    description="heavy-ball SGD with dampening τ (PyTorch SGD(momentum, dampening)): SGDM at the lr η(1 − τ)",
    compute=compute,
    hyperparameters={
        "momentum": HyperParameter(None, 0.0, 1.0, False, False, doc=f"heavy-ball {MOMENTUM_DOC}"),
        "dampening": HyperParameter(0.0, 0.0, 1.0, True, False, doc="dampening τ in [0, 1) (torch default 0)"),
    },
    derivations=sgdm.SPEC.derivations,
    step=step,
    torch=TorchMapping(("SGD",), _match, "torch.optim.SGD with momentum > 0, dampening > 0, nesterov=False"),
)
