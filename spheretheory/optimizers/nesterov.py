"""SGD with Nesterov momentum and coupled weight decay, PyTorch convention (``torch.optim.SGD(nesterov=True)``).

d_t = g_t + λw_t;  v_t = αv_{t−1} + d_t;  w_{t+1} = w_t − η(d_t + αv_t).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .base import HyperParameter, OptimizerSpec, TorchMapping, TorchMatch, as_float
from .sgd import family_compute, family_derivations, sgd_group


def step(w: np.ndarray, grad: np.ndarray, state: dict, lr: float, weight_decay: float, momentum: float = 0.9):
    """One PyTorch Nesterov step (dampening 0): state ``{"v": v_{t−1}}`` (zeros when absent)."""
    d = grad + weight_decay * w
    v = momentum * state.get("v", np.zeros_like(w)) + d
    return w - lr * (d + momentum * v), {"v": v}


def _match(group: Mapping[str, Any], cls: Any) -> TorchMatch | None:
    if not group.get("nesterov", False):
        return None
    return TorchMatch({"momentum": as_float(group.get("momentum", 0.0))}, sgd_group(group))


SPEC = OptimizerSpec(
    name="nesterov",
    description="SGD with Nesterov momentum and coupled weight decay (PyTorch SGD(nesterov=True))",
    compute=family_compute("nesterov", with_momentum=True, paper_rate=False),
    hyperparameters={"momentum": HyperParameter(None, 0.0, 1.0, False, False, doc="Nesterov momentum α in (0, 1)")},
    derivations=(
        "nesterov.moment_recursion",
        "nesterov.equilibrium_state",
        "nesterov.jacobian",
        *family_derivations("nesterov", paper=False),
    ),
    step=step,
    torch=TorchMapping(("SGD",), _match, "torch.optim.SGD with nesterov=True"),
    lr_drop="nesterov",
)
