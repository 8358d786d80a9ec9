"""Heavy-ball SGD with coupled weight decay, PyTorch convention (Wan et al. 2021, eq. 10–11).

d_t = g_t + λw_t;  v_t = αv_{t−1} + d_t;  w_{t+1} = w_t − ηv_t.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .base import MOMENTUM_DOC, HyperParameter, OptimizerSpec, TorchMapping, TorchMatch, as_float
from .sgd import family_compute, family_derivations, sgd_group

MOMENTUM = {"momentum": HyperParameter(0.0, 0.0, 1.0, True, False, doc=f"heavy-ball {MOMENTUM_DOC}")}


def step(w: np.ndarray, grad: np.ndarray, state: dict, lr: float, weight_decay: float, momentum: float = 0.0):
    """One PyTorch SGD step with momentum (dampening 0): state ``{"v": v_{t−1}}`` (zeros when absent)."""
    d = grad + weight_decay * w
    v = momentum * state.get("v", np.zeros_like(w)) + d
    return w - lr * v, {"v": v}


def _match(group: Mapping[str, Any], cls: str) -> TorchMatch | None:
    mom = as_float(group.get("momentum", 0.0))
    if group.get("nesterov", False) or mom == 0.0:
        return None
    return TorchMatch({"momentum": mom}, sgd_group(group))


SPEC = OptimizerSpec(
    name="sgdm",
    description="heavy-ball SGD with momentum and coupled weight decay (Wan et al. eq. 10-11 = PyTorch)",
    compute=family_compute("sgdm", with_momentum=True),
    hyperparameters=MOMENTUM,
    derivations=("sgdm.moment_recursion", "sgdm.equilibrium_state", *family_derivations("sgdm")),
    step=step,
    torch=TorchMapping(("SGD",), _match, "torch.optim.SGD with momentum > 0, nesterov=False"),
    lr_drop="sgdm",
)
