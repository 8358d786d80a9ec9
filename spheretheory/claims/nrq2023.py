"""Claims of the NRQ abstract (ICLR 2023 submission; theory brief Sec. 6): at equilibrium the convergence rate
and the limiting risk of the Noisy Rayleigh Quotient are set by the angular update; away from equilibrium the
angular update's evolution causes "escape". Measured with training.train_sphere / training.train_free."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _measure as M
from ._core import FAILS, HOLDS, NOT_CHECKABLE, Claim, Outcome, Param, compare, register

PAPER = "NRQ (ICLR 2023 submission), abstract"


def _deriv(name):
    from ..theory.toy import derivation

    return derivation(name)


def _limiting(p: dict[str, Any], *, quick: bool, seed: int) -> Outcome:
    from ..models import NoisyRayleighQuotient
    from ..training import train_sphere

    m = NoisyRayleighQuotient(noise_std=p["sigma"])
    # start at the minimum (the bottom eigenvector of the diagonal H) so the run is at equilibrium after a few
    # relaxation times of the fast directions instead of the slow escape from a random start
    u0 = np.zeros((int(p["runs"]), m.dim))
    u0[:, int(np.argmin(m.eigenvalues))] = 1.0
    tr = train_sphere(
        m, p["elr"], int(p["steps"]), runs=int(p["runs"]), seed=seed, record_every=4, backend="numba", w0=u0
    )
    half = tr.loss.shape[1] // 2
    excess = tr.loss[:, half:].mean(1) - m.min_loss
    delta = float(np.nanmean(tr.angular_update[:, half:]))
    pred = float(_deriv("nrq.excess_risk_first_order")(angular_update=delta, sigma=p["sigma"], dim=m.dim))
    meas, se = float(excess.mean()), float(excess.std(ddof=1) / math.sqrt(excess.size))
    mu_min = float(m.gaps[m.gaps > 0].min())
    # first order in ELR·μ and in E/μ_min (the dropped −2(R − λ_min)x_i term): allowance 2E/μ_min + ELR·μ_max
    fo = 2 * pred / mu_min + p["elr"] * float(m.gaps.max())
    verdict, dev, tol = compare(pred, meas, se, first_order=fo)
    detail = (
        f"Sphere training of the NRQ (d = {m.dim}, σ = {p['sigma']:g}) at ELR {p['elr']:g}: stationary excess risk "
        f"{meas:.4g} ± {se:.2g} vs σ√(d−1)·Δ/4 = {pred:.4g} with the measured Δ = {delta:.4g} (relative "
        f"deviation {dev:+.2e}; first-order allowance {fo:.2g})."
    )
    return Outcome(
        verdict,
        predicted=pred,
        measured=meas,
        se=se,
        tolerance=tol,
        deviation=dev,
        detail=detail,
        counterexample=None if verdict != FAILS else {**p, "measured": meas, "predicted": pred},
        numbers={"angular_update": delta, "first_order_allowance": fo},
    )


register(
    Claim(
        id="nrq2023.limiting_risk",
        paper=PAPER,
        where="abstract",
        statement="At equilibrium the limiting risk of the NRQ is determined by the angular update: "
        "excess risk ≈ σ√(d−1)·Δ/4.",
        domain={
            "elr": Param(0.004, 0.0, 1.0, False, False),
            "sigma": Param(0.5, 0.0, None, False),
            "steps": Param(12000, 200, 1_000_000, integer=True),
            "runs": Param(16, 2, 4096, integer=True),
        },
        derivations=("nrq.excess_risk_first_order", "nrq.direction_variance"),
        method="training.train_sphere (numba kernel) started at the minimum; excess risk and Δ averaged over the "
        "second half; SE across runs.",
        tolerance="holds: within 4 SE; to first order: within 4 SE + (2E/μ_min + ELR·μ_max) relative.",
        check=_limiting,
    )
)


def _rate(p: dict[str, Any], *, quick: bool, seed: int) -> Outcome:
    from ..analysis import relaxation_rate
    from ..models import NoisyRayleighQuotient
    from ..training import train_sphere

    gap, sigma, elr, runs = 0.2, p["sigma"], p["elr"], int(p["runs"])
    m = NoisyRayleighQuotient(eigenvalues=[0.0, gap, 1.0, 1.0, 1.0], noise_std=sigma)
    u0 = np.zeros((runs, 5))
    u0[:, 0], u0[:, 1] = math.sqrt(0.8), math.sqrt(0.2)
    steps = int(max(6 / (4 * gap * elr), 100))
    tr = train_sphere(m, elr, steps, runs=runs, seed=seed, w0=u0, backend="numba")
    target = float(m.predicted_excess_risk(elr))
    series = tr.loss.T  # (T, runs)
    rate, se = M.batched(lambda s: relaxation_rate(tr.steps, s, target, start_fraction=0.05, stop_fraction=0.5), series)
    if not math.isfinite(rate):
        return Outcome(NOT_CHECKABLE, detail="the mean excess risk did not relax through [5 %, 50 %] of its gap")
    delta = float(np.nanmean(tr.angular_update[:, steps // 3 :]))
    pred = float(_deriv("nrq.rate_first_order")(angular_update=delta, sigma=sigma, gap=gap, dim=5))
    verdict, dev, tol = compare(pred, rate, se, first_order=4 * elr * gap + elr * sigma**2 * 5 / (4 * gap))
    detail = (
        f"NRQ (eigenvalues 0, {gap}, 1, 1, 1; σ = {sigma:g}) on the sphere at ELR {elr:g} from x₂² = 0.2: the mean "
        f"excess risk relaxes at {rate:.4g} ± {se:.2g} per step vs 4μΔ/(σ√(d−1)) = {pred:.4g} with the measured "
        f"Δ = {delta:.4g} (relative deviation {dev:+.2e})."
    )
    return Outcome(
        verdict,
        predicted=pred,
        measured=rate,
        se=se,
        tolerance=tol,
        deviation=dev,
        detail=detail,
        counterexample=None if verdict != FAILS else {**p, "rate": rate, "predicted": pred},
        numbers={"angular_update": delta, "steps": steps},
    )


register(
    Claim(
        id="nrq2023.rate",
        paper=PAPER,
        where="abstract",
        statement="At equilibrium the convergence rate of the NRQ is determined by the angular update: "
        "rate ≈ 4μΔ/(σ√(d−1)) per direction of gap μ.",
        domain={
            "elr": Param(0.05, 0.0, 1.0, False, False),
            "sigma": Param(0.3, 0.0, None, False),
            "runs": Param(512, 16, 100_000, integer=True, quick=256),
        },
        derivations=("nrq.rate_first_order", "nrq.direction_rate"),
        method="training.train_sphere from x₂² = 0.2 (5-d NRQ with one small gap); analysis.relaxation_rate of the "
        "run-mean excess risk over [5 %, 50 %] of its gap (SE from 8 batches of runs); Δ measured.",
        tolerance="holds: within 4 SE; to first order: within 4 SE + (4·ELR·μ + ELR·σ²d/(4μ)) relative.",
        check=_rate,
    )
)


def _escape(p: dict[str, Any], *, quick: bool, seed: int) -> Outcome:
    """Free SGD on the NRQ, η divided by k at equilibrium: the loss first drops (Δ falls by k at once), then
    rises back to the new (higher-than-minimum) level as the norm shrinks and Δ grows — "escape"."""
    from ..models import NoisyRayleighQuotient
    from ..simulation import simulate

    model = NoisyRayleighQuotient()
    lr, wd, k, runs = p["lr"], p["weight_decay"], p["factor"], int(p["runs"])
    L = model.noise_std**2 * (model.dim - 1)
    pr_old = M.predict("sgd", lr=lr, weight_decay=wd, unit_grad_sq=L)
    pr_new = M.predict("sgd", lr=lr / k, weight_decay=wd, unit_grad_sq=L)
    # start in the basin (at the minimum direction) with the old equilibrium norm; warm_chunks equilibrate it
    w = np.zeros((runs, model.dim))
    w[:, int(np.argmin(model.eigenvalues))] = math.sqrt(pr_old["equilibrium_sq_norm"])
    chunk = int(p["chunk"])
    warm = int(p["warm_chunks"])
    post = int(max(3 * pr_new["relaxation_steps"] / chunk, 10))
    loss, delta = [], []
    for i in range(warm + post):
        eta = lr if i < warm else lr / k
        res = simulate(
            "sgd",
            lr=eta,
            weight_decay=wd,
            dim=model.dim,
            steps=chunk,
            trajectories=runs,
            model=model,
            w0=w[None],
            seed=seed * 100_003 + i,
            record="summary",
            summary_fraction=1.0,
            progress=False,
        )
        w = res.w_final[0]
        loss.append(model.loss(w))
        delta.append(float(np.nanmean(res.summary["angular_update_mean"])))
    loss = np.array(loss)  # (chunks, runs)
    mean = loss.mean(1)
    # per run: the loss smoothed over 5 chunks after the drop; the dip is the window where the run-mean is lowest,
    # the end the last fifth; the rise end − dip is a paired per-run difference (SE across runs)
    box = np.ones(5) / 5
    smooth = np.apply_along_axis(lambda c: np.convolve(c, box, "valid"), 0, loss[warm:])
    i_min = int(np.argmin(smooth.mean(1)))
    n_end = max(3, (len(loss) - warm) // 5)
    end_runs = loss[-n_end:].mean(0)
    rise = end_runs - smooth[i_min]
    z = float(rise.mean() / (rise.std(ddof=1) / math.sqrt(runs)))
    end_m, end_se = float(end_runs.mean()), float(end_runs.std(ddof=1) / math.sqrt(runs))
    after = smooth.mean(1)
    i_delta = warm + i_min + 2  # the centre of the smoothing window
    delta_rises = delta[i_delta] < delta[-1]
    i_min_delta = i_delta
    verdict = HOLDS if (z > 4 and delta_rises) else FAILS if z < -4 else NOT_CHECKABLE
    detail = (
        f"Free SGD on the NRQ, η = {lr:g} → {lr / k:g} at equilibrium (λ = {wd:g}): after the drop the loss falls to "
        f"{after[i_min]:.4g} (Δ = {delta[i_min_delta]:.3g}) then rises back to {end_m:.4g} ± {end_se:.1g} as Δ "
        f"grows to {delta[-1]:.3g} (new equilibrium Δ* = {pr_new['angular_update']:.3g}): rise z = {z:.1f}."
    )
    return Outcome(
        verdict,
        predicted="dip then rise",
        measured=[float(after[i_min]), end_m],
        se=end_se,
        tolerance=4.0,
        deviation=z,
        detail=detail,
        counterexample=None if verdict != FAILS else {**p, "loss_min": float(after[i_min]), "end": end_m},
        numbers={"loss_curve": mean.tolist(), "angular_update_curve": delta, "chunk": chunk, "drop_chunk": warm},
    )


register(
    Claim(
        id="nrq2023.escape",
        paper=PAPER,
        where="abstract",
        statement="Away from equilibrium the evolution of the angular update causes 'escape': after an LR drop the "
        "loss first falls, then rises again as the angular update grows back.",
        domain={
            "lr": Param(0.1, 0.0, 1.0, False, False),
            "weight_decay": Param(0.01, 0.0, 1.0, False, True),
            "factor": Param(10.0, 1.0, 1000.0, False, True),
            "runs": Param(64, 4, 4096, integer=True),
            "chunk": Param(100, 1, 100_000, integer=True),
            "warm_chunks": Param(30, 2, 10_000, integer=True),
        },
        derivations=("sgd.equilibrium_sq_norm", "sgd.angular_update", "sgd.relaxation_steps"),
        method="spheretheory.simulate(model=NRQ) SGD in chunks (loss evaluated between chunks, exact for SGD), "
        "started at the minimum direction with the old equilibrium norm (warm_chunks chunks to equilibrate), η "
        "divided by k, then three new relaxation times; loss of each run smoothed over 5 chunks.",
        tolerance="holds: the final loss exceeds the post-drop minimum (lowest 5-chunk window of the run mean) by "
        "> 4 SE of the paired per-run difference and Δ grew meanwhile; fails: it is below by > 4 SE; else not "
        "checkable.",
        check=_escape,
    )
)
