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

#: the linear (w, v, g) families with a derived finite-d law: the generated twins each one uses
_FAMILIES: dict[str, dict[str, str]] = {
    "sgdm": {
        "state": "sgdm.equilibrium_state",
        "jacobian": "finite_d.sgdm_jacobian",
        "hessian": "finite_d.sgdm_hessian",
        "noise": "finite_d.sgdm_noise",
        "tan": "finite_d.sgdm_tan_angle",
    },
    "nesterov": {
        "state": "nesterov.equilibrium_state",
        "jacobian": "finite_d.nesterov_jacobian",
        "hessian": "finite_d.nesterov_hessian",
        "noise": "finite_d.nesterov_noise",
        "tan": "finite_d.nesterov_tan_angle",
    },
}
#: optimizer name -> family of the derived finite-d law (SGD and SGDW are heavy ball with α = 0)
DERIVED: dict[str, str] = {"sgd": "sgdm", "sgdw": "sgdm", "sgdm": "sgdm", "nesterov": "nesterov"}
#: optimizers with a derived finite-d law
FINITE_D_OPTIMIZERS: tuple[str, ...] = tuple(DERIVED)
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
#: the closure's iteration stops once every entry of Σ changes by less than this, relative
_CLOSURE_RTOL = 1e-13


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


