"""Claim of Li & Arora (2020), "An exponential learning rate schedule for deep learning": SGD + weight decay +
momentum on a scale-invariant loss is the same run, direction by direction, as weight-decay-free SGD + momentum with
η̃_t = η·r^{−2t−1} (theory brief Sec. 8; derivations ``li_arora.*``).

Measured on a scale-invariant toy with a direct numpy loop (the equivalence is an identity of the update rules for
*every* realisation, so it is checked per trajectory, not in the mean): the noisy Rayleigh quotient
L_t(w) = ½uᵀHu + σ⟨ξ_t, u⟩, u = w/‖w‖ (scale-invariant for every mini-batch draw ξ_t).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import InputError
from ._core import FAILS, HOLDS, Claim, Outcome, Param, compare, register

PAPER = "Li & Arora (2020), An exponential learning rate schedule for deep learning"


def _grad(w: np.ndarray, h: np.ndarray, xi: np.ndarray, sigma: float) -> np.ndarray:
    """∇_w of ½uᵀHu + σ⟨ξ, u⟩ at u = w/‖w‖: (I − uuᵀ)(Hu + σξ)/‖w‖ (rows are independent trajectories)."""
    n = np.linalg.norm(w, axis=1, keepdims=True)
    u = w / n
    gu = u * h + sigma * xi  # H diagonal
    return (gu - np.sum(gu * u, axis=1, keepdims=True) * u) / n


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle between the rows of a and b, 2·asin(‖â − b̂‖/2) (no cancellation at small angles)."""
    ua = a / np.linalg.norm(a, axis=1, keepdims=True)
    ub = b / np.linalg.norm(b, axis=1, keepdims=True)
    return 2.0 * np.arcsin(np.minimum(np.linalg.norm(ua - ub, axis=1) / 2.0, 1.0))


def runs(p: dict[str, Any], *, seed: int, root: float | None = None) -> dict[str, np.ndarray]:
    """Per-trajectory max angle over the run between the SGD+WD+momentum run and: the WD-free exponential-LR run
    (``equivalent``), the same WD run in position form (``rounding``: algebraically identical, so it differs by
    rounding only), the WD-free exponential-LR run started with a zero buffer (``zero_buffer``), and the WD-free
    run at constant η (``constant_lr``: what the schedule is claimed to replace).

    ``root`` replaces r (schedule η·r^(−2t−1) and buffer (r − 1)/(ηr)·w₀), for tests: the other root of the
    quadratic must also agree, a wrong r must not."""
    from ..theory import get

    lr, wd, gam, steps = p["lr"], p["weight_decay"], p["momentum"], p["steps"]
    if lr * wd > (1 - math.sqrt(gam)) ** 2:
        raise InputError(f"lr*weight_decay must be <= (1 - sqrt(momentum))^2 (real roots); got {lr * wd:g}")
    r = float(get("li_arora.growth_root")(lr=lr, weight_decay=wd, momentum=gam)) if root is None else float(root)
    if (2 * steps + 1) * -math.log(r) > 600:
        raise InputError(f"steps too large: η̃_t = η·r^(−2t−1) would overflow float64 (r = {r:.6g}, steps = {steps})")
    if root is None:
        lrs = get("li_arora.lr_schedule")(lr=lr, weight_decay=wd, momentum=gam, step=np.arange(steps, dtype=float))
        buf0 = float(get("li_arora.initial_buffer")(lr=lr, weight_decay=wd, momentum=gam))
    else:
        lrs, buf0 = lr * r ** (-2.0 * np.arange(steps) - 1), (r - 1) / (lr * r)
    rng = np.random.default_rng(seed)
    n, d, sigma = p["trajectories"], p["dim"], p["noise"]
    h = np.linspace(0.0, 1.0, d)  # eigenvalues of H
    w0 = rng.standard_normal((n, d))
    w, v = w0.copy(), np.zeros_like(w0)  # A: SGD+WD+momentum (PyTorch)
    x, x_prev = w0.copy(), w0.copy()  # C: A in position form, w_{−1} = w₀
    y, vy = w0.copy(), buf0 * w0  # B: WD-free, exponential LR, mapped buffer
    z, vz = w0.copy(), np.zeros_like(w0)  # D: B with a zero buffer
    c, vc = w0.copy(), np.zeros_like(w0)  # E: WD-free, constant LR
    worst = {k: np.zeros(n) for k in ("equivalent", "rounding", "zero_buffer", "constant_lr")}
    for t in range(steps):
        xi = rng.standard_normal((n, d))
        v = gam * v + _grad(w, h, xi, sigma) + wd * w
        w = w - lr * v
        x, x_prev = (1 + gam - lr * wd) * x - gam * x_prev - lr * _grad(x, h, xi, sigma), x
        vy = gam * vy + _grad(y, h, xi, sigma)
        y = y - lrs[t] * vy
        vz = gam * vz + _grad(z, h, xi, sigma)
        z = z - lrs[t] * vz
        vc = gam * vc + _grad(c, h, xi, sigma)
        c = c - lr * vc
        for k, other in (("equivalent", y), ("rounding", x), ("zero_buffer", z), ("constant_lr", c)):
            np.maximum(worst[k], _angle(w, other), out=worst[k])
    worst["final_norm_ratio"] = np.linalg.norm(y, axis=1) / np.linalg.norm(w, axis=1) * r**steps  # ‖w̃_T‖r^T/‖w_T‖
    return worst


