"""Li & Arora (2020), "An exponential learning rate schedule for deep learning": SGD with weight decay and momentum
on a scale-invariant loss is the same run as weight-decay-free SGD with momentum and an exponentially growing LR.

The statement checked (theory brief Sec. 8; no paper text on file in /work/shared/papers, theorem number
unconfirmed): SGD+WD (η, λ) with momentum γ (PyTorch buffer) ≡ WD-free training with η̃_t = η·r^{−2t−1}, where r is
the larger root of r² − (1 + γ − ηλ)r + γ = 0, and w̃_t = r^{−t}·w_t.

Derived here from the two update rules in position (two-step) form, with scale invariance ∇L(cw) = ∇L(w)/c
(Wan et al. Lemma 1). No sympy at module level.
"""

from __future__ import annotations

from . import register
from ._numeric import generated
from .base import Derivation, DerivationResult, Step

PAPER = "Li & Arora (2020), An exponential learning rate schedule for deep learning (ICLR 2020)"
SOURCE = (
    "Li & Arora (2020), main theorem (number unconfirmed: no paper text on file in /work/shared/papers; the "
    "statement is the theory brief's, Sec. 8)"
)
PARAMS = ("lr", "weight_decay", "momentum")

A_SCALE = "scale invariance: L(cw) = L(w) for c > 0, hence ∇L(cw) = ∇L(w)/c (Wan et al. Lemma 1), per mini-batch"
A_SAME_BATCHES = "both runs see the same sequence of (scale-invariant) mini-batch losses L_t"
A_PYTORCH = (
    "PyTorch heavy ball (dampening 0): v_t = γv_{t−1} + ∇L_t(w_t) + λw_t, w_{t+1} = w_t − ηv_t, v_{−1} = 0; the "
    "WD-free run: ṽ_t = γṽ_{t−1} + ∇L_t(w̃_t), w̃_{t+1} = w̃_t − η̃_tṽ_t"
)
A_REAL = "real roots: ηλ ≤ (1 − √γ)² (the discriminant (1 + γ − ηλ)² − 4γ ≥ 0)"
A_BUFFER = (
    "the WD-free buffer starts at the image of the WD run's start: ṽ_{−1} = −(1 − r)/(ηr)·w₀ (w̃_{−1} = r·w_{−1} "
    "with w_{−1} = w₀); with γ = 0 the buffer plays no part"
)


def _symbols():
    import sympy as sp

    from . import _sym as S

    t = sp.Symbol("step", nonnegative=True, integer=True)
    r = sp.Symbol("r", positive=True)
    return S.lr, S.weight_decay, S.momentum, t, r