def _noise_terms(family: str, kw: dict[str, Any], d: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(k, Var)]: the state's one-step noise is Σ k·(scalar of variance Var), the scalars uncorrelated.

    Heavy ball (``finite_d.sgdm_noise``): one scalar h_t. Nesterov (``finite_d.nesterov_noise``): G = ‖g_t‖² and
    X = ⟨v_{t−1}, g_t⟩, which enter ‖w‖² and ‖v‖² with different weights.
    """
    out = np.broadcast_arrays(*_gen(_FAMILIES[family]["noise"])(**kw, dim=d))
    if family == "sgdm":
        return [(np.moveaxis(np.stack(out[:3]), 0, -1), out[3])]
    return [(np.moveaxis(np.stack(out[:3]), 0, -1), out[6]), (np.moveaxis(np.stack(out[3:6]), 0, -1), out[7])]


def sgdm_state_moments(
    lr: Any,
    weight_decay: Any,
    momentum: Any,
    unit_grad_sq: Any,
    dim: Any,
    family: str = "sgdm",
    second_order: bool = True,
) -> dict[str, Any]:
    """Stationary mean, covariance and autocorrelation of (‖w‖², ⟨w, v⟩, ‖v‖²) to O(1/(d−1)).

    Solves the equations of derivation ``finite_d.sgdm_lna``: Σ = JΣJᵀ + Σ_j k_j k_jᵀVar_j (discrete Lyapunov,
    by vectorisation) and E x − x* = (I − J)⁻¹·½[tr(H_i Σ)]_i. ``momentum = 0`` is SGD; ``family="nesterov"``
    takes the Nesterov map and its two noise scalars (``finite_d.nesterov_*``).

    Returns
    -------
    dict
        ``fixed_point`` (3, ...) the mean-field x*; ``mean`` (3, ...); ``cov`` (..., 3, 3); ``jacobian``
        (..., 3, 3); ``sq_norm_autocorr_time`` — the integrated autocorrelation time of ‖w_t‖²,
        τ = (2[(I − J)⁻¹Σ]_aa − Σ_aa)/Σ_aa, so that a T-step time average has variance Var‖w‖²·τ/T;
        ``cov_second_order`` (..., 3, 3) the covariance of the second-order closure (iterated until it changes by
        less than 1e-13 relative, at most ``_CLOSURE_ITERATIONS`` times; ``second_order=False``: not computed,
        ``None``).
    """
    lr, wd, al, L, d = _arrays(lr, weight_decay, momentum, unit_grad_sq, dim)
    names = _FAMILIES[family]
    xs = np.stack(np.broadcast_arrays(*_gen(names["state"])(lr=lr, weight_decay=wd, momentum=al, unit_grad_sq=L)))
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
        np.stack(np.broadcast_arrays(*_gen(names["jacobian"])(**kw))).reshape((3, 3, *shape)), (0, 1), (-2, -1)
    )
    H = np.moveaxis(
        np.stack(np.broadcast_arrays(*_gen(names["hessian"])(**kw))).reshape((3, 3, 3, *shape)),
        (0, 1, 2),
        (-3, -2, -1),
    )
    terms = _noise_terms(family, kw, d)
    kks = [k[..., :, None] * k[..., None, :] for k, _ in terms]
    Q = sum(kk * np.broadcast_to(v, shape)[..., None, None] for kk, (_, v) in zip(kks, terms, strict=True))
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
    diverged = np.zeros(shape, dtype=bool)
    for _ in range(_CLOSURE_ITERATIONS if second_order else 0):
        previous = sig2

        def var_h(state):
            at = {**kw, "sq_norm": state[0], "w_dot_v": state[1], "v_sq_norm": state[2]}
            return tuple(np.broadcast_to(v, shape) for _, v in _noise_terms(family, at, d))

        evs = _average_over_state(var_h, {"mean": xs, "cov": sig2}, dims=3)
        q2 = 0.5 * np.einsum("...iab,...bc,...jcd,...da->...ij", H, sig2, H, sig2)
        rhs = sum(kk * ev[..., None, None] for kk, ev in zip(kks, evs, strict=True)) + q2
        sig2 = np.linalg.solve(np.eye(9) - M, rhs.reshape((*shape, 9, 1)))[..., 0].reshape((*shape, 3, 3))
        sig2 = 0.5 * (sig2 + np.swapaxes(sig2, -1, -2))
        # far outside the stated range (ηλ > (1 − √α)²) the closure can run away: no value there (n/a, not a guess)
        runaway = ~np.all(np.isfinite(sig2), axis=(-1, -2)) | (sig2[..., 0, 0] > 4.0 * sig[..., 0, 0])
        sig2 = np.where(runaway[..., None, None], sig, sig2)
        diverged |= runaway
        with np.errstate(invalid="ignore"):
            change = np.abs(sig2 - previous) <= _CLOSURE_RTOL * np.abs(sig2)
        if np.all(change | diverged[..., None, None]):  # converged (a fixed point of the map, to round-off)
            break
    sig2 = np.where(diverged[..., None, None], np.nan, sig2) if second_order else None
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


def _conditional_angle_moments(state: np.ndarray, lr, wd, al, L, d, family) -> tuple[np.ndarray, np.ndarray]:
    """E[Δ | a, b] and E[Δ² | a, b]: tan Δ = K_c·χ_{d−1}, the tangential velocity taken as an isotropic Gaussian.

    Given the full state, tan Δ = K√Z with Z ~ χ′²_{d−1}(μ²) (``finite_d.sgdm_tan_angle``). The tangential
    momentum p is a sum of past isotropic Gaussian gradients; while the tangent plane turns little over the
    momentum memory (ηλ ≪ (1 − √α)²) it is itself an isotropic Gaussian vector, and αp + g_t ~ N(0, σ²I_{d−1}):
    Z is then a central χ²_{d−1} with the same mean, tan Δ = K_c·χ_{d−1}, K_c = K·√(1 + μ²/(d−1)) with μ² at the
    mean ‖v‖². This is exact as ηλ/(1 − √α)² → 0 at every d (a Taylor expansion in ‖p‖², which has O(1) relative
    spread at small d, is not). The moments E[χ^m] = 2^{m/2}Γ((d−1+m)/2)/Γ((d−1)/2) are exact; the arctan series
    is cut at its smallest term (relative error ~ Δ^{2·_TERMS}).
    """
    K, mu2 = _tan_law(state, lr, wd, al, L, d, family)
    k = d - 1.0
    Kc = K * np.sqrt(1.0 + mu2 / k)
    c1, c2 = _atan_coefficients()
    odd = np.stack([c1[j] * Kc ** (2 * j + 1) * _chi_moment(2 * j + 1, k) for j in range(len(c1))])
    even = np.stack([c2[j] * Kc ** (2 * j + 2) * _chi_moment(2 * j + 2, k) for j in range(len(c2))])
    return _series_sum(odd), _series_sum(even)


def _conditional_second_moment(state: np.ndarray, lr, wd, al, L, d, family) -> np.ndarray:
    """E[Δ² | x] from the exact conditional law tan Δ = K√Z, Z ~ χ′²_{d−1}(μ²) (``finite_d.sgdm_tan_angle``).

    arctan² is a series in tan² Δ = K²Z, and the integer moments E[Z^j] of the non-central χ² are polynomials in μ²
    (:func:`_ncx2_moment`): a smooth function of the state, so averaging it over the Gaussian state is exact to
    O(1/(d−1)) without any closure.
    """
    K, mu2 = _tan_law(state, lr, wd, al, L, d, family)
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


def _angle_moments(lr, wd, al, L, d, mom, family) -> tuple[np.ndarray, np.ndarray]:
    """(E Δ before the O(1/(d−1)) matching, E Δ²).

    Scale: E Δ² from its exact conditional law (even powers of tan Δ are polynomials in the state), averaged over
    the full Gaussian state — exact to O(1/(d−1)) with no closure. Shape: the ratio E Δ/√E Δ² from the
    Gaussian-velocity closure (exact as ηλ/(1 − √α)² → 0 at every d).
    """

    def shape(state):
        return _conditional_angle_moments(state, lr, wd, al, L, d, family)

    def second(state):
        return (_conditional_second_moment(state, lr, wd, al, L, d, family),)

    (m2,) = _average_over_state(second, mom, dims=3)
    c1, c2 = _average_over_state(shape, mom, dims=2)
    return np.sqrt(m2) * c1 / np.sqrt(c2), m2


#: width at which the closure's O(1/(d−1)) error is read off (large enough that O((d−1)⁻²) terms are ~1e-10)
_MATCH_DIM = 1.0e5


def _closure_correction(lr, wd, al, L, family) -> np.ndarray:
    """c such that E Δ = (value of :func:`_angle_moments`)·(1 + c/(d−1)) is exact to O(1/(d−1)) (matching).

    The closure is exact as ηλ/(1 − √α)² → 0 at every d, but carries an O(ηλ/(d−1)) error at finite ηλ. The exact
    O(1/(d−1)) mean needs no closure at large d: there E[√Z | x] = √M(1 − V/(8M²) + O(d⁻²)) with M = d − 1 + μ²,
    V = 2(d − 1 + 2μ²) the mean and variance of the non-central χ², a smooth function of the state averaged over
    the full Gaussian state. c = (d′ − 1)·(exact/closure − 1) at d′ = _MATCH_DIM.
    """
    dd = np.full_like(np.asarray(lr, dtype=float), _MATCH_DIM)
    mom = sgdm_state_moments(lr, wd, al, L, dd, family, second_order=False)  # the mean and Σ only
    c1, _ = _atan_coefficients()

    def exact_mean(state):
        K, mu2 = _tan_law(state, lr, wd, al, L, dd, family)
        M = dd - 1.0 + mu2
        V = 2.0 * (dd - 1.0 + 2.0 * mu2)
        terms = []
        for j in range(len(c1)):
            p_ = (2 * j + 1) / 2.0  # E[Z^p] ≈ M^p (1 + p(p−1)V/(2M²))
            terms.append(c1[j] * K ** (2 * j + 1) * M**p_ * (1.0 + p_ * (p_ - 1.0) * V / (2.0 * M * M)))
        return (_series_sum(np.stack(terms)),)

    exact = _average_over_state(exact_mean, mom, dims=3)[0]
    closure = _angle_moments(lr, wd, al, L, dd, mom, family)[0]
    return (_MATCH_DIM - 1.0) * (exact / closure - 1.0)


def _tan_law(state, lr, wd, al, L, d, family="sgdm") -> tuple[np.ndarray, np.ndarray]:
    """(K, μ²) of tan Δ = K√Z, Z ~ χ′²_{d−1}(μ²) at ``state`` (twin of ``finite_d.sgdm_tan_angle`` or
    ``finite_d.nesterov_tan_angle``)."""
    K, mu2 = np.broadcast_arrays(
        *_gen(_FAMILIES[family]["tan"])(
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
    lr: Any, weight_decay: Any, momentum: Any = 0.0, unit_grad_sq: Any = 1.0, dim: Any = 256, family: str = "sgdm"
) -> dict[str, np.ndarray]:
    """All finite-width equilibrium values of SGD/SGDM (derivation ``finite_d.sgdm_lna``), to O(1/(d−1)).

    Parameters
    ----------
    lr, weight_decay, momentum, unit_grad_sq:
        η > 0, λ > 0 (ηλ < 1), α ∈ [0, 1), L > 0; arrays broadcast together.
    dim:
        Width d ≥ 2 of the weight (the number of entries in the scale-invariant group).
    family:
        ``"sgdm"`` (heavy ball; SGD at α = 0) or ``"nesterov"`` (PyTorch ``nesterov=True``).

    Returns
    -------
    dict
        ``angular_update_mean``, ``angular_update_rms``, ``angular_update_std`` (E Δ_t, √E Δ_t², sd Δ_t at
        equilibrium), ``equilibrium_sq_norm_mean``, ``equilibrium_sq_norm_std`` (E‖w‖², sd ‖w‖²) and
        ``equilibrium_sq_norm_autocorr_time`` (integrated autocorrelation time of ‖w_t‖², steps).
    """
    lr, wd, al, L, d = _arrays(lr, weight_decay, momentum, unit_grad_sq, dim)
    mom = sgdm_state_moments(lr, wd, al, L, d, family)

    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        m1, m2 = _angle_moments(lr, wd, al, L, d, mom, family)
        m1 = m1 * (1.0 + _closure_correction(lr, wd, al, L, family) / (d - 1.0))
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
    family: str = "sgdm",
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
    mom = sgdm_state_moments(lr, wd, al, L, d, family, second_order=False)
    k = float(d) - 1.0

    def cdf_at(x: float) -> float:
        def fn(state):
            K, mu2 = _tan_law(state, lr, wd, al, L, d, family)
            Kc = K * np.sqrt(1.0 + mu2 / k)
            return (stats.chi2.cdf((np.tan(x) / Kc) ** 2, k),)

        return float(np.clip(_average_over_state(fn, mom)[0], 0.0, 1.0))

    centre = float(sgdm_summary(lr, wd, al, L, d, family)["angular_update_rms"])
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


def _real_slow_mode(family: str, lr: Any, weight_decay: Any, momentum: Any) -> np.ndarray:
    """Validity of the closure (derivation ``finite_d.sgdm_lna``): the linear (w, v) part of the update has real
    eigenvalues. With w' = (1 − ηκλ)w − ησ_v v, v' = λw + α_v v (heavy ball κ = 1, σ_v = α_v = α; Nesterov κ = 1 + α,
    σ_v = α², α_v = α) this is T² ≥ 4D, T = 1 − ηκλ + α_v, D = α_v(1 − ηκλ) + ησ_vλ: ηλ ≤ (1 − √α)² for heavy ball,
    ηλ ≤ ((1 − α)/(1 + α))² for Nesterov."""
    el = np.asarray(lr, dtype=float) * np.asarray(weight_decay, dtype=float)
    al = np.asarray(momentum, dtype=float)
    kappa, sv = (1.0, al) if family == "sgdm" else (1.0 + al, al * al)
    T = 1.0 - kappa * el + al
    D = al * (1.0 - kappa * el) + sv * el
    return T * T >= 4.0 * D * (1.0 - 1e-12)


def finite_d_values(
    optimizer: str,
    *,
    dim: int,
    lr: Any,
    weight_decay: Any,
    unit_grad_sq: Any,
    momentum: Any = 0.0,
    quantiles: Sequence[float] | None = None,
    reference: dict[str, Any] | None = None,
    **hyper: Any,
) -> dict[str, Any]:
    """The finite-d keys of ``predict(..., dim=d)`` for ``optimizer`` (the hook prediction.py calls).

    * derived (:data:`DERIVED`: sgd, sgdw, sgdm, nesterov): :data:`FINITE_D_KEYS` from :func:`sgdm_summary`
      (derivation ``finite_d.sgdm_lna``) and, when ``quantiles`` is given, ``angular_update_q<level>``;
    * fitted (:data:`FITTED`: adamw, adamc, lion): the ratios of :func:`fitted_ratios` times the d → ∞ values in
      ``reference`` (``angular_update``, ``equilibrium_sq_norm``); no autocorrelation time, no quantiles;
    * others (adam with coupled L2, muon): the keys are NaN, with the reason.

    Also returns ``finite_d_in_range``, ``finite_d_basis`` (``"derived"``/``"fitted"``/``"none"``) and
    ``_reasons`` (key -> why a value is NaN; prediction.py turns it into notes).
    """
    shape = np.broadcast(*(np.asarray(v) for v in (lr, weight_decay, unit_grad_sq))).shape
    if optimizer in DERIVED:
        family = DERIVED[optimizer]
        mom = 0.0 if family == "sgdm" and (optimizer in ("sgd", "sgdw") or momentum is None) else momentum
        wd = np.asarray(weight_decay, dtype=float)
        out: dict[str, Any] = sgdm_summary(lr, np.where(wd > 0, wd, np.nan), mom, unit_grad_sq, dim, family)
        out["finite_d_in_range"] = _real_slow_mode(family, lr, wd, mom)
        out["finite_d_basis"] = "derived"
        out["_reasons"] = {}
        if quantiles is not None:
            levels = np.atleast_1d(np.asarray(quantiles, dtype=float))
            if np.ndim(lr) or np.ndim(weight_decay) or np.ndim(mom) or np.ndim(unit_grad_sq):
                raise InputError("quantiles need scalar hyperparameters (lr, weight_decay, momentum, unit_grad_sq)")
            values = angular_update_quantiles(lr, weight_decay, mom, unit_grad_sq, dim, q=levels, family=family)
            out.update({f"angular_update_q{p:g}": v for p, v in zip(levels, values, strict=True)})
        return out
    if quantiles is not None:
        raise InputError(
            f"quantiles of Δ are derived only for {', '.join(DERIVED)}; optimizer {optimizer!r} has "
            + ("fitted finite-d moments only" if optimizer in FITTED else "no finite-d law")
        )
    nan = np.full(shape, np.nan)
    try:
        from . import finite_d_fits as F
    except ImportError:  # the table is generated by paper_checks/finite_d_fit.py
        F = None
    if optimizer not in FITTED or F is None:
        why = {
            "adam": "no finite-d law for Adam with coupled L2 (no hyperparameter-only equilibrium; use adamw)",
            "muon": "no finite-d law for Muon (a matrix optimizer: dim is not the width of one scale-invariant vector)",
        }.get(optimizer, f"no finite-d law for {optimizer}")
        if F is None and optimizer in FITTED:
            why = "the fitted finite-d table is missing: run python -m paper_checks.finite_d_fit"
        out = {k: nan for k in FINITE_D_KEYS}
        out.update(finite_d_in_range=np.zeros(shape, dtype=bool), finite_d_basis="none")
        out["_reasons"] = {k: why for k in FINITE_D_KEYS}
        return out
    ref = reference or {}
    A = np.asarray(ref.get("angular_update", np.nan), dtype=float)
    X = np.asarray(ref.get("equilibrium_sq_norm", np.nan), dtype=float)
    el = np.asarray(lr, dtype=float) * np.asarray(weight_decay, dtype=float)
    r = fitted_ratios(optimizer, el, np.broadcast_to(np.asarray(dim, dtype=float), shape))
    b1, b2 = F.BETAS[FITTED[optimizer]]
    betas_ok = (np.asarray(hyper.get("beta1", b1)) == b1) & (np.asarray(hyper.get("beta2", b2)) == b2)
    ok = r["in_range"] & betas_ok
    if "eps_ratio" in ref:  # AdamW: the fit has ε r/σ ≈ 1e-8·r/σ ≪ 1
        ok = ok & (np.asarray(ref["eps_ratio"], dtype=float) < 1e-3)
    mean, sd = r["mean"], r["sd"]
    out = {
        "angular_update_mean": np.where(ok, A * mean, np.nan),
        "angular_update_rms": np.where(ok, A * np.sqrt(mean * mean + sd * sd), np.nan),
        "angular_update_std": np.where(ok, A * sd, np.nan),
        "equilibrium_sq_norm_mean": np.where(ok, X * r["norm"], np.nan),
        "equilibrium_sq_norm_std": np.where(ok, X * r["norm"] * np.sqrt(r["norm_relvar"]), np.nan),
        "equilibrium_sq_norm_autocorr_time": nan,
        "finite_d_in_range": ok,
        "finite_d_basis": "fitted",
    }
    lo, hi = F.ETA_LAMBDA[0], F.ETA_LAMBDA[-1]
    why = (
        f"fitted (not derived) only for β₁ = {b1:g}, β₂ = {b2:g}, ηλ in [{lo:g}, {hi:g}], d ≥ {min(F.DIMS)}"
        + (", ε r/σ < 1e-3" if "eps_ratio" in ref else "")
        + " (paper_checks/finite_d_fit.py)"
    )
    out["_reasons"] = {k: why for k in FINITE_D_KEYS if k != "equilibrium_sq_norm_autocorr_time"}
    out["_reasons"]["equilibrium_sq_norm_autocorr_time"] = f"not fitted for {FITTED[optimizer]}"
    if np.any(ok & ~np.isfinite(r["norm_relvar"])):
        out["_reasons"]["equilibrium_sq_norm_std"] = (
            f"not resolved by the fit below ηλ = {F.NORM_STD_MIN_ETA_LAMBDA:g} (held-out runs up to 2x off) or "
            "where the fitted variance is not positive"
        )
    return out


# ------------------------------------------------------------------------------------ fitted (AdamW, Lion)
#: optimizer name -> the fitted table it uses (AdamC is AdamW at constant learning rate)
FITTED: dict[str, str] = {"adamw": "adamw", "adamc": "adamw", "lion": "lion"}


def fitted_ratios(optimizer: str, eta_lambda: Any, dim: Any) -> dict[str, np.ndarray]:
    """Fitted finite-d ratios of AdamW/Lion (``finite_d_fits``, generated by ``paper_checks/finite_d_fit.py``).

    NOT a derivation: least-squares fits to the full simulator at the default betas. Returns ``mean`` (E Δ/Δ*_∞),
    ``sd`` (sd Δ/Δ*_∞), ``norm`` (E‖w‖²/x*_∞), ``norm_relvar`` (Var‖w‖²/E‖w‖²²) and ``in_range``. The
    coefficients are interpolated linearly in log ηλ between the fitted ηλ; outside the fitted ηλ range, and for
    d below the smallest fitted width, the values are NaN (no extrapolation).
    """
    from . import finite_d_fits as F

    table = F.COEFFICIENTS[FITTED[optimizer]]
    el = np.asarray(eta_lambda, dtype=float)
    d = np.asarray(dim, dtype=float)
    grid = np.log10(np.asarray(F.ETA_LAMBDA))
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.log10(el)
    in_range = (x >= grid[0] - 1e-9) & (x <= grid[-1] + 1e-9) & (d >= min(F.DIMS))
    xc = np.clip(np.nan_to_num(x, nan=grid[0]), grid[0], grid[-1])

    def coef(q: str, i: int) -> np.ndarray:
        return np.interp(xc, grid, [c[i] for c in table[q]])

    n = 1.0 / (d - 1.0)
    out = {
        "mean": 1.0 + coef("mean", 0) * n + coef("mean", 1) * n * n,
        "sd": (coef("sd", 0) + coef("sd", 1) * n) * np.sqrt(n),
        "norm": 1.0 + coef("norm", 0) * n + coef("norm", 1) * n * n,
        # a non-positive fitted variance (AdamW at ηλ = 1e-4, large d: below the fit's resolution) has no value
        "norm_relvar": np.where(
            ((rv := coef("norm_relvar", 0) + coef("norm_relvar", 1) * n) > 0)
            & (el >= F.NORM_STD_MIN_ETA_LAMBDA * (1 - 1e-9)),
            rv * n,
            np.nan,
        ),
    }
    out = {k: np.where(in_range, v, np.nan) for k, v in out.items()}
    out["in_range"] = in_range
    return out
