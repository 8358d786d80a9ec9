"""Map a torch optimizer (and one of its param groups) to the optimizer family of :func:`spheretheory.predict`."""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["adam_like", "as_float", "optimizer_family"]


def as_float(x: Any) -> float:
    """A float from a Python number or a one-element tensor (optimizer hyperparameters may be either)."""
    return float(x.item()) if isinstance(x, torch.Tensor) else float(x)


def optimizer_family(optimizer: torch.optim.Optimizer, param_group: dict) -> tuple[str | None, dict, str]:
    """Map a torch optimizer and one of its param groups to the name used by :func:`spheretheory.predict`.

    Returns ``(family, extra_kwargs, reason)``: family is ``"sgd"``, ``"sgdm"``, ``"adamw"``, ``"lion"`` or
    ``None`` when the update rule is one the predictions do not cover (``reason`` says why).
    """
    name = type(optimizer).__name__
    if isinstance(optimizer, torch.optim.SGD):
        if param_group.get("nesterov", False):
            return None, {}, "SGD with Nesterov momentum is not covered by the predictions"
        if as_float(param_group.get("dampening", 0.0)) != 0.0:
            return None, {}, "SGD with dampening != 0 is not covered by the predictions"
        if param_group.get("maximize", False):
            return None, {}, "SGD with maximize=True is not covered by the predictions"
        mom = as_float(param_group.get("momentum", 0.0))
        return ("sgdm", {"momentum": mom}, "") if mom > 0 else ("sgd", {}, "")
    decoupled = isinstance(optimizer, torch.optim.AdamW) or (
        isinstance(optimizer, torch.optim.Adam) and param_group.get("decoupled_weight_decay", False)
    )
    if decoupled:
        if param_group.get("amsgrad", False):
            return None, {}, "AMSGrad is not covered by the predictions"
        b1, b2 = (as_float(b) for b in param_group["betas"])
        return "adamw", {"beta1": b1, "beta2": b2, "eps": as_float(param_group["eps"])}, ""
    if isinstance(optimizer, torch.optim.Adam):
        return (
            None,
            {},
            "Adam with coupled L2 weight decay has no hyperparameter-only equilibrium (use AdamW)",
        )
    if name.lower() == "lion" and "betas" in param_group:
        b1, b2 = (as_float(b) for b in param_group["betas"])
        return "lion", {"beta1": b1, "beta2": b2}, ""
    return None, {}, f"optimizer {name} is not covered by the predictions"


def adam_like(optimizer: torch.optim.Optimizer) -> bool:
    """Whether ``optimizer`` keeps Adam's second moment ``exp_avg_sq`` (Adam, AdamW)."""
    return isinstance(optimizer, (torch.optim.Adam, torch.optim.AdamW))
