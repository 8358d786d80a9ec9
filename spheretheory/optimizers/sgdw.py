"""SGD with decoupled weight decay (no momentum): w ← (1 − ηλ)w − ηg — the same update as :mod:`.sgd`."""

from __future__ import annotations

from . import sgd
from .base import OptimizerSpec

SPEC = OptimizerSpec(
    name="sgdw",
    description="SGD with decoupled weight decay, no momentum (Loshchilov & Hutter 2019): identical to sgd",
    compute=sgd.SPEC.compute,
    derivations=sgd.SPEC.derivations,
    step=sgd.step,
    weight_decay_convention="decoupled",
    alias_of="sgd",
    lr_drop="sgd",
    momentum_hint=sgd.SPEC.momentum_hint,
)