def _equivalence(p: dict[str, Any], *, quick: bool, seed: int) -> Outcome:
    return outcome(p, runs(p, seed=seed))


def outcome(p: dict[str, Any], m: dict[str, np.ndarray]) -> Outcome:
    """The verdict from the angles of :func:`runs`."""
    angle = float(m["equivalent"].max())
    # the rounding scale: the same WD run computed in an algebraically identical form (position recursion); no
    # smaller angle is resolvable in float64 than its unit roundoff
    floor = max(float(m["rounding"].max()), float(np.finfo(float).eps))
    effect = float(m["constant_lr"].max())  # the angle the claim must be able to tell from 0
    verdict, _, tol = compare(0.0, angle, floor, effect=effect)
    zero = float(m["zero_buffer"].max())
    ratio = float(np.max(np.abs(m["final_norm_ratio"] - 1)))
    detail = (
        f"Max angle between SGD+WD+momentum and the WD-free run with η̃_t = η·r^(−2t−1) over {p['steps']} steps × "
        f"{p['trajectories']} trajectories (d = {p['dim']}): {angle:.2e} rad; the same WD run in position form "
        f"differs from itself by {floor:.2e} rad (rounding). For scale: WD-free at constant η ends "
        f"{effect:.3g} rad away; with a zero WD-free buffer (not the mapped −(1 − r)/(ηr)·w₀) {zero:.3g} rad. "
        f"‖w̃_T‖·r^T/‖w_T‖ − 1 ≤ {ratio:.1e}."
    )
    return Outcome(
        verdict,
        predicted=0.0,
        measured=angle,
        se=floor,
        tolerance=tol,
        deviation=angle / effect if effect > 0 else float("nan"),
        detail=detail,
        counterexample=None if verdict != FAILS else {**p, "max_angle": angle, "rounding": floor},
        numbers={
            "max_angle": angle,
            "rounding_angle": floor,
            "constant_lr_angle": effect,
            "zero_buffer_angle": zero,
            "zero_buffer_verdict": HOLDS if zero <= tol else FAILS,
            "norm_ratio_error": ratio,
        },
    )


register(
    Claim(
        id="liarora2020.exp_lr_equivalence",
        paper=PAPER,
        where="main theorem (number unconfirmed; brief Sec. 8)",
        statement="On a scale-invariant loss, SGD with weight decay λ, LR η and momentum γ (PyTorch buffer) equals "
        "WD-free SGD with momentum γ and η̃_t = η·r^(−2t−1), r the larger root of r² − (1 + γ − ηλ)r + γ = 0: "
        "w̃_t = r^(−t)·w_t, so the directions agree at every step.",
        quote="[no paper text on file in /work/shared/papers; the abstract (ICLR 2020, iclr.cc/virtual/2020/poster/"
        "1896) says 'a rigorous proof that it is equivalent to the standard setting of BN + SGD + Standard Rate "
        "Tuning + Weight Decay + Momentum'; the formula is the theory brief's (Sec. 8)]",
        domain={
            "lr": Param(0.1, 0.0, 1.0, False, True, doc="learning rate η of the WD run"),
            "weight_decay": Param(0.01, 0.0, 1.0, False, True, doc="weight decay λ (ηλ ≤ (1 − √γ)²)"),
            "momentum": Param(0.9, 0.0, 1.0, True, False, doc="momentum γ (PyTorch buffer, dampening 0)"),
            "steps": Param(3000, 10, 100_000, integer=True, quick=400, doc="iterations"),
            "trajectories": Param(16, 1, 10_000, integer=True, quick=4, doc="independent starts and noise draws"),
            "dim": Param(64, 2, 100_000, integer=True, quick=16, doc="dimension d of the weight"),
            "noise": Param(1.0, 0.0, 100.0, doc="σ, scale of the mini-batch term σ⟨ξ_t, u⟩"),
        },
        derivations=("li_arora.growth_root", "li_arora.lr_schedule", "li_arora.initial_buffer"),
        method="Direct numpy loop on the noisy Rayleigh quotient ½uᵀHu + σ⟨ξ_t, u⟩ (H = diag(linspace(0, 1, d))), "
        "the same ξ_t for every run: SGD+WD+momentum against WD-free momentum SGD with η̃_t (generated twin of "
        "li_arora.lr_schedule) and the initial buffer li_arora.initial_buffer·w₀; max angle over steps and "
        "trajectories.",
        tolerance="holds: max angle ≤ 4 × the rounding scale (the max angle between the WD run and the same run in "
        "its algebraically identical position form, at least the float64 unit roundoff); not checkable at this "
        "size when 8 × that scale exceeds the angle of the WD-free constant-LR run (nothing to resolve).",
        check=_equivalence,
    )
)
