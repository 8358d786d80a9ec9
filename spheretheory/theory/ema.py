"""Weight decay as an exponential moving average (Wang & Aitchison 2024): with decoupled decay,
x_{t+1} = (1 − ηλ)x_t − ηu_t is an EMA of the updates −u_t/λ with weight ηλ, timescale τ_iter = 1/(ηλ) iterations.

Used by ``spheretheory predict --solve`` (the target ``tau_iter``). No sympy at module level.
"""

from __future__ import annotations

from . import register
from ._numeric import generated
from .base import Derivation, DerivationResult, Step


def _derive() -> DerivationResult:
    import sympy as sp

    from . import _sym as S

    eta, lam = S.lr, S.weight_decay
    x, u = sp.symbols("x_t u_t")
    update = (1 - eta * lam) * x - eta * u
    ema = (1 - eta * lam) * x + eta * lam * (-u / lam)
    same = sp.simplify(update - ema)
    tau = 1 / (eta * lam)
    efold = -1 / sp.log(1 - eta * lam)  # steps for the weight of a past update to fall by e
    eps = sp.Symbol("epsilon", positive=True)
    series = sp.series(efold.subs(lam, eps / eta), eps, 0, 1).removeO().subs(eps, eta * lam)
    steps = (
        Step("Decoupled weight decay (AdamW, SGDW): x_{t+1} = (1 − ηλ)x_t − ηu_t", update),
        Step("Written as an EMA with weight ηλ of the targets −u_t/λ (difference must be 0)", same),
        Step("Wang & Aitchison's timescale τ_iter = 1/(ηλ) iterations (τ_epoch = τ_iter/M, M iterations/epoch)", tau),
        Step("Beside it, the e-folding time −1/ln(1 − ηλ) of a past update's weight: 1/(ηλ) − 1/2 + O(ηλ)", series),
    )
    return DerivationResult(tau, steps, {"check": same, "e_folding": efold})


register(
    Derivation(
        name="ema.timescale",
        title="EMA timescale of weight decay, τ_iter = 1/(ηλ) iterations (Wang & Aitchison 2024)",
        source="Wang & Aitchison (2024), AdamW as an EMA (theory brief Sec. 8; no paper text on file)",
        assumptions=("decoupled decay x ← (1 − ηλ)x − η·update (for coupled λ on a scale-invariant weight the same "
                     "factor 1 − ηλ multiplies the weight each step)",),
        parameters=("lr", "weight_decay"),
        derive=_derive,
        numeric=generated("ema.timescale"),
        notes="A definition (the EMA weight's inverse), not an approximation; the e-folding time differs by 1/2 step.",
    )
)  # fmt: skip
