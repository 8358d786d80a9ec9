"""Numeric side of :mod:`spheretheory.theory.finite_d` (numpy/scipy; no sympy): finite-width moments and quantiles.

Every closed-form ingredient is a generated twin of a registered derivation (``finite_d.sgdm_noise``,
``finite_d.sgdm_jacobian``, ``finite_d.sgdm_hessian``, ``finite_d.sgdm_tan_angle``, ``sgdm.equilibrium_state``);
this module only solves the linear-noise (O(1/(d−1))) equations of ``finite_d.sgdm_lna`` and takes the exact
conditional moments of the scaled non-central χ law of tan Δ. SGD is the case α = 0 of the same chain.

Public entry points: :func:`sgdm_summary` (all finite-d values at once), :func:`angular_update_quantiles`,
:func:`chi_mean_factor`, and :func:`finite_d_values` (the ``predict(..., dim=d)`` keys, by optimizer name).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import InputError

__all__ = [
    "FINITE_D_KEYS",
    "FINITE_D_OPTIMIZERS",
    "angular_update_quantiles",
    "chi_mean_factor",
    "finite_d_values",
    "sgdm_state_moments",
    "sgdm_summary",
]

#: optimizers with a derived finite-d law (heavy-ball SGDM; SGD is α = 0)
FINITE_D_OPTIMIZERS: tuple[str, ...] = ("sgd", "sgdm")
#: keys added by ``predict(..., dim=d)``
FINITE_D_KEYS: tuple[str, ...] = (
    "angular_update_mean",
    "angular_update_rms",
    "angular_update_std",
    "equilibrium_sq_norm_mean",
    "equilibrium_sq_norm_std",
    "equilibrium_sq_norm_autocorr_time",
)
#: Taylor terms of arctan kept (x, x³, …, x^{2·_TERMS−1}); the sum is cut at its smallest term (asymptotic series)
_TERMS = 10
#: step of the central second differences over the state, in units of the state's standard deviation
_STEP = 0.5
#: fixed-point iterations of the second-order covariance closure (converges geometrically; 30 is ample)
_CLOSURE_ITERATIONS = 30


#: ln Γ(x + ½) − ln Γ(x) = ½ ln x + Σ c_k x^{−k} for large x (asymptotic; x ≥ 20: error < 1e-16)
_HALF_RATIO_SERIES = ((1, -1.0 / 8.0), (3, 1.0 / 192.0), (5, -1.0 / 640.0), (7, 17.0 / 14336.0))


def _log_half_ratio(x: float) -> float:
    """ln Γ(x + ½) − ln Γ(x), x > 0, to a few ulp: the asymptotic series for x ≥ 20, an exact rational (times
    √π) where 2x is an integer, else :func:`math.lgamma`. A difference of two ln Γ values loses their absolute
    error (~1e-10 at x = 5e4), which the O(1/(d−1)) matching at d = 1e5 would amplify."""
    if x >= 20.0:
        return 0.5 * math.log(x) + sum(c * x ** (-k) for k, c in _HALF_RATIO_SERIES)
    if (2.0 * x).is_integer():
        from fractions import Fraction

        n = int(x)
        f = math.factorial
        if x == n:  # Γ(n + ½)/Γ(n) = (2n)!·√π / (4^n·n!·(n − 1)!)
            return math.log(float(Fraction(f(2 * n), 4**n * f(n) * f(n - 1)))) + 0.5 * math.log(math.pi)
        # x = n + ½: Γ(n + 1)/Γ(n + ½) = 4^n·(n!)² / ((2n)!·√π)
        return math.log(float(Fraction(4**n * f(n) ** 2, f(2 * n)))) - 0.5 * math.log(math.pi)
    return math.lgamma(x + 0.5) - math.lgamma(x)


def _log_gamma_ratio(x: Any, h: float) -> np.ndarray:
    """ln Γ(x + h) − ln Γ(x) element-wise for h a non-negative multiple of ½ (no scipy.special import: it costs
    0.2–0.35 s per process): the half step by :func:`_log_half_ratio`, the integer steps as ln Π (x + ½ + i)."""
    n = int(h)
    half = h - n == 0.5
    x = np.asarray(x, dtype=float)

    def one(v: float) -> float:
        start = v + 0.5 if half else v
        return (_log_half_ratio(v) if half else 0.0) + math.log(math.prod(start + i for i in range(n)))

    return np.array([one(v) for v in x.ravel().tolist()]).reshape(x.shape)


def chi_mean_factor(dim: Any) -> np.ndarray:
    """E[χ_{d−1}]/√(d−1) = √(2/(d−1))·Γ(d/2)/Γ((d−1)/2) (derivation ``finite_d.chi_mean_factor``).

    The ratio of the mean to the RMS of Δ for SGD at width ``dim`` (to O(ηλ/d)); computed through log-gamma.
    """
    d = np.asarray(dim, dtype=float)
    return np.exp(0.5 * np.log(2.0 / (d - 1.0)) + _log_gamma_ratio((d - 1.0) / 2.0, 0.5))


def _gen(name: str):
    from . import _generated
    from ._numeric import function_name

    return getattr(_generated, function_name(name))


def _arrays(lr, weight_decay, momentum, unit_grad_sq, dim) -> tuple[np.ndarray, ...]:
    return tuple(
        np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (lr, weight_decay, momentum, unit_grad_sq, dim)))
    )


def sgdm_state_moments(lr: Any, weight_decay: Any, momentum: Any, unit_grad_sq: Any, dim: Any) -> dict[str, Any]:
    """Stationary mean, covariance and autocorrelation of (‖w‖², ⟨w, v⟩, ‖v‖²) to O(1/(d−1)).

    Solves the equations of derivation ``finite_d.sgdm_lna``: Σ = JΣJᵀ + kkᵀVar(h | x*) (discrete Lyapunov,
    by vectorisation) and E x − x* = (I − J)⁻¹·½[tr(H_i Σ)]_i. ``momentum = 0`` is SGD.

    Returns
    -------
    dict
        ``fixed_point`` (3, ...) the mean-field x*; ``mean`` (3, ...); ``cov`` (..., 3, 3); ``jacobian``
        (..., 3, 3); ``sq_norm_autocorr_time`` — the integrated autocorrelation time of ‖w_t‖²,
        τ = (2[(I − J)⁻¹Σ]_aa − Σ_aa)/Σ_aa, so that a T-step time average has variance Var‖w‖²·τ/T.
    """
    lr, wd, al, L, d = _arrays(lr, weight_decay, momentum, unit_grad_sq, dim)
    xs = np.stack(
        np.broadcast_arrays(*_gen("sgdm.equilibrium_state")(lr=lr, weight_decay=wd, momentum=al, unit_grad_sq=L))
    )
    kw = {
        "sq_norm": xs[0],
        "w_dot_v": xs[1],
        "v_sq_norm": xs[2],
        "lr": lr,
        "weight_decay": wd,
        "momentum": al,
        "unit_grad_sq": L,
    }
    shape = lr.shape
    J = np.moveaxis(
        np.stack(np.broadcast_arrays(*_gen("finite_d.sgdm_jacobian")(**kw))).reshape((3, 3, *shape)), (0, 1), (-2, -1)
    )
    H = np.moveaxis(
        np.stack(np.broadcast_arrays(*_gen("finite_d.sgdm_hessian")(**kw))).reshape((3, 3, 3, *shape)),
        (0, 1, 2),
        (-3, -2, -1),
    )
    noise = np.broadcast_arrays(*_gen("finite_d.sgdm_noise")(**kw, dim=d))
    k = np.moveaxis(np.stack(noise[:3]), 0, -1)
    Q = k[..., :, None] * k[..., None, :] * noise[3][..., None, None]
    M = np.einsum("...ij,...kl->...ikjl", J, J).reshape((*shape, 9, 9))
    sig = np.linalg.solve(np.eye(9) - M, Q.reshape((*shape, 9, 1)))[..., 0].reshape((*shape, 3, 3))
    sig = 0.5 * (sig + np.swapaxes(sig, -1, -2))
    half_tr = 0.5 * np.einsum("...ijk,...jk->...i", H, sig)
    eye = np.broadcast_to(np.eye(3), (*shape, 3, 3))
    shift = np.linalg.solve(eye - J, half_tr[..., None])[..., 0]
    mean = xs + np.moveaxis(shift, -1, 0)
    summed = np.linalg.solve(eye - J, sig)  # Σ_k J^k Σ
    var_a = sig[..., 0, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = (2.0 * summed[..., 0, 0] - var_a) / var_a
    # second-order Gaussian closure for the covariance: the noise variance averaged over the state (E V(x) instead
    # of V(x*)) and the variance of the quadratic drift ½δᵀH_iδ (½tr(H_iΣH_jΣ)) as an extra source, iterated to a
    # fixed point. Third cumulants (also O((d−1)⁻²)) are neglected; used for sd ‖w‖² only.
    sig2 = sig
    kk = k[..., :, None] * k[..., None, :]
    diverged = np.zeros(shape, dtype=bool)
    for _ in range(_CLOSURE_ITERATIONS):

        def var_h(state, sig2=sig2):
            return (
                np.broadcast_arrays(
                    *_gen("finite_d.sgdm_noise")(
                        **{**kw, "sq_norm": state[0], "w_dot_v": state[1], "v_sq_norm": state[2]}, dim=d
                    )
                )[3],
            )

        ev = _average_over_state(var_h, {"mean": xs, "cov": sig2}, dims=3)[0]
        q2 = 0.5 * np.einsum("...iab,...bc,...jcd,...da->...ij", H, sig2, H, sig2)
        rhs = kk * ev[..., None, None] + q2
        sig2 = np.linalg.solve(np.eye(9) - M, rhs.reshape((*shape, 9, 1)))[..., 0].reshape((*shape, 3, 3))
        sig2 = 0.5 * (sig2 + np.swapaxes(sig2, -1, -2))
        # far outside the stated range (ηλ > (1 − √α)²) the closure can run away: no value there (n/a, not a guess)
        runaway = ~np.all(np.isfinite(sig2), axis=(-1, -2)) | (sig2[..., 0, 0] > 4.0 * sig[..., 0, 0])
        sig2 = np.where(runaway[..., None, None], sig, sig2)
        diverged |= runaway
    sig2 = np.where(diverged[..., None, None], np.nan, sig2)
    return {
        "fixed_point": xs,
        "mean": mean,
        "cov": sig,
        "cov_second_order": sig2,
        "jacobian": J,
        "sq_norm_autocorr_time": tau,
    }


def _chi_moment(m: float, k: np.ndarray) -> np.ndarray:
    """E[χ_k^m] = 2^{m/2}Γ((k+m)/2)/Γ(k/2) (exact, through log-gamma)."""
    return np.exp(0.5 * m * np.log(2.0) + _log_gamma_ratio(k / 2.0, m / 2.0))


def _atan_coefficients() -> tuple[np.ndarray, np.ndarray]:
    """Taylor coefficients of arctan(x) (odd powers 1, 3, …) and arctan(x)² (even powers 2, 4, …)."""
    n = 2 * _TERMS + 2
    c = np.zeros(n + 1)
    for j in range(_TERMS + 1):
        if 2 * j + 1 <= n:
            c[2 * j + 1] = (-1) ** j / (2 * j + 1)
    sq = np.convolve(c, c)[: n + 1]
    return c[1 : 2 * _TERMS : 2], sq[2 : 2 * _TERMS + 1 : 2]


def _series_sum(terms: np.ndarray) -> np.ndarray:
    """Sum an asymptotic series along axis 0, cut at (and including) its smallest term, element-wise."""
    stop = np.argmin(np.abs(terms), axis=0)
    idx = np.arange(terms.shape[0]).reshape((-1,) + (1,) * (terms.ndim - 1))
    return np.sum(np.where(idx <= stop, terms, 0.0), axis=0)


def _conditional_angle_moments(state: np.ndarray, lr, wd, al, L, d) -> tuple[np.ndarray, np.ndarray]:
    """E[Δ | a, b] and E[Δ² | a, b]: tan Δ = K_c·χ_{d−1}, the tangential velocity taken as an isotropic Gaussian.

    Given the full state, tan Δ = K√Z with Z ~ χ′²_{d−1}(μ²) (``finite_d.sgdm_tan_angle``). The tangential
    momentum p is a sum of past isotropic Gaussian gradients; while the tangent plane turns little over the
    momentum memory (ηλ ≪ (1 − √α)²) it is itself an isotropic Gaussian vector, and αp + g_t ~ N(0, σ²I_{d−1}):
    Z is then a central χ²_{d−1} with the same mean, tan Δ = K_c·χ_{d−1}, K_c = K·√(1 + μ²/(d−1)) with μ² at the
    mean ‖v‖². This is exact as ηλ/(1 − √α)² → 0 at every d (a Taylor expansion in ‖p‖², which has O(1) relative
    spread at small d, is not). The moments E[χ^m] = 2^{m/2}Γ((d−1+m)/2)/Γ((d−1)/2) are exact; the arctan series
    is cut at its smallest term (relative error ~ Δ^{2·_TERMS}).
    """
    K, mu2 = np.broadcast_arrays(
        *_gen("finite_d.sgdm_tan_angle")(
            sq_norm=state[0],
            w_dot_v=state[1],
            v_sq_norm=state[2],
            lr=lr,
            weight_decay=wd,
            momentum=al,
            unit_grad_sq=L,
            dim=d,
        )
    )
    mu2 = np.maximum(np.nan_to_num(mu2, nan=0.0), 0.0)
    k = d - 1.0
    Kc = K * np.sqrt(1.0 + mu2 / k)
    c1, c2 = _atan_coefficients()
    odd = np.stack([c1[j] * Kc ** (2 * j + 1) * _chi_moment(2 * j + 1, k) for j in range(len(c1))])
    even = np.stack([c2[j] * Kc ** (2 * j + 2) * _chi_moment(2 * j + 2, k) for j in range(len(c2))])
    return _series_sum(odd), _series_sum(even)


def _conditional_second_moment(state: np.ndarray, lr, wd, al, L, d) -> np.ndarray:
    """E[Δ² | x] from the exact conditional law tan Δ = K√Z, Z ~ χ′²_{d−1}(μ²) (``finite_d.sgdm_tan_angle``).

    arctan² is a series in tan² Δ = K²Z, and the integer moments E[Z^j] of the non-central χ² are polynomials in μ²
    (:func:`_ncx2_moment`): a smooth function of the state, so averaging it over the Gaussian state is exact to
    O(1/(d−1)) without any closure.
    """
    K, mu2 = np.broadcast_arrays(
        *_gen("finite_d.sgdm_tan_angle")(
            sq_norm=state[0],
            w_dot_v=state[1],
            v_sq_norm=state[2],
            lr=lr,
            weight_decay=wd,
            momentum=al,
            unit_grad_sq=L,
            dim=d,
        )
    )
    mu2 = np.maximum(np.nan_to_num(mu2, nan=0.0), 0.0)
    _, c2 = _atan_coefficients()
    even = np.stack([c2[j] * K ** (2 * j + 2) * _ncx2_moment(j + 1, d - 1.0, mu2) for j in range(len(c2))])
    return _series_sum(even)


def _ncx2_moment(j: int, k: np.ndarray, mu2: np.ndarray) -> np.ndarray:
    """E[Z^j] for Z ~ χ′²_k(μ²), integer j (a polynomial in μ²), exactly.

    From the cumulants κ_r = 2^{r−1}(r−1)!(k + rμ²) by the moment recursion m_n = Σ_{i<n} C(n−1, i)·κ_{n−i}·m_i.
    """
    from math import comb, factorial

    kappa = [None] + [2.0 ** (r - 1) * factorial(r - 1) * (k + r * mu2) for r in range(1, j + 1)]
    m = [np.ones_like(mu2)]
    for n in range(1, j + 1):
        m.append(sum(comb(n - 1, i) * kappa[n - i] * m[i] for i in range(n)))
    return m[j]


def _angle_moments(lr, wd, al, L, d, mom) -> tuple[np.ndarray, np.ndarray]:
    """(E Δ before the O(1/(d−1)) matching, E Δ²).

    Scale: E Δ² from its exact conditional law (even powers of tan Δ are polynomials in the state), averaged over
    the full Gaussian state — exact to O(1/(d−1)) with no closure. Shape: the ratio E Δ/√E Δ² from the
    Gaussian-velocity closure (exact as ηλ/(1 − √α)² → 0 at every d).
    """

    def shape(state):
        return _conditional_angle_moments(state, lr, wd, al, L, d)

    def second(state):
        return (_conditional_second_moment(state, lr, wd, al, L, d),)

    (m2,) = _average_over_state(second, mom, dims=3)
    c1, c2 = _average_over_state(shape, mom, dims=2)
    return np.sqrt(m2) * c1 / np.sqrt(c2), m2


#: width at which the closure's O(1/(d−1)) error is read off (large enough that O((d−1)⁻²) terms are ~1e-10)
_MATCH_DIM = 1.0e5


def _closure_correction(lr, wd, al, L) -> np.ndarray:
    """c such that E Δ = (value of :func:`_angle_moments`)·(1 + c/(d−1)) is exact to O(1/(d−1)) (matching).

    The closure is exact as ηλ/(1 − √α)² → 0 at every d, but carries an O(ηλ/(d−1)) error at finite ηλ. The exact
    O(1/(d−1)) mean needs no closure at large d: there E[√Z | x] = √M(1 − V/(8M²) + O(d⁻²)) with M = d − 1 + μ²,
    V = 2(d − 1 + 2μ²) the mean and variance of the non-central χ², a smooth function of the state averaged over
    the full Gaussian state. c = (d′ − 1)·(exact/closure − 1) at d′ = _MATCH_DIM.
    """
    dd = np.full_like(np.asarray(lr, dtype=float), _MATCH_DIM)
    mom = sgdm_state_moments(lr, wd, al, L, dd)
    c1, _ = _atan_coefficients()

    def exact_mean(state):
        K, mu2 = _tan_law(state, lr, wd, al, L, dd)
        M = dd - 1.0 + mu2
        V = 2.0 * (dd - 1.0 + 2.0 * mu2)
        terms = []
        for j in range(len(c1)):
            p_ = (2 * j + 1) / 2.0  # E[Z^p] ≈ M^p (1 + p(p−1)V/(2M²))
            terms.append(c1[j] * K ** (2 * j + 1) * M**p_ * (1.0 + p_ * (p_ - 1.0) * V / (2.0 * M * M)))
        return (_series_sum(np.stack(terms)),)

    exact = _average_over_state(exact_mean, mom, dims=3)[0]
    closure = _angle_moments(lr, wd, al, L, dd, mom)[0]
    return (_MATCH_DIM - 1.0) * (exact / closure - 1.0)


def _tan_law(state, lr, wd, al, L, d) -> tuple[np.ndarray, np.ndarray]:
    """(K, μ²) of tan Δ = K√Z, Z ~ χ′²_{d−1}(μ²) at ``state`` (generated twin of ``finite_d.sgdm_tan_angle``)."""
    K, mu2 = np.broadcast_arrays(
        *_gen("finite_d.sgdm_tan_angle")(
            sq_norm=state[0],
            w_dot_v=state[1],
            v_sq_norm=state[2],
            lr=lr,
            weight_decay=wd,
            momentum=al,
            unit_grad_sq=L,
            dim=d,
        )
    )
    return K, np.maximum(np.nan_to_num(mu2, nan=0.0), 0.0)


def _average_over_state(fn, moments: dict[str, Any], dims: int = 2) -> tuple[np.ndarray, ...]:
    """E[fn] to O(1/(d−1)) over the Gaussian state of the linear-noise approximation: fn(E x) + ½Σ_i ∂²fn along the
    principal axes of the covariance (central differences). ``dims=3``: the full state; ``dims=2``: (a, b) only,
    ‖v‖² held at its mean (for the Gaussian-velocity closure, whose χ law already carries the spread of ‖p‖²)."""
    mean, cov = moments["mean"], moments["cov"]
    vals, vecs = np.linalg.eigh(cov[..., :dims, :dims])
    axes = vecs * np.sqrt(np.maximum(vals, 0.0))[..., None, :]  # columns: principal axes scaled to 1 std
    centre = fn(mean)
    out = [np.array(c, dtype=float) for c in centre]
    pad = np.zeros((3 - dims, *mean.shape[1:]))
    for i in range(dims):
        step = _STEP * np.concatenate([np.moveaxis(axes[..., :, i], -1, 0), pad])
        plus, minus = fn(mean + step), fn(mean - step)
        for j in range(len(out)):
            out[j] = out[j] + 0.5 * (plus[j] - 2.0 * centre[j] + minus[j]) / _STEP**2
    return tuple(out)


def sgdm_summary(
    lr: Any, weight_decay: Any, momentum: Any = 0.0, unit_grad_sq: Any = 1.0, dim: Any = 256
) -> dict[str, np.ndarray]:
    """All finite-width equilibrium values of SGD/SGDM (derivation ``finite_d.sgdm_lna``), to O(1/(d−1)).

    Parameters
    ----------
    lr, weight_decay, momentum, unit_grad_sq:
        η > 0, λ > 0 (ηλ < 1), α ∈ [0, 1), L > 0; arrays broadcast together.
    dim:
        Width d ≥ 2 of the weight (the number of entries in the scale-invariant group).

    Returns
    -------
    dict
        ``angular_update_mean``, ``angular_update_rms``, ``angular_update_std`` (E Δ_t, √E Δ_t², sd Δ_t at
        equilibrium), ``equilibrium_sq_norm_mean``, ``equilibrium_sq_norm_std`` (E‖w‖², sd ‖w‖²) and
        ``equilibrium_sq_norm_autocorr_time`` (integrated autocorrelation time of ‖w_t‖², steps).
    """
    lr, wd, al, L, d = _arrays(lr, weight_decay, momentum, unit_grad_sq, dim)
    mom = sgdm_state_moments(lr, wd, al, L, d)

    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        m1, m2 = _angle_moments(lr, wd, al, L, d, mom)
        m1 = m1 * (1.0 + _closure_correction(lr, wd, al, L) / (d - 1.0))
        var = np.maximum(m2 - m1 * m1, 0.0)
    return {
        "angular_update_mean": m1,
        "angular_update_rms": np.sqrt(m2),
        "angular_update_std": np.sqrt(var),
        "equilibrium_sq_norm_mean": mom["mean"][0],
        "equilibrium_sq_norm_std": np.sqrt(mom["cov_second_order"][..., 0, 0]),
        "equilibrium_sq_norm_autocorr_time": mom["sq_norm_autocorr_time"],
    }


def angular_update_quantiles(
    lr: float,
    weight_decay: float,
    momentum: float = 0.0,
    unit_grad_sq: float = 1.0,
    dim: int = 256,
    q: Sequence[float] = (0.05, 0.5, 0.95),
) -> np.ndarray:
    """Quantiles of Δ_t at equilibrium (scalar hyperparameters), to O(1/(d−1)) in the state's spread.

    P(Δ ≤ x) = E_{a,b}[F_{χ²_{d−1}}((tan x / K_c)²)] with the conditional law of :func:`sgdm_summary`
    (tan Δ = K_c·χ_{d−1}) averaged over the state in the same way; each quantile by root finding.
    For SGD and d → ∞ this is Δ*·√(χ²_{d−1,p}/(d−1)).
    """
    from scipy import optimize, stats

    qs = np.atleast_1d(np.asarray(q, dtype=float))
    if np.any((qs <= 0) | (qs >= 1)):
        raise InputError(f"quantile levels must be in (0, 1); got {qs.tolist()}")
    lr, wd, al, L, d = (np.asarray(v, dtype=float) for v in _arrays(lr, weight_decay, momentum, unit_grad_sq, dim))
    if lr.ndim:
        raise InputError("angular_update_quantiles takes scalar hyperparameters")
    mom = sgdm_state_moments(lr, wd, al, L, d)
    k = float(d) - 1.0

    def cdf_at(x: float) -> float:
        def fn(state):
            K, mu2 = _gen("finite_d.sgdm_tan_angle")(
                sq_norm=state[0],
                w_dot_v=state[1],
                v_sq_norm=state[2],
                lr=lr,
                weight_decay=wd,
                momentum=al,
                unit_grad_sq=L,
                dim=d,
            )
            Kc = K * np.sqrt(1.0 + np.maximum(np.nan_to_num(mu2), 0.0) / k)
            return (stats.chi2.cdf((np.tan(x) / Kc) ** 2, k),)

        return float(np.clip(_average_over_state(fn, mom)[0], 0.0, 1.0))

    centre = float(sgdm_summary(lr, wd, al, L, d)["angular_update_rms"])
    out = []
    for p in qs:
        lo, hi = 1e-8 * centre, centre
        while cdf_at(hi) < p:
            hi *= 2.0
        out.append(
            optimize.brentq(
                lambda x, p=p: cdf_at(x) - p, lo, min(hi, np.pi / 2 - 1e-12), xtol=1e-14 * centre, rtol=1e-12
            )
        )
    return np.asarray(out)


def finite_d_values(
    optimizer: str,
    *,
    dim: int,
    lr: Any,
    weight_decay: Any,
    unit_grad_sq: Any,
    momentum: Any = 0.0,
    quantiles: Sequence[float] | None = None,
    **_: Any,
) -> dict[str, Any]:
    """The finite-d keys of ``predict(..., dim=d)`` for ``optimizer`` (the hook prediction.py calls).

    Returns an empty dict for optimizers without a derived finite-d law (see :data:`FINITE_D_OPTIMIZERS`);
    otherwise :data:`FINITE_D_KEYS` (from :func:`sgdm_summary`) and, when ``quantiles`` is given,
    ``angular_update_quantiles`` (one value per level, scalar hyperparameters only).
    """
    if optimizer not in FINITE_D_OPTIMIZERS:
        return {}
    mom = 0.0 if optimizer == "sgd" or momentum is None else momentum
    wd = np.asarray(weight_decay, dtype=float)
    out: dict[str, Any] = sgdm_summary(lr, np.where(wd > 0, wd, np.nan), mom, unit_grad_sq, dim)
    # validity of the closure (derivation finite_d.sgdm_lna): a real slow mode, ηλ ≤ (1 − √α)²
    out["finite_d_in_range"] = np.asarray(lr, dtype=float) * wd <= (1.0 - np.sqrt(np.asarray(mom, dtype=float))) ** 2
    if quantiles is not None:
        levels = np.atleast_1d(np.asarray(quantiles, dtype=float))
        if np.ndim(lr) or np.ndim(weight_decay) or np.ndim(mom) or np.ndim(unit_grad_sq):
            raise InputError("quantiles need scalar hyperparameters (lr, weight_decay, momentum, unit_grad_sq)")
        values = angular_update_quantiles(lr, weight_decay, mom, unit_grad_sq, dim, q=levels)
        out.update({f"angular_update_q{p:g}": v for p, v in zip(levels, values, strict=True)})
    return out
