"""Readable numpy reference steps of the adaptive optimizers, exposing their internal state (m, v, x).

These are references for step-by-step identities (effective learning rate, SGD ≡ AdamG, AdamS/AdamSRT), not a
simulator: :func:`spheretheory.simulate` is the fast path. Every function is pure (returns new arrays),
works on batches ``(..., d)`` of independent weight vectors (one scale-invariant group per vector), and
takes the gradient as an argument so that two optimizers can be driven by the same gradient oracle and the
same noise draws.

Each step also returns the generic-scheme pieces ``a`` and ``b`` of x ← x − η a ⊘ b (Roburin et al. 2020,
Sec. 2.2), so that :func:`spheretheory.adaptive.measure.decompose_step` can measure η_e and c.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .._validation import InputError, check_real
from ..optimizers import sgd
from ..optimizers.adamw import adam_parts
from ..optimizers.lion import lion_parts

__all__ = [
    "AdamState",
    "StepOut",
    "adam_init",
    "adam_step",
    "adamg_step",
    "lion_step",
    "sgd_step",
]


@dataclass(frozen=True)
class AdamState:
    """State of Adam / AdamW / AdamS / AdamSRT / Lion for a batch of groups.

    Attributes
    ----------
    x : ndarray, shape (..., d)
        Weights.
    m : ndarray, shape (..., d)
        First moment (momentum).
    v : ndarray, shape (..., d) or (..., 1)
        Second moment: per coordinate (Adam) or one scalar per group (AdamS, AdamSRT).
    t : int
        Number of steps taken.
    """

    x: np.ndarray
    m: np.ndarray
    v: np.ndarray
    t: int = 0


@dataclass(frozen=True)
class StepOut:
    """Result of one step: the new state and the generic-scheme pieces (x_new = decay·x − lr · a ⊘ b)."""

    state: AdamState
    a: np.ndarray
    b: np.ndarray
    decay: float


def adam_init(x0: np.ndarray, *, per_group: bool = False) -> AdamState:
    """Zero moments for weights ``x0`` (shape ``(..., d)``); ``per_group``: AdamS's scalar second moment."""
    x0 = np.asarray(x0, dtype=float)
    v_shape = (*x0.shape[:-1], 1) if per_group else x0.shape
    return AdamState(x=x0.copy(), m=np.zeros_like(x0), v=np.zeros(v_shape), t=0)


def _check_betas(beta1: float, beta2: float, eps: float, lr: float, weight_decay: float) -> None:
    check_real("beta1", beta1, low=0.0, high=1.0, high_inclusive=False)
    check_real("beta2", beta2, low=0.0, high=1.0, high_inclusive=False)
    check_real("eps", eps, low=0.0)
    check_real("lr", lr, low=0.0, low_inclusive=False)
    check_real("weight_decay", weight_decay, low=0.0)


def adam_step(
    state: AdamState,
    grad: np.ndarray,
    *,
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    decoupled: bool = True,
    variant: str = "adam",
    bias_correction: bool = True,
) -> StepOut:
    """One step of Adam (coupled L2), AdamW (decoupled decay), AdamS or AdamSRT.

    Implements (Kingma & Ba 2015; Loshchilov & Hutter 2019)::

        g ← grad + λ x                    (coupled L2 only, ``decoupled=False``)
        m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²
        x ← (1 − ηλ_dec) x − η m̂ ⊘ (√v̂ + ε),   m̂ = m/(1 − β₁^t), v̂ = v/(1 − β₂^t)

    ``variant="adams"``: v is one scalar per group, the mean over the group of g² (Roburin et al.'s AdamS).
    ``variant="adamsrt"``: AdamS plus, after the step, rescaling of v by ‖x‖²/‖x'‖² and transport of the
    momentum m ← (⟨x, x'⟩ m − ⟨m, x'⟩ x)/‖x'‖² (authors' code; brief Sec. 3) — which removes the radial part
    of m with respect to the new weights and keeps m and v in the scale of the new gradient.

    Parameters
    ----------
    state : AdamState
        Current state (``v`` of shape ``(..., 1)`` for AdamS/AdamSRT: use ``adam_init(x0, per_group=True)``).
    grad : ndarray
        Gradient ∇L(x) at ``state.x`` (without the L2 term).
    lr, beta1, beta2, eps, weight_decay : float
        Hyperparameters; betas in [0, 1), eps ≥ 0.
    decoupled : bool
        Decoupled weight decay (AdamW) or coupled L2 (Adam + L2).
    variant : {"adam", "adams", "adamsrt"}
    bias_correction : bool
        Use m̂, v̂ (default) or the raw moments.
    """
    _check_betas(beta1, beta2, eps, lr, weight_decay)
    if variant not in ("adam", "adams", "adamsrt"):
        raise InputError(f"variant must be one of adam, adams, adamsrt; got {variant!r}")
    x = state.x
    g = np.asarray(grad, dtype=float)
    if not decoupled:
        g = g + weight_decay * x
    sq = np.mean(g * g, axis=-1, keepdims=True) if variant != "adam" else g * g
    moments = {"m": state.m, "v": state.v, "t": state.t}
    a, b, new = adam_parts(g, moments, beta1, beta2, eps, sq=sq, bias_correction=bias_correction)
    m, v, t = new["m"], new["v"], new["t"]
    b = np.broadcast_to(b, x.shape)
    decay = 1.0 - lr * weight_decay if decoupled else 1.0
    x_new = decay * x - lr * a / b
    if variant == "adamsrt":
        r2 = np.sum(x * x, axis=-1, keepdims=True)
        r2_new = np.sum(x_new * x_new, axis=-1, keepdims=True)
        v = v * r2 / r2_new
        m = (np.sum(x * x_new, axis=-1, keepdims=True) * m - np.sum(m * x_new, axis=-1, keepdims=True) * x) / r2_new
    return StepOut(AdamState(x=x_new, m=m, v=v, t=t), a=a, b=np.array(b), decay=decay)


