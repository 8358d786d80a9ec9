"""Rescaling of scale-invariant weights after a learning-rate drop (Wan et al. 2021, Sec. 4.2)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import torch

from ..._validation import check_real
from .families import as_float

__all__ = ["LRChangeRescaler", "rescale_on_lr_drop", "rescale_weights"]


def rescale_weights(params: Iterable[torch.Tensor], factor: float) -> None:
    """Multiply scale-invariant weights in place by ``factor`` > 0 (the network's function is unchanged).

    With ``factor = k^(−1/4)`` after dividing the learning rate by k, this is the rescaling of Wan et al.
    (2021), Sec. 4.2: the equilibrium norm scales as (η/λ)^(1/4) (Thms 1–2), so the new equilibrium is
    reached at once.
    """
    f = float(check_real("factor", factor, low=0.0, low_inclusive=False))
    with torch.no_grad():
        for p in params:
            p.mul_(f)


class LRChangeRescaler:
    """Rescale the scale-invariant params of a param group by ((η'/λ')/(η/λ))^(1/4) whenever (η, λ)
    changes."""

    def __init__(self, optimizer: torch.optim.Optimizer, params: Sequence[torch.Tensor]):
        ids = {id(p) for p in params}
        self.optimizer = optimizer
        self.members = [[p for p in pg["params"] if id(p) in ids] for pg in optimizer.param_groups]
        self.last = [self._ratio(pg) for pg in optimizer.param_groups]
        self.events: list[tuple[int, int, float]] = []  # (step, param group, factor)
        self.step = 0

    @staticmethod
    def _ratio(pg: dict) -> float:
        wd = as_float(pg.get("weight_decay", 0.0))
        return as_float(pg["lr"]) / wd if wd > 0 else math.nan

    def __call__(self, *_: Any) -> None:
        for i, pg in enumerate(self.optimizer.param_groups):
            r = self._ratio(pg)
            old = self.last[i]
            if math.isfinite(r) and math.isfinite(old) and r != old and self.members[i]:
                factor = (r / old) ** 0.25
                rescale_weights(self.members[i], factor)
                self.events.append((self.step, i, factor))
            self.last[i] = r
        self.step += 1


def rescale_on_lr_drop(optimizer: torch.optim.Optimizer, params: Iterable[torch.Tensor]) -> Any:
    """Register a step pre-hook that rescales ``params`` by ((η'/λ')/(η/λ))^(1/4) whenever a scheduler changes
    the learning rate η (or weight decay λ) of their param group — k^(−1/4) after a drop η → η/k (Wan et al.
    2021, Sec. 4.2, eq. of Thm 1/2: w* ∝ (η/λ)^(1/4)).

    Returns the hook handle (``.remove()`` to stop). Register it before :meth:`SphereMonitor.attach` (or use
    ``SphereMonitor.attach(..., rescale_on_lr_change=True)``) so that the monitor records the rescaled
    weights.
    """
    rescaler = LRChangeRescaler(optimizer, list(params))
    handle = optimizer.register_step_pre_hook(rescaler)
    handle.rescaler = rescaler  # type: ignore[attr-defined]
    return handle
