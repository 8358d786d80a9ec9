"""SGD with coupled weight decay (Wan et al. 2021, eq. 7): w_{t+1} = w_t − η(g_t + λw_t)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .base import OptimizerSpec, TorchMapping, TorchMatch, as_float, relaxation, theory

#: the derivations an SGD-family prefix provides (theory/sgd.py, sgdm.py, nesterov.py + theory/_family.py)
FAMILY_KEYS: tuple[str, ...] = (
    "equilibrium_sq_norm",
    "equilibrium_sq_norm_first_order",
    "angular_update",
    "angular_update_first_order",
    "effective_lr",
    "effective_lr_first_order",
    "relaxation_steps",
    "contraction",
)


def family_compute(prefix: str, with_momentum: bool, paper_rate: bool = True) -> Callable[..., dict[str, Any]]:
    """``compute`` of an SGD-family spec: every value is the numeric twin of ``{prefix}.{key}``."""

    def compute(lr, weight_decay, unit_grad_sq, dim=None, momentum=None):
        kw = {"lr": lr, "weight_decay": weight_decay}
        if with_momentum:
            kw["momentum"] = momentum

        def ev(key, **extra):
            return np.asarray(theory(f"{prefix}.{key}")(**kw, **extra), dtype=float)

        x = ev("equilibrium_sq_norm", unit_grad_sq=unit_grad_sq)
        x1 = ev("equilibrium_sq_norm_first_order", unit_grad_sq=unit_grad_sq)
        no_eq = weight_decay == 0  # no equilibrium without weight decay: the norm grows forever
        mu = ev("contraction")
        # oscillating decay (−1 < μ < 0, e.g. ηλ > 1/2 for SGD): the envelope |μ|^t e-folds in −1/ln|μ| steps
        relax = np.where(no_eq, np.inf, np.where(mu < 0, relaxation(np.abs(mu)), ev("relaxation_steps")))
        out = {
            "angular_update": ev("angular_update", unit_grad_sq=unit_grad_sq),
            "angular_update_first_order": ev("angular_update_first_order", unit_grad_sq=unit_grad_sq),
            "equilibrium_sq_norm": x,
            "equilibrium_sq_norm_first_order": x1,
            "equilibrium_norm": np.sqrt(x),
            "equilibrium_norm_first_order": np.sqrt(x1),
            "effective_lr": ev("effective_lr", unit_grad_sq=unit_grad_sq),
            "effective_lr_first_order": ev("effective_lr_first_order", unit_grad_sq=unit_grad_sq),
            "relaxation_steps": relax,
            "contraction": mu,
        }
        if paper_rate:
            out["contraction_paper"] = ev("contraction_paper")
        return out

    return compute


def family_derivations(prefix: str, paper: bool = True) -> tuple[str, ...]:
    extra = (
        ("contraction_paper", "lr_drop_steps_continuous", "lr_drop_paper_bound")
        if paper
        else ("lr_drop_steps_continuous",)
    )
    return tuple(f"{prefix}.{k}" for k in (*FAMILY_KEYS, *extra))


def step(w: np.ndarray, grad: np.ndarray, state: dict, lr: float, weight_decay: float) -> tuple[np.ndarray, dict]:
    """One SGD step (eq. 7) on the last axis: w − η(g + λw). No state."""
    return w - lr * (grad + weight_decay * w), state


def sgd_group(group: Mapping[str, Any]) -> str:
    """Why an SGD param group is outside the SGD family's predictions ('' when it is covered)."""
    if as_float(group.get("dampening", 0.0)) != 0.0:
        return "SGD with dampening != 0 is not covered by the predictions"
    if group.get("maximize", False):
        return "SGD with maximize=True is not covered by the predictions"
    return ""


def _match(group: Mapping[str, Any], cls: str) -> TorchMatch | None:
    if group.get("nesterov", False) or as_float(group.get("momentum", 0.0)) != 0.0:
        return None
    return TorchMatch({}, sgd_group(group))


SPEC = OptimizerSpec(
    name="sgd",
    description="SGD with coupled weight decay (Wan et al. 2021, eq. 7)",
    compute=family_compute("sgd", with_momentum=False),
    derivations=("sgd.norm_recursion", *family_derivations("sgd")),
    step=step,
    torch=TorchMapping(("SGD",), _match, "torch.optim.SGD with momentum=0"),
    lr_drop="sgd",
    momentum_hint=" (use optimizer='sgdm')",
)