def lion_step(
    state: AdamState,
    grad: np.ndarray,
    *,
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.99,
    weight_decay: float = 0.0,
) -> StepOut:
    """One step of Lion (Chen et al. 2023) with decoupled weight decay.

    c = β₁ m + (1 − β₁) g;  x ← (1 − ηλ) x − η sign(c);  m ← β₂ m + (1 − β₂) g. ``state.v`` is unused.
    """
    _check_betas(beta1, beta2, 0.0, lr, weight_decay)
    a, m = lion_parts(np.asarray(grad, dtype=float), state.m, beta1, beta2)
    decay = 1.0 - lr * weight_decay
    x_new = decay * state.x - lr * a
    return StepOut(replace(state, x=x_new, m=m, t=state.t + 1), a=a, b=np.ones_like(a), decay=decay)


def sgd_step(x: np.ndarray, grad: np.ndarray, *, lr: float, weight_decay: float = 0.0) -> np.ndarray:
    """SGD with coupled L2 (Wan et al. eq. 7): x ← x − η(∇L(x) + λx) (the sgd spec's step)."""
    return sgd.step(x, np.asarray(grad, dtype=float), {}, lr, weight_decay)[0]


def adamg_step(
    u: np.ndarray,
    v: np.ndarray,
    unit_grad: np.ndarray,
    *,
    lr: float,
    beta: float,
    gamma: float | None = None,
    lagged: bool = True,
    exact_sgd: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One step of AdamG without momentum on the unit sphere (Cho & Lee 2017), one second moment per group.

    ``v_{k+1} = β v_k + γ ‖g_k‖² (+ E_k)``;  ``u_{k+1} = N(u_k − η' g_k/√v)`` with ``v = v_k``
    (``lagged``, the form SGD is equivalent to) or ``v_{k+1}``. ``gamma`` defaults to 1 − β (the EMA).
    ``exact_sgd`` adds the remainder E_k = γ²‖g_k‖⁴/(4 β v_k) of derivation ``adam.sgd_adamg.relative_error``;
    with it the scheme is SGD + L2 exactly, under the mapping of ``adam.sgd_adamg.*``.

    Parameters
    ----------
    u : ndarray (..., d)
        Unit vectors.
    v : ndarray (..., 1)
        Second moments (one per group).
    unit_grad : ndarray (..., d)
        Gradient on the sphere g_k = ∇L(u_k) (tangent to u_k).

    Returns
    -------
    (u_new, v_new, eta_e) : the new point, the new second moment, the effective step η'/√v used.
    """
    check_real("lr", lr, low=0.0, low_inclusive=False)
    check_real("beta", beta, low=0.0, high=1.0)
    gamma = 1.0 - beta if gamma is None else gamma
    g = np.asarray(unit_grad, dtype=float)
    gsq = np.sum(g * g, axis=-1, keepdims=True)
    v_new = beta * v + gamma * gsq
    if exact_sgd:
        v_new = v_new + gamma**2 * gsq**2 / (4 * beta * v)
    eta_e = lr / np.sqrt(v if lagged else v_new)
    y = u - eta_e * g
    return y / np.linalg.norm(y, axis=-1, keepdims=True), v_new, eta_e
