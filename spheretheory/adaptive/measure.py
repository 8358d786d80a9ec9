"""Measure the effective learning rate η_e = η/(r ν) and the effective direction c of one step.

Roburin et al. (2020), Sec. 2.3: for x_{k+1} = δ x_k − η a_k ⊘ b_k (δ = 1 − ηλ for decoupled decay,
else 1)

    r_k = ‖x_k‖, u_k = x_k/r_k, ν_k = ‖r_k b_k‖/√d, d_k = r_k b_k/ν_k, c_k = r_k a_k ⊘ d_k,
    η_e,k = η/(r_k ν_k),   x_{k+1}/r_k = δ u_k − η_e,k c_k  (exact).

The image step is that of (η_e/δ, c): derivation ``adam.image_step_angle`` gives its exact angle and its
order-2 form.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._stats import angle_between


@dataclass(frozen=True)
class StepDecomposition:
    """Per-step effective quantities (arrays over the batch axes; vectors keep the last axis).

    Attributes
    ----------
    norm : r_k.    nu : ν_k.    eta_e : η_e,k = η/(r_k ν_k) (before dividing by the decay factor).
    c : effective direction c_k.    c_radial : ⟨c_k, u_k⟩.    c_tangential : ‖c_k⊥‖.
    eta_image : η_e,k/δ, the step of the image scheme on the sphere.
    identity_residual : max |x_{k+1}/r_k − (δ u_k − η_e c_k)| (0 up to rounding: the identity is exact).
    angle : measured angle between x_k and x_{k+1}.
    angle_order1 : η_image ‖c⊥‖;  angle_exact : atan2(η_image ‖c⊥‖, 1 − η_image c_r).
    """

    norm: np.ndarray
    nu: np.ndarray
    eta_e: np.ndarray
    c: np.ndarray
    c_radial: np.ndarray
    c_tangential: np.ndarray
    eta_image: np.ndarray
    identity_residual: float
    angle: np.ndarray
    angle_order1: np.ndarray
    angle_exact: np.ndarray


def decompose_step(
    x: np.ndarray, x_next: np.ndarray, a: np.ndarray, b: np.ndarray, lr: float, decay: float = 1.0
) -> StepDecomposition:
    """Decompose the step ``x → x_next = decay·x − lr·a ⊘ b`` into η_e, c (Roburin et al. 2020, Sec. 2.3)."""
    x = np.asarray(x, dtype=float)
    d = x.shape[-1]
    r = np.linalg.norm(x, axis=-1, keepdims=True)
    u = x / r
    rb = r * np.asarray(b, dtype=float)
    nu = np.linalg.norm(rb, axis=-1, keepdims=True) / np.sqrt(d)
    dk = rb / nu
    c = r * np.asarray(a, dtype=float) / dk
    eta_e = lr / (r * nu)
    residual = float(np.max(np.abs(x_next / r - (decay * u - eta_e * c))))
    cr = np.sum(c * u, axis=-1)
    ct = np.linalg.norm(c - cr[..., None] * u, axis=-1)
    eta_img = eta_e[..., 0] / decay
    return StepDecomposition(
        norm=r[..., 0],
        nu=nu[..., 0],
        eta_e=eta_e[..., 0],
        c=c,
        c_radial=cr,
        c_tangential=ct,
        eta_image=eta_img,
        identity_residual=residual,
        angle=angle_between(x, x_next),
        angle_order1=eta_img * ct,
        angle_exact=np.arctan2(eta_img * ct, 1 - eta_img * cr),
    )


def adam_effective_lr_formula(
    lr: float, norm: np.ndarray, v_hat: np.ndarray, eps: float, weight_decay: float = 0.0
) -> np.ndarray:
    """η_e from derivation ``adam.effective_lr.adam`` (``.adamw`` with ``weight_decay``), from the state's v̂.

    unit_v_mean = mean_i r² v̂_i and unit_sqrt_v_mean = mean_i r √v̂_i.
    """
    from ..theory import get

    r = np.asarray(norm, dtype=float)
    vh = np.asarray(v_hat, dtype=float)
    q2 = np.mean(vh, axis=-1) * r**2
    q1 = np.mean(np.sqrt(vh), axis=-1) * r
    if weight_decay:
        return get("adam.effective_lr.adamw")(
            lr=lr, weight_decay=weight_decay, norm=r, unit_v_mean=q2, unit_sqrt_v_mean=q1, eps=eps
        )
    return get("adam.effective_lr.adam")(lr=lr, norm=r, unit_v_mean=q2, unit_sqrt_v_mean=q1, eps=eps)
