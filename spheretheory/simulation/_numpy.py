"""Plain numpy reference backend: the update rules written out, vectorized over trajectories.

This is the readable definition the fast backends are tested against (on injected noise, to round-off). The
weights and optimizer state are stored in ``problem.dtype``; every step is computed in float64 and rounded to
the storage dtype, as the numba kernel does.
"""

from __future__ import annotations

import numpy as np

from .._stats import angle_between, welford_update
from ._common import (
    NQ,
    Q_INDEX,
    assemble,
    decay_split,
    initial_weights,
    make_progress,
    new_buffers,
    noise_scale_vectors,
    per_trajectory,
    seed_sequences,
)
from ._spec import Problem
from .result import SimulationResult


def synthetic_unit_gradient(
    w: np.ndarray, xi: np.ndarray, unit_grad_sq: np.ndarray, scale: np.ndarray, drift: np.ndarray
) -> np.ndarray:
    """Unit gradient g̃ = P⊥(a + √(L/(d−1))·s⊙ξ) ⟂ w (rows of ``w``), where s = √spectrum and a = drift.

    With s = 1 and a = 0, E‖g̃‖² = L (d−1)/(d−1) = L exactly, since P⊥ξ has d−1 unit-variance components.
    The gradient itself is g = g̃/‖w‖ (Wan et al. Lemma 1: ∇L(kw) = ∇L(w)/k).
    """
    d = w.shape[-1]
    y = np.sqrt(unit_grad_sq / (d - 1))[:, None] * xi
    if scale.size:
        y = y * scale
    if drift.size:
        y = y + drift
    coef = np.sum(y * w, axis=1) / np.sum(w * w, axis=1)
    return y - coef[:, None] * w


