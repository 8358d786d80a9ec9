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

    Returns ``(family, extra_kwargs, reason)``: family is a spec of :mod:`spheretheory.optimizers` (``"sgd"``,
    ``"sgdm"``, ``"nesterov"``, ``"adamw"``, ``"adamc"``, ``"lion"``, ``"muon"``) or ``None`` when the update rule
    is one the predictions do not cover (``reason`` says why). Each spec's ``torch`` mapping decides.
    """
    from ...optimizers import from_torch

    return from_torch(optimizer, param_group)


def adam_like(optimizer: torch.optim.Optimizer) -> bool:
    """Whether ``optimizer`` keeps Adam's second moment ``exp_avg_sq`` (Adam, AdamW)."""
    return isinstance(optimizer, (torch.optim.Adam, torch.optim.AdamW))
