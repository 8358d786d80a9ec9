"""The Adam-family figures and measured numbers of ``docs/adam.md`` (Roburin et al. 2020, Kosson et al. 2024, and
the project's own derivations), drawn in our setting:

    python -m paper_checks.adam docs/adam_figures [--only NAME ...]     # ≈ 15 s on 2 cores

Each ``exp_*`` function returns a dict of measured and predicted numbers and, given ``out``, saves a figure; ``main``
writes them all to ``OUT/numbers.json``. Per-step internals (η_e, c, m, v) come from the numpy references of
:mod:`spheretheory.adaptive.reference` (through :mod:`spheretheory.adaptive.runs`, which the claims use too);
equilibrium sweeps use :func:`spheretheory.simulate` (numba backend). Predicted numbers come from
:func:`spheretheory.predict` and the theory engine's generated twins, never typed here. Error bars are ±3 SE across
independent trajectories.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

try:
    from . import _common as C
except ImportError:  # run as a script
    sys.path.insert(0, __import__("os").path.dirname(__file__))
    import _common as C  # type: ignore[no-redef]

from spheretheory.adaptive import sgd_adamg_mapping
from spheretheory.adaptive.measure import decompose_step
from spheretheory.adaptive.oracle import gradient, noise_scale_for
from spheretheory.adaptive.reference import adam_init, adam_step
from spheretheory.adaptive.runs import effective_lr_from_norm, effective_lr_run, sgd_adamg_pair, unit_rows
from spheretheory.prediction import predict
from spheretheory.simulation import simulate
from spheretheory.theory import get as _get


def _predict(name: str, lr, wd, L, d, **hp) -> dict[str, Any]:
    """``predict(name, ...)``'s values as a dict of arrays broadcast to the grid's shape."""
    values = predict(name, lr=lr, weight_decay=wd, unit_grad_sq=L, dim=d, **hp).values
    shape = np.broadcast_shapes(*(np.shape(a) for a in (lr, wd, L, *hp.values())))
    return {k: (np.broadcast_to(v, shape) if isinstance(v, np.ndarray) else v) for k, v in values.items()}


# ----------------------------------------------------------------------------------------------------
# 1. Effective learning rate over a run (and the effect of ε as the norm grows)
# ----------------------------------------------------------------------------------------------------


def exp_effective_lr(out: Path | None = None, **kwargs: Any) -> dict[str, Any]:
    """AdamW from r₀ = 0.5: measured η_e vs the formula from the state and vs η/(r(σ + εr)) from the
    hyperparameters and the norm (:func:`spheretheory.adaptive.runs.effective_lr_run`, whose keyword arguments
    ``kwargs`` are); the figure shows the three, the error of the prediction for AdamW/AdamS/AdamSRT, and the
    1/r → 1/r² turn of η_e as the norm passes σ/ε."""
    run = effective_lr_run(**kwargs)
    res: dict[str, Any] = dict(run.numbers)
    s = run.series
    meas, exact, pred, norms = s["measured"], s["exact"], s["predicted"], s["norm"]
    meas_s, pred_s, meas_rt, pred_rt = (
        s["adams_measured"],
        s["adams_predicted"],
        s["adamsrt_measured"],
        s["adamsrt_predicted"],
    )
    steps, lr, eps, sigma_c = (run.params[k] for k in ("steps", "lr", "eps", "sigma"))
    eq = {"effective_lr": res["eta_e_equilibrium_predicted"]}
    if out is not None:
        plt = C.plt()
        fig, ax = plt.subplots(1, 3, figsize=(16, 4))
        t = np.arange(steps)
        ax[0].semilogy(t, meas.mean(1), label="measured η_e = η/(rν) (per step)")
        ax[0].semilogy(t, exact.mean(1), "--", label="formula from the state (adam.effective_lr.adam)")
        ax[0].semilogy(t, pred.mean(1), ":", lw=2, label="η/(r(σ+εr)) from hyperparameters and r")
        ax[0].axhline(eq["effective_lr"], color="k", lw=0.8, label="predicted equilibrium (predict adamw)")
        ax[0].set_xlabel("step")
        ax[0].set_ylabel("effective learning rate")
        ax[0].legend(fontsize=7)
        ax[0].set_title("AdamW from r₀ = 0.5: measured vs predicted η_e")
        ax[2].semilogy(t, np.median(np.abs(meas / pred - 1), 1), label="AdamW (per-coordinate v, lags the norm)")
        ax[2].semilogy(t, np.median(np.abs(meas_s / pred_s - 1), 1), label="AdamS (group v, not rescaled)")
        ax[2].semilogy(t, np.median(np.abs(meas_rt / pred_rt - 1), 1), label="AdamSRT (v rescaled by ‖x‖²/‖x′‖²)")
        ax[2].semilogy(t, np.median(np.abs(meas / exact - 1), 1) + 1e-17, label="state formula (exact identity)")
        ax[2].set_xlabel("step")
        ax[2].set_ylabel("|measured / predicted − 1| (median)")
        ax[2].set_title("error of η/(r(σ+εr)): the lag of v")
        ax[2].legend(fontsize=7)
        r = norms.ravel()
        order = np.argsort(r)
        ax[1].loglog(r[::7], meas.ravel()[::7], ".", ms=1, alpha=0.3, label="measured")
        ax[1].loglog(r[order], effective_lr_from_norm(lr, r, sigma_c, eps)[order], "k-", label="η/(r(σ+εr))")
        eta_e_no_eps = effective_lr_from_norm(lr, r, sigma_c, 0.0)[order]
        ax[1].loglog(r[order], eta_e_no_eps, "g--", lw=0.8, label="ε = 0: η/(rσ) ∝ 1/r")
        ax[1].axvline(sigma_c / eps, color="r", lw=0.8, label="r = σ/ε")
        ax[1].set_xlabel("norm r")
        ax[1].set_ylabel("η_e")
        ax[1].legend(fontsize=7)
        ax[1].set_title("the effect of ε as the norm grows")
        fig.tight_layout()
        fig.savefig(out / "adam_effective_lr.png", dpi=120)
        plt.close(fig)
    return res


def exp_sgd_adamg(out: Path | None = None, *, seed: int = 0) -> dict[str, Any]:
    """SGD + L2 vs mapped AdamG: gap vs the derived bound, the exact variant, the order of the error.

    * fixed β, far from equilibrium: the relative step-size error after K steps is Σ E_k / (2v) ∝ η_e⁴, so
      r0 → √2 r0 (η_e/2) divides it by 16;
    * at equilibrium (pure noise, G = ‖g̃‖²): η^S/η^A − 1 ≈ −(1−β) E[G²]/(8β E[G]²) ≈ −(ηλ/2)(1 + Var G/E[G]²),
      a bias of order Δ*² (docs/adam.md).
    """
    lr, wd = 0.003, 1.0
    plain = sgd_adamg_pair(lr, wd, 1.0, 300, seed=seed)
    exact = sgd_adamg_pair(lr, wd, 1.0, 300, seed=seed, exact=True)
    half = sgd_adamg_pair(lr, wd, math.sqrt(2.0), 300, seed=seed)
    rel_a = np.abs(plain["eta_s"][99] / plain["eta_a"][99] - 1)
    rel_b = np.abs(half["eta_s"][99] / half["eta_a"][99] - 1)
    res: dict[str, Any] = {
        "final_gap_median": float(np.median(plain["gap"][-1])),
        "final_bound_median": float(np.median(plain["bound"][-1])),
        "final_path_median": float(np.median(plain["path"][-1])),
        "gap_within_bound": bool(np.all(plain["gap"] <= plain["bound"] + 1e-13)),
        "exact_variant_max_gap": float(np.max(exact["gap"])),
        "fixed_beta_step_error_ratio_r0_vs_sqrt2_r0": float(np.median(rel_a / rel_b)),
        "fixed_beta_step_error_ratio_predicted": 16.0,
    }
    d = 16
    eq_rows = []
    for lr_eq, wd_eq in ((0.1, 0.0125), (0.1, 0.05), (0.1, 0.2)):
        r0 = math.sqrt(_get("sgd.equilibrium_sq_norm")(lr=lr_eq, weight_decay=wd_eq, unit_grad_sq=1.0))
        rec = sgd_adamg_pair(lr_eq, wd_eq, r0, 4000, seed=seed + 1, sigma=1 / math.sqrt(d - 1), h=0.0, dim=d, batch=16)
        rel = rec["eta_s"][1500:] / rec["eta_a"][1500:] - 1
        per = rel.mean(axis=0)
        beta = sgd_adamg_mapping(lr_eq, wd_eq, r0)["beta"]
        pred = -(1 - beta) * (1 + 2 / (d - 1)) / (8 * beta)
        eq_rows.append(
            {
                "eta_lambda": lr_eq * wd_eq,
                "step_bias_measured": float(per.mean()),
                "step_bias_se": float(per.std(ddof=1) / math.sqrt(per.size)),
                "step_bias_predicted": float(pred),
                "angular_update_sq_over_4": float(
                    _get("sgd.angular_update")(lr=lr_eq, weight_decay=wd_eq, unit_grad_sq=1.0) ** 2 / 4
                ),
            }
        )
    res["equilibrium_step_bias"] = eq_rows
    if out is not None:
        plt = C.plt()
        fig, ax = plt.subplots(1, 2, figsize=(11, 4))
        t = np.arange(1, 301)
        ax[0].semilogy(t, np.median(plain["gap"], 1), label="‖u_SGD − u_AdamG‖ (measured, median)")
        ax[0].semilogy(t, np.median(plain["bound"], 1), "--", label="derived bound (same run)")
        ax[0].semilogy(t, np.maximum(np.median(exact["gap"], 1), 1e-18), ":", label="AdamG + E_k (exact): rounding")
        ax[0].semilogy(t, np.median(plain["path"], 1), "k-", lw=0.6, label="angular path length")
        ax[0].set_xlabel("step")
        ax[0].set_ylabel("chordal distance")
        ax[0].set_title(f"SGD+L2 (η={lr}, λ={wd}) vs mapped AdamG")
        ax[0].legend(fontsize=7)
        el = [r["eta_lambda"] for r in eq_rows]
        ax[1].errorbar(
            el,
            [-r["step_bias_measured"] for r in eq_rows],
            yerr=[3 * r["step_bias_se"] for r in eq_rows],
            fmt="o",
            label="measured −(η^S/η^A − 1) (±3 SE)",
        )
        ax[1].loglog(el, [-r["step_bias_predicted"] for r in eq_rows], "k-", label="(1−β)E[G²]/(8βE[G]²)")
        ax[1].set_xlabel("ηλ")
        ax[1].set_ylabel("relative step-size bias at equilibrium")
        ax[1].set_title("order 2: the bias is ∝ ηλ ∝ Δ*²")
        ax[1].legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / "sgd_adamg.png", dpi=120)
        plt.close(fig)
    return res


# ----------------------------------------------------------------------------------------------------
# 3. Equilibrium angular update of AdamW and Lion over ηλ (simulate, numba)
# ----------------------------------------------------------------------------------------------------


def exp_equilibria(out: Path | None = None, *, dim: int = 256, trajectories: int = 16, seed: int = 0) -> dict[str, Any]:
    """Measured equilibrium Δ and ‖x‖² of AdamW and Lion on a grid of ηλ vs the derivations."""
    lr = 0.01
    wds = np.array([0.05, 0.1, 0.2, 0.5, 1.0, 2.0])
    el = lr * wds
    res: dict[str, Any] = {"eta_lambda": el.tolist()}
    for name, hp in (("adamw", {"beta1": 0.9, "beta2": 0.999, "eps": 0.0}), ("lion", {"beta1": 0.9, "beta2": 0.99})):
        # run 16 predicted relaxation times (second-moment lag included), average over the last half
        relax = float(np.max(_predict(name, lr, wds, 1.0, dim, **hp)["relaxation_steps"]))
        steps = int(max(3000, 16 * relax))
        res[f"{name}_steps"] = steps
        sim = simulate(
            name,
            lr=lr,
            weight_decay=wds,
            dim=dim,
            steps=steps,
            trajectories=trajectories,
            record="summary",
            seed=seed,
            summary_fraction=0.5,
            **hp,
        )
        stats = sim.equilibrium_stats(quantities=("angular_update", "sq_norm"))
        pred = _predict(name, lr, wds, 1.0, dim, **hp)
        res[name] = {
            "angular_measured": stats["angular_update"].mean.tolist(),
            "angular_se": stats["angular_update"].se.tolist(),
            "angular_predicted": np.asarray(pred["angular_update"]).tolist(),
            "angular_first_order": np.asarray(pred["angular_update_first_order"]).tolist(),
            "sq_norm_measured": stats["sq_norm"].mean.tolist(),
            "sq_norm_se": stats["sq_norm"].se.tolist(),
            "sq_norm_predicted": np.asarray(pred["equilibrium_sq_norm"]).tolist(),
        }
        if name == "lion":
            res[name]["angular_linearized"] = np.asarray(pred["angular_update_linearized"]).tolist()
    if out is not None:
        plt = C.plt()
        fig, ax = plt.subplots(1, 2, figsize=(11, 4))
        for i, name in enumerate(("adamw", "lion")):
            r = res[name]
            a = ax[i]
            a.errorbar(el, r["angular_measured"], yerr=3 * np.array(r["angular_se"]), fmt="o", label="measured (±3 SE)")
            a.loglog(el, r["angular_predicted"], "k-", label="derived, finite ηλ")
            a.loglog(el, r["angular_first_order"], "b--", label="first order in ηλ")
            if name == "lion":
                a.loglog(el, r["angular_linearized"], "r:", label="Kosson et al. (sign linearized)")
            a.set_xlabel("ηλ")
            a.set_ylabel("equilibrium angular update Δ")
            a.set_title({"adamw": "AdamW (β₁=0.9, ε=0)", "lion": "Lion (β₁=0.9, β₂=0.99)"}[name])
            a.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / "adamw_lion_equilibria.png", dpi=120)
        plt.close(fig)
    return res


# ----------------------------------------------------------------------------------------------------
# 4. Adam + coupled L2: the norm follows the gradient norm (no hyperparameter-only value)
# ----------------------------------------------------------------------------------------------------


def exp_adam_l2_scaling(
    out: Path | None = None, *, dim: int = 256, trajectories: int = 16, steps: int | None = None, seed: int = 0
) -> dict[str, Any]:
    """Equilibrium norm of Adam + L2 and of AdamW for unit gradient powers L spanning 256×."""
    Ls = np.array([0.25, 1.0, 4.0, 16.0, 64.0])
    lr, wd = 0.01, 0.01
    res: dict[str, Any] = {"unit_grad_sq": Ls.tolist()}
    if steps is None:  # 16 predicted relaxation times of the slowest grid point
        relax = [
            _predict(n, lr, w, Ls, dim, beta1=0.9, beta2=0.999, eps=0.0)["relaxation_steps"]
            for n, w in (("adam", wd), ("adamw", 0.5))
        ]
        steps = int(16 * float(np.max(relax)))
    res["steps"] = steps
    for name, w in (("adam", wd), ("adamw", 0.5)):
        sim = simulate(
            name,
            lr=lr,
            weight_decay=w,
            unit_grad_sq=Ls,
            dim=dim,
            steps=steps,
            trajectories=trajectories,
            beta1=0.9,
            beta2=0.999,
            eps=0.0,
            record="summary",
            seed=seed,
            summary_fraction=0.4,
        )
        stats = sim.equilibrium_stats(quantities=("sq_norm", "angular_update"))
        pred = _predict(name, lr, w, Ls, dim, beta1=0.9, beta2=0.999, eps=0.0)
        norm = np.sqrt(stats["sq_norm"].mean)
        slope = float(np.polyfit(np.log(np.sqrt(Ls)), np.log(norm), 1)[0])
        res[name] = {
            "norm_measured": norm.tolist(),
            "norm_predicted": np.asarray(pred["equilibrium_norm"]).tolist(),
            "angular_measured": stats["angular_update"].mean.tolist(),
            "angular_predicted": np.asarray(pred["angular_update"]).tolist(),
            "slope_log_norm_vs_log_grad_norm": slope,
            "l2_to_grad_ratio": np.asarray(pred.get("l2_to_grad_ratio", np.nan)).tolist(),
        }
    if out is not None:
        plt = C.plt()
        fig, ax = plt.subplots(1, 2, figsize=(11, 4))
        gn = np.sqrt(Ls)
        for name, style in (("adam", "o"), ("adamw", "s")):
            r = res[name]
            slope = r["slope_log_norm_vs_log_grad_norm"]
            ax[0].loglog(gn, r["norm_measured"], style, label=f"{name} measured (slope {slope:.3f})")
            ax[0].loglog(gn, r["norm_predicted"], "-", label=f"{name} predicted")
            ax[1].loglog(gn, r["angular_measured"], style, label=f"{name} measured")
            ax[1].loglog(gn, r["angular_predicted"], "-", label=f"{name} predicted")
        ax[0].set_xlabel("unit gradient norm ‖g̃‖")
        ax[0].set_ylabel("equilibrium norm")
        ax[0].set_title("Adam+L2: r* ∝ ‖g̃‖^(1/3); AdamW: flat")
        ax[1].set_xlabel("unit gradient norm ‖g̃‖")
        ax[1].set_ylabel("equilibrium angular update")
        for a in ax:
            a.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / "adam_l2_scaling.png", dpi=120)
        plt.close(fig)
    return res


# ----------------------------------------------------------------------------------------------------
# 5. ε at equilibrium (AdamW): the norm shrinks, Δ does not
# ----------------------------------------------------------------------------------------------------


def exp_eps_equilibrium(
    out: Path | None = None, *, dim: int = 256, trajectories: int = 16, steps: int | None = None, seed: int = 0
) -> dict[str, Any]:
    """AdamW equilibrium norm and Δ as ε grows past σ/r* (``adamw.equilibrium_norm_eps``)."""
    lr, wd = 0.01, 0.5
    eps = np.array([0.0, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1])
    if steps is None:  # 16 predicted relaxation times (second-moment lag included); average over the last 40%
        relax = _predict("adamw", lr, wd, 1.0, dim, beta1=0.9, beta2=0.999, eps=eps)["relaxation_steps"]
        steps = int(16 * float(np.max(relax)))
    sim = simulate(
        "adamw",
        lr=lr,
        weight_decay=wd,
        eps=eps,
        dim=dim,
        steps=steps,
        trajectories=trajectories,
        beta1=0.9,
        beta2=0.999,
        record="summary",
        seed=seed,
        summary_fraction=0.4,
    )
    stats = sim.equilibrium_stats(quantities=("sq_norm", "angular_update", "effective_lr"))
    pred = _predict("adamw", lr, wd, 1.0, dim, beta1=0.9, beta2=0.999, eps=eps)
    res = {
        "eps": eps.tolist(),
        "norm_measured": np.sqrt(stats["sq_norm"].mean).tolist(),
        "norm_predicted": np.asarray(pred["equilibrium_norm"]).tolist(),
        "angular_measured": stats["angular_update"].mean.tolist(),
        "angular_predicted": np.asarray(pred["angular_update"]).tolist(),
        "effective_lr_measured": stats["effective_lr"].mean.tolist(),
        "effective_lr_predicted": np.asarray(pred["effective_lr"]).tolist(),
        "eps_ratio_predicted": np.asarray(pred["eps_ratio"]).tolist(),
    }
    if out is not None:
        plt = C.plt()
        fig, ax = plt.subplots(1, 3, figsize=(13, 3.8))
        x = np.maximum(eps, 3e-4)
        for a, key, lab in zip(ax, ("norm", "angular", "effective_lr"), ("equilibrium norm", "Δ", "η_e"), strict=True):
            a.semilogx(x, res[f"{key}_measured"], "o", label="measured")
            a.semilogx(x, res[f"{key}_predicted"], "k-", label="derived")
            a.set_xlabel("ε (ε = 0 drawn at 3e-4)")
            a.set_ylabel(lab)
            a.legend(fontsize=7)
        ax[0].set_title("AdamW: ε shrinks the norm...")
        ax[1].set_title("...but not the angular update")
        ax[2].set_title("effective LR η/(r(σ+εr))")
        fig.tight_layout()
        fig.savefig(out / "adamw_eps.png", dpi=120)
        plt.close(fig)
    return res


# ----------------------------------------------------------------------------------------------------
# 6. The radial part of the momentum; AdamS and AdamSRT
# ----------------------------------------------------------------------------------------------------


def exp_radial_momentum(
    out: Path | None = None,
    *,
    dim: int = 128,
    batch: int = 16,
    steps: int = 3000,
    lr: float = 0.01,
    weight_decay: float = 0.5,
    beta1: float = 0.9,
    seed: int = 0,
) -> dict[str, Any]:
    """Radial fraction c_r/‖c‖ of the effective direction, Δ and ‖x‖² for AdamW, AdamS and AdamSRT.

    Predictions: AdamW/AdamS c_r/‖c‖ = −Q/√(R(0) S) (``adamw.angular_update`` steps), Δ from
    ``adamw.angular_update``; AdamSRT c_r = 0 exactly, ‖x‖² = ``adamsrt.equilibrium_sq_norm`` and
    Δ = arccos(1 − ηλ) (``adamsrt.angular_update``), independent of β₁."""
    rng = np.random.default_rng(seed)
    sig = noise_scale_for(1.0, dim)
    res: dict[str, Any] = {}
    rho = 1 - lr * weight_decay
    f = (1 - beta1) / (1 + beta1)
    S = f * (1 + rho * beta1) / ((1 - rho * beta1) * (1 - rho**2))
    Q = f * beta1 / (1 - rho * beta1)
    series = {}
    for variant in ("adam", "adams", "adamsrt"):
        x0 = unit_rows(rng, (batch, dim))
        state = adam_init(x0, per_group=variant != "adam")
        frac, ang, sq = [], [], []
        for _ in range(steps):
            g = gradient(state.x, rng.standard_normal((batch, dim)), sigma=sig)
            o = adam_step(
                state, g, lr=lr, beta1=beta1, beta2=0.999, eps=0.0, weight_decay=weight_decay, variant=variant
            )
            dec = decompose_step(state.x, o.state.x, o.a, o.b, lr, o.decay)
            frac.append(dec.c_radial / np.linalg.norm(dec.c, axis=-1))
            ang.append(dec.angle)
            sq.append(np.sum(o.state.x**2, axis=-1))
            state = o.state
        frac, ang, sq = np.array(frac), np.array(ang), np.array(sq)
        w = slice(steps // 2, None)
        series[variant] = frac
        res[variant] = {
            "radial_fraction_measured": float(frac[w].mean()),
            "radial_fraction_se": float(frac[w].mean(0).std(ddof=1) / math.sqrt(batch)),
            "angular_measured": float(ang[w].mean()),
            "sq_norm_measured": float(sq[w].mean()),
        }
    for v in ("adam", "adams"):
        res[v]["radial_fraction_predicted"] = float(-Q / math.sqrt(f * S))
        res[v]["angular_predicted"] = float(_get("adamw.angular_update")(lr=lr, weight_decay=weight_decay, beta1=beta1))
        res[v]["sq_norm_predicted"] = float(
            _get("adamw.equilibrium_sq_norm")(lr=lr, weight_decay=weight_decay, dim=dim, beta1=beta1)
        )
    res["adamsrt"]["radial_fraction_predicted"] = 0.0
    res["adamsrt"]["angular_predicted"] = float(_get("adamsrt.angular_update")(lr=lr, weight_decay=weight_decay))
    res["adamsrt"]["sq_norm_predicted"] = float(
        _get("adamsrt.equilibrium_sq_norm")(lr=lr, weight_decay=weight_decay, dim=dim, beta1=beta1)
    )
    if out is not None:
        plt = C.plt()
        fig, ax = plt.subplots(figsize=(6.5, 4))
        t = np.arange(steps)
        for v, c in (("adam", "C0"), ("adams", "C1"), ("adamsrt", "C2")):
            ax.plot(t, series[v].mean(1), color=c, lw=0.8, label=f"{v} measured")
            ax.axhline(res[v]["radial_fraction_predicted"], color=c, ls="--", lw=1)
        ax.set_xlabel("step")
        ax.set_ylabel("⟨c, u⟩/‖c‖ (radial part of the effective direction)")
        ax.set_title(f"Radial part of the momentum (ηλ={lr * weight_decay:g}, β₁={beta1})")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / "radial_momentum.png", dpi=120)
        plt.close(fig)
    return res


# ----------------------------------------------------------------------------------------------------
# 7. Relaxation of the norm with a lagging second moment (AdamW)
# ----------------------------------------------------------------------------------------------------


def exp_relaxation(out: Path | None = None, *, dim: int = 128, trajectories: int = 16, seed: int = 0) -> dict[str, Any]:
    """E-folding time of |E‖x_t‖² − x*| for AdamW vs ``adamw.contraction_lagged_v`` and vs 1/(2ηλ)."""
    lr, wd = 0.01, 0.05
    rows = []
    curves = {}
    for b2 in (0.99, 0.999, 0.9999):
        pred = _predict("adamw", lr, wd, 1.0, dim, beta1=0.9, beta2=b2, eps=0.0)
        tau = float(pred["relaxation_steps"])
        x_star = float(pred["equilibrium_sq_norm"])
        res = simulate(
            "adamw",
            lr=lr,
            weight_decay=wd,
            beta1=0.9,
            beta2=b2,
            eps=0.0,
            dim=dim,
            steps=int(3 * tau),
            trajectories=trajectories,
            record_every=max(1, int(tau // 200)),
            seed=seed,
            init_norm=0.3 * math.sqrt(x_star),
        )
        sq = np.nanmean(res.sq_norm, axis=(1, 2))
        gap = np.abs(sq - x_star)
        t = res.steps
        sel = (t >= tau) & (t <= 2 * tau)
        slope = np.polyfit(t[sel], np.log(gap[sel]), 1)[0]
        rows.append(
            {
                "beta2": b2,
                "relaxation_measured": float(-1 / slope),
                "relaxation_predicted": tau,
                "relaxation_instant_v": float(-1 / math.log((1 - lr * wd) ** 2)),
            }
        )
        curves[b2] = (t, gap / x_star, tau)
    if out is not None:
        plt = C.plt()
        fig, ax = plt.subplots(figsize=(6.5, 4))
        for b2, (t, g, tau) in curves.items():
            (line,) = ax.semilogy(t, g, label=f"β₂={b2} measured")
            ax.semilogy(t, g[np.searchsorted(t, tau)] * np.exp(-(t - tau) / tau), "--", color=line.get_color(), lw=0.8)
        ax.set_xlabel("step")
        ax.set_ylabel("|E‖x‖² − x*| / x*")
        ax.set_title(f"AdamW relaxation (ηλ={lr * wd:g}); dashed: derived slope (lagged v)")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / "adamw_relaxation.png", dpi=120)
        plt.close(fig)
    return {"eta_lambda": lr * wd, "rows": rows}


def exp_lion_dim(out: Path | None = None, *, trajectories: int = 32, seed: int = 1) -> dict[str, Any]:
    """Lion's ‖x‖² offset from the arcsine-law prediction against d: it scales as 1/d (mean-field error)."""
    rows = []
    for d in (64, 256, 1024):
        pred = _predict("lion", 0.01, 0.5, 1.0, d, beta1=0.9, beta2=0.99)
        p = float(pred["equilibrium_sq_norm"])
        sim = simulate(
            "lion",
            lr=0.01,
            weight_decay=0.5,
            beta1=0.9,
            beta2=0.99,
            dim=d,
            steps=8000,
            trajectories=trajectories,
            record="summary",
            seed=seed,
            summary_fraction=0.5,
        )
        s = sim.summary["sq_norm_mean"]
        rel = float(s.mean() / p - 1)
        se = float(s.std(ddof=1) / math.sqrt(s.size) / p)
        rows.append({"dim": d, "rel_offset": rel, "rel_se": se, "rel_offset_times_d": rel * d})
    return {"rows": rows}


EXPERIMENTS = {
    "effective_lr": exp_effective_lr,
    "sgd_adamg": exp_sgd_adamg,
    "equilibria": exp_equilibria,
    "adam_l2_scaling": exp_adam_l2_scaling,
    "eps_equilibrium": exp_eps_equilibrium,
    "radial_momentum": exp_radial_momentum,
    "relaxation": exp_relaxation,
    "lion_dim": exp_lion_dim,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The Adam-family figures and numbers of docs/adam.md.")
    parser.add_argument("out", nargs="?", type=Path, default=Path("out"), help="folder for the PNGs and numbers.json")
    parser.add_argument("--only", nargs="*", choices=sorted(EXPERIMENTS), default=None)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    numbers_path = args.out / "numbers.json"
    numbers = json.loads(numbers_path.read_text()) if numbers_path.exists() else {}
    for name in args.only or sorted(EXPERIMENTS):
        print(f"running {name} ...", flush=True)
        numbers[name] = EXPERIMENTS[name](args.out)
        print(json.dumps(numbers[name], indent=1)[:2000], flush=True)
    numbers_path.write_text(json.dumps(numbers, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
