"""Muon as in ``torch.optim.Muon`` (Nesterov momentum, Newton–Schulz orthogonalisation, decoupled weight decay).

B_t = βB_{t−1} + (1−β)G_t;  U_t = (1−β)G_t + βB_t (``nesterov=1``) or B_t (``nesterov=0``, heavy ball);
O_t = NS(U_t);  W_{t+1} = (1 − ηλ)W_t − η'O_t,
η' = η·√max(1, m/n) (``adjust_lr_fn`` None/"original", ``adjust_lr=0``) or η·0.2·√max(m, n)
("match_rms_adamw", ``adjust_lr=1``). ``ns_steps=0`` is the idealisation of the exact polar factor UVᵀ.
Predictions: :mod:`spheretheory.theory.muon`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..theory.muon import NS_COEFFICIENTS, NS_STEPS
from .base import HyperParameter, OptimizerSpec, TorchMapping, TorchMatch, as_float, no_equilibrium_where, relaxation
from .base import theory as _get

NS_EPS = 1e-7  # torch.optim.Muon's ε of the Frobenius normalisation
ADJUST_LR_FNS: tuple[str | None, ...] = ("original", "match_rms_adamw")  # adjust_lr = 0, 1 (None means "original")


def lr_scale(rows: Any, cols: Any, adjust_lr: Any = 0) -> np.ndarray:
    """η'/η of torch.optim.Muon for an m×n matrix: √max(1, m/n) ("original") or 0.2·√max(m, n)."""
    rows, cols, adjust_lr = (np.asarray(v, dtype=float) for v in (rows, cols, adjust_lr))
    return np.where(adjust_lr == 1, 0.2 * np.sqrt(np.maximum(rows, cols)), np.sqrt(np.maximum(1.0, rows / cols)))


def newton_schulz(u: np.ndarray, steps: int = NS_STEPS, coefficients=NS_COEFFICIENTS, eps: float = NS_EPS):
    """torch.optim.Muon's quintic Newton–Schulz orthogonalisation on the last two axes (float64, batched)."""
    a, b, c = coefficients
    wide = u.shape[-2] <= u.shape[-1]
    x = u if wide else np.swapaxes(u, -1, -2)
    x = x / np.maximum(np.linalg.norm(x, axis=(-2, -1), keepdims=True), eps)
    for _ in range(int(steps)):
        gram = x @ np.swapaxes(x, -1, -2)
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x if wide else np.swapaxes(x, -1, -2)


def polar(u: np.ndarray) -> np.ndarray:
    """Exact polar factor UVᵀ of u = UΣVᵀ (last two axes, batched): the idealised orthogonalisation."""
    left, _, right = np.linalg.svd(u, full_matrices=False)
    return left @ right


def orthogonalise(u: np.ndarray, ns_steps: int = NS_STEPS) -> np.ndarray:
    """Newton–Schulz with ``ns_steps`` iterations, or the exact polar factor when ``ns_steps`` = 0."""
    return polar(u) if int(ns_steps) == 0 else newton_schulz(u, ns_steps)


def step(w, grad, state, lr, weight_decay, momentum=0.95, nesterov=1, ns_steps=NS_STEPS, adjust_lr=0, **_shape):
    """One torch.optim.Muon step on matrices (last two axes); state ``{"buf": B_{t−1}}``.

    The returned state also holds the orthogonalised update O_t as ``"orth"`` (read by the simulator; ignored here).
    """
    buf = state.get("buf", np.zeros_like(grad))
    buf = buf + (1 - momentum) * (grad - buf)  # buf.lerp_(grad, 1 − β)
    u = grad + momentum * (buf - grad) if nesterov else buf  # grad.lerp(buf, β)
    scale = float(lr_scale(w.shape[-2], w.shape[-1], adjust_lr))
    o = orthogonalise(u, ns_steps)
    return w * (1 - lr * weight_decay) - lr * scale * o, {"buf": buf, "orth": o}


