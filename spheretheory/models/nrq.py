"""The Noisy Rayleigh Quotient (NRQ): R(w) = wᵀHw/‖w‖² with tangential gradient noise.

The model of the ICLR 2023 submission "How normalization and weight decay can affect SGD?" (theory brief Sec.
6, reconstructed): H symmetric positive semi-definite, loss R(w) = wᵀHw/‖w‖² (scale-invariant), exact gradient

    ∇R(w) = 2 (H w − R(w) w) / ‖w‖²,

and stochastic gradient ∇R(w) + σ P_w z / ‖w‖ with z ~ N(0, I_d) and P_w = I − ŵŵᵀ the tangent projection, so
the noise is orthogonal to w and scales as 1/‖w‖ (Lemma 1 of Wan et al. 2021 holds for every draw).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validation import InputError, check_real
from ._common import as_weights, sq_norm, tangent


@dataclass(eq=False)
class NoisyRayleighQuotient:
    """Noisy Rayleigh quotient R(w) = wᵀHw/‖w‖² (scale-invariant) with tangential Gaussian gradient noise.

    Parameters
    ----------
    eigenvalues:
        Spectrum of H (all ≥ 0); H = diag(eigenvalues) unless ``H`` is given. Default: 10 values evenly
        spaced in [0, 1].
    noise_std:
        σ ≥ 0: per-direction standard deviation of the tangential gradient noise at ‖w‖ = 1.
    H:
        Optional symmetric positive semi-definite matrix (overrides ``eigenvalues``).

    Raises
    ------
    ValueError
        When H is not symmetric, is indefinite (an eigenvalue < 0), or is empty.
    """

    eigenvalues: np.ndarray | None = None
    noise_std: float = 1.0
    H: np.ndarray | None = None
    dim: int = field(init=False)

    def __post_init__(self) -> None:
        self.noise_std = float(check_real("noise_std", self.noise_std, low=0.0))
        if self.H is not None:
            H = check_real("H", self.H)
            if H.ndim != 2 or H.shape[0] != H.shape[1] or H.shape[0] < 2:
                raise InputError(f"H must be a square matrix of size at least 2x2; got shape {H.shape}")
            if not np.allclose(H, H.T, rtol=1e-12, atol=1e-12 * max(1.0, float(np.abs(H).max()))):
                raise InputError("H must be symmetric")
            H = 0.5 * (H + H.T)
            evals = np.linalg.eigvalsh(H)
            tol = 1e-12 * max(1.0, float(np.abs(evals).max()))
            if evals[0] < -tol:
                raise InputError(
                    f"H must be positive semi-definite (all eigenvalues >= 0); smallest eigenvalue {evals[0]:.6g}"
                )
            self.H = H
            self.eigenvalues = np.clip(evals, 0.0, None)
        else:
            ev = np.linspace(0.0, 1.0, 10) if self.eigenvalues is None else self.eigenvalues
            ev = check_real("eigenvalues", ev)
            if ev.ndim != 1 or ev.size < 2:
                raise InputError(f"eigenvalues must be a 1-d array of length >= 2; got shape {ev.shape}")
            if np.any(ev < 0):
                raise InputError(
                    "eigenvalues must all be >= 0 (H positive semi-definite); "
                    f"got minimum {float(ev.min()):.6g} (indefinite H)"
                )
            self.eigenvalues = np.array(ev, dtype=np.float64)
            self.H = np.diag(self.eigenvalues)
        self.dim = int(self.H.shape[0])
        self._diag = bool(np.count_nonzero(self.H - np.diag(np.diag(self.H))) == 0)

    # --- loss and gradient -------------------------------------------------------------------------
    def _Hw(self, w: np.ndarray) -> np.ndarray:
        return w * np.diag(self.H) if self._diag else w @ self.H  # H symmetric

    def loss(self, w: np.ndarray) -> np.ndarray:
        """R(w) = wᵀHw/‖w‖², shape ``(...)``."""
        w = as_weights(w, self.dim)
        return np.sum(w * self._Hw(w), axis=-1) / sq_norm(w)[..., 0]

    @property
    def min_loss(self) -> float:
        """min R = λ_min(H)."""
        return float(self.eigenvalues.min())

    @property
    def random_loss(self) -> float:
        """E[R(u)] for u uniform on the sphere: tr(H)/d (exact)."""
        return float(np.mean(self.eigenvalues))

    def excess_risk(self, w: np.ndarray) -> np.ndarray:
        """R(w) − λ_min(H)."""
        return self.loss(w) - self.min_loss

    def draw_noise(self, rng: np.random.Generator, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
        """The injected-noise keywords of :meth:`grad` that ``grad(w, rng=rng)`` draws for ``w`` of shape
        ``shape + (dim,)`` (the same numbers, in the same order)."""
        return {"noise": rng.standard_normal((*shape, self.dim))}

    def grad(
        self,
        w: np.ndarray,
        rng: np.random.Generator | None = None,
        noise: np.ndarray | None = None,
    ) -> np.ndarray:
        """Exact gradient ∇R(w) = 2(Hw − R(w)w)/‖w‖² (rng and noise None), or the noisy gradient.

        Parameters
        ----------
        w:
            Weights, shape ``(..., dim)``.
        rng:
            Generator for the noise z ~ N(0, I) (ignored when ``noise`` is given).
        noise:
            Injected standard-normal draws z of shape ``(..., dim)``; the gradient is then
            ∇R(w) + σ P_w z / ‖w‖ (so backends can be compared on identical draws).
        """
        w = as_weights(w, self.dim)
        r2 = sq_norm(w)
        Hw = self._Hw(w)
        R = np.sum(w * Hw, axis=-1, keepdims=True) / r2
        g = 2.0 * (Hw - R * w) / r2
        if noise is None and rng is None:
            return g
        if noise is None:
            noise = rng.standard_normal(w.shape)
        else:
            noise = np.asarray(noise, dtype=np.float64)
            if noise.shape != w.shape:
                raise InputError(f"noise must have the shape of w {w.shape}; got {noise.shape}")
        r = np.sqrt(r2)
        return g + self.noise_std * tangent(noise, w / r) / r

    # --- derived predictions (see spheretheory.theory.nrq) ------------------------------------------
    @property
    def gaps(self) -> np.ndarray:
        """μ_i = λ_i − λ_min for the d − 1 directions other than the bottom eigenvector (sorted)."""
        ev = np.sort(self.eigenvalues)
        return ev[1:] - ev[0]

    def predicted_excess_risk(self, elr: float | np.ndarray, self_consistent: bool = True) -> np.ndarray:
        """Stationary excess risk of sphere training at fixed ELR: E = Σ_i μ_i v_i
        (``nrq.direction_variance``).

        ``nrq.direction_variance`` is first order in the distance to the bottom eigenvector. With
        ``self_consistent=True`` the dropped term of the gradient, −2(R − λ_min)x_i, is restored in mean
        field by replacing each gap μ_i with μ_i − E and solving E = Σ μ_i v_i(μ_i − E) by damped fixed-point
        iteration (a refinement checked in simulation, not a derivation result). Valid for ELR·μ_max < 1.
        """
        from ..theory.toy import derivation as get

        var = get("nrq.direction_variance")
        elr = np.asarray(elr, dtype=float)[..., None]
        mu = self.gaps
        first = np.sum(mu * var(elr=elr, sigma=self.noise_std, gap=mu, dim=self.dim), axis=-1)
        if not self_consistent:
            return first
        E = first
        for _ in range(500):
            shifted = np.maximum(mu - E[..., None], 1e-12)
            new = np.sum(mu * var(elr=elr, sigma=self.noise_std, gap=shifted, dim=self.dim), axis=-1)
            if np.allclose(new, E, rtol=1e-12, atol=0):
                break
            E = 0.5 * (E + new)
        return E

    def free_sgd_effective_lr(self, lr: float | np.ndarray, weight_decay: float | np.ndarray) -> np.ndarray:
        """Effective LR of free SGD with weight decay at the norm equilibrium: the direction moves as a sphere
        step with ELR = η/((1 − ηλ)‖w*‖²), ‖w*‖² from ``sgd.equilibrium_sq_norm`` with the unit-gradient
        power L = σ²(d − 1) (mean field: the noise dominates ‖g̃‖² near the minimum). Then tan Δ = ELR·√L
        reproduces cos Δ = 1 − ηλ (``sgd.angular_update``).
        """
        from ..theory import get

        lr = np.asarray(lr, dtype=float)
        wd = np.asarray(weight_decay, dtype=float)
        L = self.noise_std**2 * (self.dim - 1)
        sq = get("sgd.equilibrium_sq_norm")(lr=lr, weight_decay=wd, unit_grad_sq=L)
        return lr / ((1 - lr * wd) * sq)

    def predicted_excess_risk_free(self, lr: float | np.ndarray, weight_decay: float | np.ndarray) -> np.ndarray:
        """Stationary excess risk of free SGD with weight decay: :meth:`predicted_excess_risk` at
        :meth:`free_sgd_effective_lr` (mean field: the norm's fluctuations around ‖w*‖ are ignored)."""
        return self.predicted_excess_risk(self.free_sgd_effective_lr(lr, weight_decay))

    def predicted_rate(self, elr: float | np.ndarray) -> np.ndarray:
        """Per-step relaxation rate of the slowest direction (smallest non-zero gap): nrq.direction_rate."""
        from ..theory.toy import derivation as get

        gaps = self.gaps[self.gaps > 0]
        mu = gaps.min() if gaps.size else 0.0
        return get("nrq.direction_rate")(elr=np.asarray(elr, float), sigma=self.noise_std, gap=mu, dim=self.dim)

    def grad_rms(self) -> float:
        """√E‖g‖² of the stochastic unit gradient far from the minimum (u uniform): √(σ²(d−1) + E‖∇R‖²).

        E‖∇R(u)‖² = 4(E[uᵀH²u] − E[R²]) with E[uᵀH²u] = tr(H²)/d and E[R²] = ((tr H)² + 2 tr H²)/(d(d+2)).
        """
        ev = self.eigenvalues
        d = self.dim
        e_r2 = (ev.sum() ** 2 + 2 * (ev**2).sum()) / (d * (d + 2))
        grad_sq = 4.0 * ((ev**2).sum() / d - e_r2)
        return float(np.sqrt(self.noise_std**2 * (d - 1) + grad_sq))

    def regime_boundaries(self, steps: int) -> dict[str, float]:
        """Derived ELR boundaries between the regimes for a run of ``steps`` steps (docs/regimes.md).

        * ``stability``: ELR·λ_max(tangent Hessian at the minimum) = 2; the tangent Hessian is 2(H −
          λ_min), so ELR = 1/(λ_max − λ_min). Beyond it the stationary-variance formula has its pole.
        * ``convergence``: ELR at which the slowest direction's relaxation rate r (``nrq.direction_rate``)
          satisfies r·steps = 8 (the transient is down by e⁻⁴ when the second half, used by the trend test,
          starts); below it the loss is still falling at the end of the run.
        * ``random_walk``: ELR at which the typical angular step atan(ELR·g_rms) reaches the classifier's
          divergence angle (``toy.random_walk_elr``).
        """
        from ..theory.toy import convergence_elr, random_walk_elr

        gaps = self.gaps[self.gaps > 0]
        return {
            "stability": float(1.0 / gaps.max()) if gaps.size else float("inf"),
            "convergence": convergence_elr(self.predicted_rate, steps) if gaps.size else float("nan"),
            "random_walk": random_walk_elr(self.grad_rms()),
        }