def _derive_root() -> DerivationResult:
    import sympy as sp

    eta, lam, gam, t, r = _symbols()
    # position form of both runs, with symbols for the iterates and the gradient at w_t
    w0, w1, g = sp.symbols("w_t w_tm1 g_t")  # w_t, w_{t−1}, ∇L_t(w_t) (one coordinate: the identity is linear)
    wd_next = (1 + gam - eta * lam) * w0 - gam * w1 - eta * g
    c = sp.Function("c")
    et = sp.Function("etatilde")
    # WD-free: w̃_{t+1} = w̃_t + (η̃_t/η̃_{t−1})γ(w̃_t − w̃_{t−1}) − η̃_t ∇L_t(w̃_t), with w̃_s = c_s w_s and
    # ∇L_t(c_t w_t) = ∇L_t(w_t)/c_t (scale invariance)
    wt0, wt1 = c(t) * w0, c(t - 1) * w1
    free_next = wt0 + et(t) / et(t - 1) * gam * (wt0 - wt1) - et(t) * g / c(t)
    implied = sp.expand(free_next / c(t + 1))  # the w_{t+1} the WD-free run implies
    coeffs = [sp.simplify(implied.coeff(x)) for x in (w0, w1, g)]
    # the ansatz c_t = r^{−t}, η̃_t = η c_t c_{t+1} = η r^{−2t−1}
    ansatz = {c(t + 1): r ** (-t - 1), c(t): r ** (-t), c(t - 1): r ** (-t + 1)}
    ansatz_lr = {et(t): eta * r ** (-2 * t - 1), et(t - 1): eta * r ** (-2 * t + 1)}
    sub = [sp.simplify(sp.powsimp(e.subs(ansatz_lr).subs(ansatz), force=True)) for e in coeffs]
    target = [wd_next.coeff(x) for x in (w0, w1, g)]
    residual = [sp.simplify(a - b) for a, b in zip(sub, target, strict=True)]
    quadratic = sp.expand(sp.numer(sp.together(residual[0])) * sp.sign(sp.numer(sp.together(residual[0])).coeff(r, 2)))
    roots = sp.solve(sp.Eq(quadratic, 0), r)
    disc = sp.discriminant(quadratic, r)
    larger = (1 + gam - eta * lam + sp.sqrt(disc)) / 2
    if not any(sp.simplify(x - larger) == 0 for x in roots):  # pragma: no cover - a derivation bug
        raise AssertionError(f"the larger root {larger} is not among {roots}")
    sgd = sp.factor(quadratic.subs(gam, 0))  # r(r − (1 − ηλ)): roots 0 and 1 − ηλ
    # initial buffer per unit w₀: ṽ_{−1} = (w̃_{−1} − w̃_0)/η̃_{−1} with w̃_{−1} = c_{−1}w_{−1} = r·w₀, η̃_{−1} = ηr
    buffer = sp.simplify((r - 1) / (eta * r))
    steps = (
        Step(
            "WD run (PyTorch heavy ball, coupled λ) in position form, v_{t−1} = (w_{t−1} − w_t)/η: "
            "w_{t+1} = (1 + γ − ηλ)w_t − γw_{t−1} − η∇L_t(w_t) (v_{−1} = 0 ⇔ w_{−1} = w₀)",
            wd_next,
        ),
        Step(
            "WD-free run with LR η̃_t, position form: w̃_{t+1} = w̃_t + (η̃_t/η̃_{t−1})γ(w̃_t − w̃_{t−1}) − η̃_t∇L_t(w̃_t); "
            "with w̃_s = c_s w_s and ∇L_t(c_t w_t) = ∇L_t(w_t)/c_t it implies w_{t+1} = w̃_{t+1}/c_{t+1} =",
            implied,
        ),
        Step("Coefficients of (w_t, w_{t−1}, ∇L_t(w_t)) the WD-free run implies", sp.Tuple(*coeffs)),
        Step(
            "Ansatz c_t = r^{−t}, η̃_t = η c_t c_{t+1} = η r^{−2t−1}: the coefficients become",
            sp.Tuple(*sub),
        ),
        Step(
            "Minus the WD run's (1 + γ − ηλ, −γ, −η): the w_{t−1} and gradient terms match identically; the w_t term "
            "vanishes iff r + γ/r = 1 + γ − ηλ",
            sp.Tuple(*residual),
        ),
        Step("i.e. the quadratic (= 0)", quadratic),
        Step(
            "Roots (any nonzero root makes the identity hold; their product is γ). Discriminant (real roots iff "
            "ηλ ≤ (1 − √γ)²):",
            disc,
        ),
        Step("The larger root r (the slower-growing LR schedule η̃_t = η r^{−2t−1})", larger),
        Step(
            "γ = 0 (plain SGD): the quadratic factors as below, so r = 1 − ηλ (the nonzero root), "
            "η̃_t = η(1 − ηλ)^{−2t−1}, w̃_t = (1 − ηλ)^{−t}w_t",
            sgd,
        ),
        Step(
            "Start: w̃_0 = w_0; the WD run's w_{−1} = w₀ maps to w̃_{−1} = r·w₀, i.e. an initial WD-free buffer "
            "ṽ_{−1} = (w̃_{−1} − w̃_0)/η̃_{−1} = (per unit w₀)",
            buffer,
        ),
    )
    return DerivationResult(larger, steps, {"residual": residual, "quadratic": quadratic, "sgd": sgd,
                                           "buffer": buffer})  # fmt: skip