def muon_compute(lr, weight_decay, unit_grad_sq, dim, *, momentum, nesterov, ns_steps, adjust_lr, rows, cols):
    """Muon's equilibrium for a scale-invariant rows×cols matrix (derivations ``muon.*``).

    Independent of the gradient scale (``unit_grad_sq``): the update is orthogonalised. ``effective_lr`` is
    η'‖O‖/‖W*‖ = η' s √k / r*, the angle per step an uncorrelated update of Muon's power would make.
    """
    kap, s2 = _get("muon.orth_moments")(rows=rows, cols=cols, ns_steps=ns_steps)
    k = np.minimum(rows, cols).astype(float)
    scale = lr_scale(rows, cols, adjust_lr)
    wd = np.asarray(weight_decay, dtype=float)
    safe_wd = np.where(wd > 0, wd, 1.0)
    kw = dict(lr=lr, weight_decay=safe_wd, momentum=momentum, nesterov=nesterov)
    norm_kw = dict(**kw, rank=k, lr_scale=scale, orth_gain=kap, orth_sq_scale=s2)
    sq = _get("muon.equilibrium_sq_norm")(**norm_kw)
    sq1 = _get("muon.equilibrium_sq_norm_first_order")(**norm_kw)
    hyper_kw = {k: v for k, v in norm_kw.items() if k not in ("orth_gain", "nesterov")}
    sq_hyperball = _get("muon.equilibrium_sq_norm_hyperball")(**hyper_kw)
    r = np.sqrt(sq)
    out = {
        "angular_update": _get("muon.angular_update")(**kw, orth_gain=kap),
        "angular_update_first_order": _get("muon.angular_update_first_order")(**kw, orth_gain=kap),
        "angular_update_uncorrelated": np.sqrt(2 * lr * safe_wd),  # √(2ηλ): what φ = 0 would give, for contrast
        "equilibrium_sq_norm": sq,
        "equilibrium_norm": r,
        "equilibrium_norm_first_order": np.sqrt(sq1),
        "equilibrium_sq_norm_hyperball": sq_hyperball,  # Wen et al.'s form (update correlation β^k), for contrast
        "effective_lr": lr * scale * np.sqrt(s2 * k) / r,
        "relaxation_steps": relaxation((1 - lr * safe_wd) ** 2),
        "update_correlation": _get("muon.update_correlation")(momentum=momentum, nesterov=nesterov, orth_gain=kap),
        "momentum_correlation": _get("muon.momentum_correlation")(momentum=momentum, nesterov=nesterov),
        "orth_gain": kap,
        "orth_sq_scale": s2,
        "lr_scale": scale,
        "angular_update_hyperparameter_only": True,
        "norm_hyperparameter_only": True,
        "exact_available": True,
    }
    return no_equilibrium_where(out, wd == 0)


def _match(group: Mapping[str, Any], classes: Sequence[str]) -> TorchMatch | None:
    shapes = {tuple(p.shape) for p in group.get("params", ())}
    hyper = {
        "momentum": as_float(group.get("momentum", 0.95)),
        "nesterov": int(bool(group.get("nesterov", True))),
        "ns_steps": int(group.get("ns_steps", NS_STEPS)),
        "adjust_lr": 1 if group.get("adjust_lr_fn") == "match_rms_adamw" else 0,
    }
    if tuple(float(c) for c in group.get("ns_coefficients", NS_COEFFICIENTS)) != NS_COEFFICIENTS:
        return TorchMatch({}, "Muon with non-default Newton–Schulz coefficients is not covered by the predictions")
    if len(shapes) != 1:
        return TorchMatch({}, "a Muon param group with matrices of different shapes: predict per shape (rows, cols)")
    (shape,) = shapes
    return TorchMatch({**hyper, "rows": int(shape[0]), "cols": int(shape[1])})


SPEC = OptimizerSpec(
    name="muon",
    description="Muon (torch.optim.Muon): Nesterov or heavy-ball momentum, Newton–Schulz, decoupled decay",
    compute=muon_compute,
    hyperparameters={
        "momentum": HyperParameter(0.95, 0.0, 1.0, True, False, doc="Muon momentum β in [0, 1)"),
        "nesterov": HyperParameter(1, 0, 1, True, True, integer=True, doc="Nesterov momentum (1) or heavy ball (0)"),
        "ns_steps": HyperParameter(
            NS_STEPS, 0, 99, True, True, integer=True, doc="Newton–Schulz iterations (0: exact polar factor)"
        ),
        "adjust_lr": HyperParameter(
            0, 0, 1, True, True, integer=True, doc="adjust_lr_fn: 0 None/'original', 1 'match_rms_adamw'"
        ),
        "rows": HyperParameter(None, 1, None, integer=True, doc="rows m of the weight matrix"),
        "cols": HyperParameter(None, 1, None, integer=True, doc="columns n of the weight matrix"),
    },
    derivations=(
        "muon.momentum_correlation",
        "muon.update_correlation",
        "muon.equilibrium_sq_norm",
        "muon.equilibrium_sq_norm_first_order",
        "muon.angular_update",
        "muon.angular_update_first_order",
        "muon.orth_moments",
        "muon.equilibrium_sq_norm_hyperball",
    ),
    step=step,
    torch=TorchMapping(("Muon",), _match, "torch.optim.Muon (default Newton–Schulz coefficients)"),
    weight_decay_convention="decoupled",
    matrix=True,
    momentum_hint="",
)