def run(problem: Problem) -> SimulationResult:
    """Simulate ``problem`` with numpy (see :func:`spheretheory.simulate` for the update rules)."""
    p = per_trajectory(problem)
    N, d, dtype = problem.N, problem.dim, problem.dtype
    opt = problem.optimizer
    _, noise_ss = seed_sequences(problem)
    rng = np.random.default_rng(noise_ss)
    scale, drift = noise_scale_vectors(problem)

    w = initial_weights(problem).astype(dtype)
    w_start = w.astype(np.float64)
    v = np.zeros((N, d), dtype=dtype)  # momentum buffer (sgdm, nesterov), first moment m (adam, lion)
    s = np.zeros((N, d), dtype=dtype)  # second moment (adam)
    buf = new_buffers(problem)
    rec, count, mean, m2 = buf["rec"], buf["sum_count"], buf["sum_mean"], buf["sum_m2"]
    active = np.ones(N, dtype=bool)
    alpha = p["momentum"][:, None]
    b1, b2, eps = p["beta1"][:, None], p["beta2"][:, None], p["eps"][:, None]
    bar = make_progress(problem, f"simulate {opt} (numpy)")
    with np.errstate(all="ignore"):
        for t in range(problem.steps):
            lr = p["lr"] * problem.lr_schedule(t)
            wd_c, wd_d = decay_split(problem, p["weight_decay"] * problem.wd_schedule(t))
            L = p["unit_grad_sq"] * problem.grad_schedule(t)
            factor = problem.rescale_factors(t, t + 1)[0]
            if factor != 1.0:  # Wan et al. Sec. 4.2: divide w by k^(1/4) when the LR drops by k
                w = (w.astype(np.float64) * factor).astype(dtype)

            w64 = w.astype(np.float64)
            sq = np.sum(w64 * w64, axis=1)  # ‖w_t‖²
            bad = active & ~((sq <= problem.max_sq_norm) & (sq >= problem.min_sq_norm))
            _flag(buf, bad, t)
            active &= ~bad

            # gradient g_t = g̃_t/‖w_t‖, g̃_t ⟂ w_t
            if problem.model is not None:
                g = np.asarray(problem.model.grad(w64, rng), dtype=np.float64)
                g_unit = g * np.sqrt(sq)[:, None]
            else:
                if problem.noise_draws is not None:
                    xi = problem.noise_draws[t].reshape(N, d).astype(np.float64)
                else:
                    xi = rng.standard_normal((N, d))
                g_unit = synthetic_unit_gradient(w64, xi, L, scale, drift)
                g = g_unit / np.sqrt(sq)[:, None]
            unit_grad_sq = np.sum(g_unit * g_unit, axis=1)  # ‖g̃_t‖² = ‖g_t‖²‖w_t‖²

            # optimizer step: w_{t+1} = w_t − η λ_dec w_t − η·step_t
            v64 = v.astype(np.float64)
            h = np.sum(g * g, axis=1)  # h_t = ‖g_t‖² + 2α⟨v_{t−1}, g_t⟩ (Wan et al. Thm 2)
            elr = lr / sq  # effective learning rate η/‖w‖² (SGD family, Lion)
            gc = g + wd_c[:, None] * w64  # gradient with coupled L2 decay
            if opt == "sgd":
                step = gc
            elif opt == "sgdm":  # heavy ball: v_t = αv_{t−1} + g_t + λw_t
                h = h + 2 * p["momentum"] * np.sum(v64 * g, axis=1)
                v64 = _stored(alpha * v64 + gc, dtype)
                step = v64
            elif opt == "nesterov":  # PyTorch: v_t = αv_{t−1} + d_t; step = d_t + αv_t
                h = h + 2 * p["momentum"] * np.sum(v64 * g, axis=1)
                v64 = _stored(alpha * v64 + gc, dtype)
                step = gc + alpha * v64
            elif opt in ("adam", "adamw"):
                k = t + 1  # bias corrections count from 1
                s64 = s.astype(np.float64)
                v64 = _stored(b1 * v64 + (1 - b1) * gc, dtype)
                s64 = _stored(b2 * s64 + (1 - b2) * gc * gc, dtype)
                den = np.sqrt(s64 / (1 - b2**k)) + eps
                step = (v64 / (1 - b1**k)) / den
                s = s64.astype(dtype)
                # Roburin et al.: η_e = η/(r·ν), ν = ‖r·b‖/√d with b = √ŝ + ε
                elr = lr * np.sqrt(d) / (sq * np.sqrt(np.sum(den * den, axis=1)))
            elif opt == "lion":
                c = b1 * v64 + (1 - b1) * gc
                step = np.sign(c)
                v64 = b2 * v64 + (1 - b2) * gc
            else:  # pragma: no cover - validated before
                raise AssertionError(opt)
            v = v64.astype(dtype)
            w_new = (w64 - (lr * wd_d)[:, None] * w64 - lr[:, None] * step).astype(dtype)

            w_new64 = w_new.astype(np.float64)
            new_sq = np.sum(w_new64 * w_new64, axis=1)
            bad = active & ~((new_sq <= problem.max_sq_norm) & (new_sq >= problem.min_sq_norm))
            _flag(buf, bad, t)
            active &= ~bad

            values = np.empty((NQ, N))
            values[Q_INDEX["sq_norm"]] = sq
            values[Q_INDEX["angular_update"]] = angle_between(w64, w_new64)  # Δ_t = ∠(w_t, w_{t+1})
            values[Q_INDEX["unit_grad_sq"]] = unit_grad_sq
            values[Q_INDEX["h_tilde"]] = h * sq  # h̃_t = h_t‖w_t‖²
            values[Q_INDEX["cos_to_start"]] = np.sum(w_start * w64, axis=1) / np.sqrt(
                np.sum(w_start * w_start, axis=1) * sq
            )
            values[Q_INDEX["effective_lr"]] = elr
            if problem.record == "series" and t % problem.record_every == 0:
                rec[:, t // problem.record_every, active] = values[:, active]
            if t >= problem.summary_start:
                welford_update(count, mean, m2, values, active)

            w = np.where(active[:, None], w_new, w)
            bar.update(1)
    bar.close()
    return assemble(problem, buf, w, "numpy")


def _stored(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``x`` rounded to the storage dtype (the optimizer reads its state back as stored), as float64."""
    return x.astype(dtype).astype(np.float64)


def _flag(buf: dict[str, np.ndarray], bad: np.ndarray, t: int) -> None:
    buf["diverged"][bad] = True
    buf["div_step"][bad] = t