ROOT = register(
    Derivation(
        name="li_arora.growth_root",
        title="Li & Arora: the root r of r² − (1 + γ − ηλ)r + γ = 0 that maps SGD+WD+momentum to WD-free exp-LR SGD",
        source=SOURCE,
        assumptions=(A_SCALE, A_SAME_BATCHES, A_PYTORCH, A_REAL, A_BUFFER),
        parameters=PARAMS,
        derive=_derive_root,
        numeric=generated("li_arora.growth_root"),
        notes="Exact, any ηλ with real roots; no mean field, no noise model: an identity of the two update rules.\n"
        "Both roots work algebraically (the brief's 'larger root' gives the slower LR growth). With γ > 0 the\n"
        "WD-free buffer must start at −(1 − r)/(ηr)·w₀ (li_arora.initial_buffer), not at 0: with a zero buffer the\n"
        "runs differ from step 1 (measured in claims liarora2020.exp_lr_equivalence).",
    )
)


def _derive_schedule() -> DerivationResult:
    import sympy as sp

    eta, lam, gam, t, r = _symbols()
    rr = ROOT.expr
    expr = eta * rr ** (-2 * t - 1)
    ratio = sp.simplify(sp.powsimp((eta * r ** (-2 * (t + 1) - 1)) / (eta * r ** (-2 * t - 1)), force=True))
    steps = (
        Step("η̃_t = η c_t c_{t+1} with c_t = r^{−t} (li_arora.growth_root)", eta * r ** (-2 * t - 1)),
        Step("Per-step growth factor η̃_{t+1}/η̃_t (exponential LR)", ratio),
        Step("With r the larger root", expr),
    )
    return DerivationResult(expr, steps)


register(
    Derivation(
        name="li_arora.lr_schedule",
        title="Li & Arora: the WD-free learning rate η̃_t = η·r^{−2t−1} equivalent to SGD+WD (η, λ, momentum γ)",
        source=SOURCE,
        assumptions=(A_SCALE, A_SAME_BATCHES, A_PYTORCH, A_REAL, A_BUFFER),
        parameters=(*PARAMS, "step"),
        derive=_derive_schedule,
        numeric=generated("li_arora.lr_schedule"),
        notes="Grows by r^{−2} per step (≈ 1 + 2ηλ/(1 − γ) for small ηλ); overflows float64 once\n"
        "(2t + 1)·ln(1/r) > 709.",
    )
)


def _derive_buffer() -> DerivationResult:

    eta, lam, gam, t, r = _symbols()
    expr = ROOT.result.extra["buffer"].subs(r, ROOT.expr)
    steps = (
        Step("ṽ_{−1}/w₀ = (r − 1)/(ηr) (li_arora.growth_root, last step)", ROOT.result.extra["buffer"]),
        Step("With r the larger root", expr),
    )
    return DerivationResult(expr, steps)


register(
    Derivation(
        name="li_arora.initial_buffer",
        title="Li & Arora: the WD-free run's initial momentum buffer, per unit w₀, that makes the equivalence exact",
        source="derived here (the image of the WD run's v_{−1} = 0 under w̃_t = r^{−t}w_t)",
        assumptions=(A_SCALE, A_PYTORCH, A_REAL),
        parameters=PARAMS,
        derive=_derive_buffer,
        numeric=generated("li_arora.initial_buffer"),
        notes="Radial (∥ w₀): ṽ_{−1} ≈ −λ/(1 − γ)·w₀ for small ηλ. It enters the update only through γṽ_{−1}, so\n"
        "it is irrelevant for plain SGD (γ = 0).",
    )
)
