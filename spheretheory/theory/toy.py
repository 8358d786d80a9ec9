"""Regime boundaries of training on the sphere at a fixed ELR (Kodryan et al. 2022; theory brief Sec. 5).

Derived here from the sphere step u' = (u − η g)/‖u − η g‖ with g ⟂ u (η = ELR):

* ``toy.step_angle`` — the angular update of one step is Δ = atan(η‖g‖), exactly.
* ``toy.random_walk_elr`` — the ELR at which the typical step reaches a given angle θ (the classifier's
  divergence angle 0.8·π/2): η = tan θ / g_rms. Above it consecutive iterates are nearly as far apart as two
  independent uniform points (mean angle π/2): the noise-driven random walk of regime 3.
* ``toy.linear_multiplier`` — at a minimum with tangent-Hessian eigenvalue h, with a multiplicative
  gradient-noise factor s = 1 + σ_m ε, the linearized map multiplies the displacement along that
  eigen-direction by 1 − η s h (normalization is second order). Deterministic stability (s = 1): |1 − ηh| < 1
  ⇔ ELR·h < 2.
* ``toy.lyapunov_exponent`` — with noise, the displacement evolves as a product of independent multipliers, so
  it shrinks a.s. iff Λ = E log|1 − ηh(1 + σ_m ε)| < 0 (no closed form: evaluated by quadrature);
  :func:`stability_elr` solves Λ = 0.
* ``toy.gibbs_density`` — for additive isotropic noise σ_a and small η, the iterates follow (to first
  order in η) the SDE dU = −η∇f dt + ησ_a dB on the sphere, whose stationary density is ∝ exp(−2f/(ησ_a²)).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import register
from .base import Derivation, DerivationResult, Step

SOURCE = "derived here (sphere training at fixed ELR, Kodryan et al. 2022)"
STEP = "u' = (u − η g)/‖u − η g‖ with g ⟂ u (scale invariance, Lemma 1 of Wan et al.)"


def _derive_step_angle() -> DerivationResult:
    import sympy as sp

    eta, G = sp.symbols("elr grad_norm", positive=True)
    u = sp.Matrix([1, 0])
    v = u - eta * sp.Matrix([0, G])
    cos_d = sp.simplify(u.dot(v) / sp.sqrt(v.dot(v)))
    tan_d = sp.simplify(sp.sqrt(1 - cos_d**2) / cos_d)
    expr = sp.atan(tan_d)
    steps = (
        Step("Frame: u = e₁, g = ‖g‖ e₂ (g ⟂ u); u − ηg", v.T),
        Step("cos Δ = ⟨u, u − ηg⟩/‖u − ηg‖", cos_d),
        Step("tan Δ = η‖g‖, so Δ = atan(η‖g‖) exactly (< π/2 for every η)", expr),
    )
    return DerivationResult(expr, steps)


def _step_angle_numeric(elr, grad_norm):
    return np.arctan(np.asarray(elr, float) * np.asarray(grad_norm, float))


def _derive_random_walk() -> DerivationResult:
    import sympy as sp

    eta, g, theta = (
        sp.Symbol("elr", positive=True),
        sp.Symbol("grad_rms", positive=True),
        sp.Symbol("angle", positive=True),
    )
    sol = sp.solve(sp.Eq(sp.tan(theta), eta * g), eta)[0]
    steps = (
        Step("Typical step angle atan(η g_rms) (toy.step_angle with ‖g‖ → g_rms)"),
        Step("Solve atan(η g_rms) = θ for η", sol),
    )
    return DerivationResult(sol, steps)


def _random_walk_numeric(grad_rms, angle=0.4 * np.pi):
    return np.tan(np.asarray(angle, float)) / np.asarray(grad_rms, float)


def _derive_multiplier() -> DerivationResult:
    import sympy as sp

    eta, h, s, th = sp.symbols("elr curvature noise_factor theta", real=True)
    # along a great circle through the minimum at θ = 0, f(θ) = h θ²/2 + O(θ³): g = s h θ, and the step
    # is a rotation
    theta_next = th - sp.atan(eta * s * h * th)
    mult = sp.simplify(sp.diff(theta_next, th).subs(th, 0))
    stable = sp.solve(sp.Eq(mult.subs(s, 1), -1), eta)
    steps = (
        Step(
            "Along a great circle through the minimum, θ' = θ − atan(η s f'(θ)) (toy.step_angle), f'(θ) = hθ + O(θ²)",
            theta_next,
        ),
        Step("Multiplier dθ'/dθ at θ = 0", mult),
        Step("Deterministic (s = 1) stability |1 − ηh| < 1 ends at η = 2/h (ELR·h = 2)", stable),
    )
    return DerivationResult(mult, steps, {"stability_elr": stable})


def _multiplier_numeric(elr, curvature, noise_factor=1.0):
    return 1.0 - np.asarray(elr, float) * np.asarray(curvature, float) * np.asarray(noise_factor, float)


def _derive_lyapunov() -> DerivationResult:
    import sympy as sp

    eta, h = sp.symbols("elr curvature", positive=True)
    sm = sp.Symbol("mult_noise", nonnegative=True)
    eps = sp.Symbol("epsilon", real=True)
    density = sp.exp(-(eps**2) / 2) / sp.sqrt(2 * sp.pi)
    expr = sp.Integral(sp.log(sp.Abs(1 - eta * h * (1 + sm * eps))) * density, (eps, -sp.oo, sp.oo))
    det = sp.log(sp.Abs(1 - eta * h))
    steps = (
        Step(
            "Linearized displacement x_{t+1} = (1 − ηh s_t) x_t with i.i.d. s_t = 1 + σ_m ε_t (toy.linear_multiplier)"
        ),
        Step("log|x_t| = log|x_0| + Σ log|1 − ηh s_k|: a.s. contraction iff Λ = E log|1 − ηh s| < 0", expr),
        Step("σ_m = 0: Λ = log|1 − ηh|, zero at ηh = 2", det),
    )
    return DerivationResult(expr, steps, {"deterministic": det})


def lyapunov_exponent(elr, curvature, mult_noise):
    """Λ = E log|1 − ELR·h(1 + σ_m ε)|, ε ~ N(0, 1) (``toy.lyapunov_exponent``), by adaptive quadrature.

    The integrand's logarithmic singularity at ε = (1/(ηh) − 1)/σ_m is passed to the integrator. Vectorized by
    a loop (each value is one 1-d integral).
    """
    from scipy import integrate

    e, h, s = np.broadcast_arrays(*(np.asarray(a, float) for a in (elr, curvature, mult_noise)))
    out = np.empty(e.shape)
    for idx in np.ndindex(e.shape):
        x, sm = e[idx] * h[idx], s[idx]
        if sm == 0:
            out[idx] = np.log(abs(1 - x)) if x != 1 else -np.inf
            continue
        with np.errstate(over="ignore", divide="ignore"):  # ηh → 0: the singularity moves to ±∞ (outside)
            sing = (1.0 / x - 1.0) / sm

        def f(t, x=x, sm=sm):
            return np.log(np.abs(1 - x * (1 + sm * t)) + 1e-300) * np.exp(-t * t / 2) / np.sqrt(2 * np.pi)

        # |ε| > 12 carries Gaussian weight < 1e-32 (times a logarithm): integrate over [−12, 12], split at the
        # singularity when it lies inside
        pts = [sing] if -12.0 < sing < 12.0 else None
        val, _ = integrate.quad(f, -12.0, 12.0, points=pts, limit=200)
        out[idx] = val
    return out if out.ndim else float(out)


def stability_elr(curvature: float, mult_noise: float) -> float:
    """ELR at which Λ(ELR) = 0 for a minimum of tangent curvature h (2/h when σ_m = 0)."""
    from scipy import optimize

    if mult_noise == 0:
        return 2.0 / curvature
    return float(
        optimize.brentq(
            lambda e: lyapunov_exponent(e, curvature, mult_noise),
            1e-3 / curvature,
            2.0 / curvature,
            xtol=1e-12,
        )
        if lyapunov_exponent(2.0 / curvature, curvature, mult_noise) > 0
        else optimize.brentq(
            lambda e: lyapunov_exponent(e, curvature, mult_noise),
            2.0 / curvature,
            1e3 / curvature,
            xtol=1e-12,
        )
    )


# ----------------------------------------------------------------------------------------------------------
# Regime boundaries used by the models and the classifier (docs/regimes.md)
# ----------------------------------------------------------------------------------------------------------
#: The classifier calls a run divergent when its mean angular update exceeds this angle (0.8 of the mean angle
#: π/2 between two independent uniform points on the sphere).
DIVERGENCE_ANGLE = 0.8 * np.pi / 2

#: The convergence boundary: a run of T steps is still converging when its slowest relaxation rate r has
#: r·T < K.
RELAXATION_BUDGET = 8.0


def random_walk_elr(grad_rms: float, angle: float = DIVERGENCE_ANGLE) -> float:
    """ELR with atan(ELR·g_rms) = ``angle`` (the generated twin of ``toy.random_walk_elr``).

    Parameters
    ----------
    grad_rms:
        RMS tangential gradient norm g_rms of the model.
    angle:
        The step angle θ that marks the random walk (default: the classifier's divergence angle).
    """
    return float(derivation("toy.random_walk_elr")(grad_rms=grad_rms, angle=angle))


def convergence_elr(rate: Callable[[float], float], steps: int, budget: float = RELAXATION_BUDGET) -> float:
    """The ELR at which ``rate(ELR)·steps = budget`` (first crossing on a log grid, then bisection to 1e-10 in
    log ELR: no scipy.optimize import for one root); NaN if none.

    ``rate`` is the slowest direction's relaxation rate r(ELR) (e.g. ``nrq.direction_rate``); below the
    returned ELR a run of ``steps`` steps is still converging (its transient is above e^(−budget/2)).
    """

    def gap(log_e: float) -> float:
        return float(rate(np.exp(log_e))) * steps - budget

    lo, hi = np.log(1e-12), np.log(1e2)
    if gap(lo) > 0 or gap(hi) < 0:
        return float("nan")
    # rate may be non-monotone at large ELR; take the first crossing by scanning
    grid = np.linspace(lo, hi, 400)
    vals = np.array([gap(x) for x in grid])
    i = int(np.argmax(vals > 0))
    a, b = float(grid[i - 1]), float(grid[i])  # gap(a) ≤ 0 < gap(b)
    while b - a > 1e-10:
        mid = 0.5 * (a + b)
        if gap(mid) > 0:
            b = mid
        else:
            a = mid
    return float(np.exp(0.5 * (a + b)))


def _derive_gibbs() -> DerivationResult:
    import sympy as sp

    f, eta, sa = (
        sp.Symbol("loss_value", real=True),
        sp.Symbol("elr", positive=True),
        sp.Symbol("add_noise", positive=True),
    )
    D = eta**2 * sa**2 / 2
    expr = sp.exp(-eta * f / D)
    steps = (
        Step("Small η: u_{t+1} − u_t = −η∇f − ησ_a P_u z + O(η²) (the O(η²) normal part keeps u on the sphere)"),
        Step("Diffusion limit: dU = −η∇f dt + ησ_a dB_sphere; diffusion coefficient D = η²σ_a²/2", D),
        Step(
            "Stationary Fokker–Planck solution on the sphere: p ∝ exp(−η f / D) = exp(−2f/(ησ_a²))",
            sp.simplify(expr),
        ),
    )
    return DerivationResult(sp.simplify(expr), steps)


def _gibbs_numeric(loss_value, elr, add_noise):
    return np.exp(-2.0 * np.asarray(loss_value, float) / (np.asarray(elr, float) * np.asarray(add_noise, float) ** 2))


register(
    Derivation(
        name="toy.step_angle",
        title="Angular update of one sphere step: Δ = atan(ELR·‖g‖)",
        source=SOURCE,
        assumptions=(STEP,),
        parameters=("elr", "grad_norm"),
        derive=_derive_step_angle,
        numeric=_step_angle_numeric,
        codegen=False,
    )
)
register(
    Derivation(
        name="toy.random_walk_elr",
        title="ELR at which the typical angular step reaches a given angle",
        source=SOURCE,
        assumptions=(STEP, "the gradient's rms norm g_rms stands for the typical ‖g‖"),
        parameters=("grad_rms", "angle"),
        derive=_derive_random_walk,
        numeric=_random_walk_numeric,
        codegen=False,
        notes="With angle = 0.8·π/2 (the classifier's divergence threshold): the random-walk boundary.",
    )
)
register(
    Derivation(
        name="toy.linear_multiplier",
        title="Multiplier of the linearized sphere step at a minimum: 1 − ELR·h·s",
        source=SOURCE,
        assumptions=(STEP, "first order in the displacement from the minimum"),
        parameters=("elr", "curvature", "noise_factor"),
        derive=_derive_multiplier,
        numeric=_multiplier_numeric,
        codegen=False,
        notes="Deterministic stability: ELR·λ_max(tangent Hessian) < 2 (exact for the linearized map).",
    )
)


class _LyapunovDerivation(Derivation):
    """The Lyapunov exponent's sympy object is an unevaluated integral: evaluate it with mpmath (30 digits),
    splitting the range at the integrand's logarithmic singularity."""

    def evaluate_symbolic(self, **values: float) -> float:
        import mpmath
        import sympy as sp

        subs = {sym: values[name] for name, sym in self.symbols.items()}
        integral = self.expr.subs(subs)
        (eps,) = integral.variables
        f = sp.lambdify(eps, integral.function, "mpmath")
        x = values["elr"] * values["curvature"]
        # the Gaussian weight is below 1e-340 beyond |ε| = 40; split at the singularity and on a unit grid so
        # that the (tanh-sinh) quadrature resolves the bulk wherever the singularity lies
        pts = {float(k) for k in range(-40, 41, 2)}
        if values["mult_noise"] > 0 and x > 0:
            sing = (1 / x - 1) / values["mult_noise"]
            if -40 < sing < 40:
                pts.add(sing)
        with mpmath.workdps(30):
            return float(mpmath.quad(f, sorted(pts)))


register(
    _LyapunovDerivation(
        name="toy.lyapunov_exponent",
        title="Lyapunov exponent of a minimum under multiplicative gradient noise",
        source=SOURCE,
        assumptions=(STEP, "first order in the displacement", "i.i.d. Gaussian noise factor 1 + σ_m ε"),
        parameters=("elr", "curvature", "mult_noise"),
        derive=_derive_lyapunov,
        numeric=lyapunov_exponent,
        codegen=False,
        notes="No closed form; the numeric function integrates by quadrature and is tested against "
        "Monte Carlo and against the σ_m = 0 limit log|1 − ELR·h|.",
    )
)
register(
    Derivation(
        name="toy.gibbs_density",
        title="Small-ELR stationary density under additive noise: exp(−2f/(ELR·σ_a²))",
        source=SOURCE,
        assumptions=(STEP, "first order in ELR (diffusion limit)", "additive isotropic tangential noise"),
        parameters=("loss_value", "elr", "add_noise"),
        derive=_derive_gibbs,
        numeric=_gibbs_numeric,
        codegen=False,
        notes="Unnormalized. Checked against the histogram of ⟨u, e₁⟩ for the two-well toy with σ_m = 0.",
    )
)


def derivation(name: str) -> Derivation:
    """The registered derivation ``name``, importing this module and :mod:`.nrq` first (so that they are
    registered even where the registry's import list in ``theory/__init__.py`` does not name them)."""
    from . import get
    from . import nrq as _nrq  # noqa: F401

    return get(name)
