"""The figures and numbers of ``docs/schedules.md``: predicted (``spheretheory.trajectory``) against simulated runs
under cosine, warmup + cosine, WSD, step drops and AdamW vs AdamC:

    python -m paper_checks.schedules docs/schedule_figures [--quick]     # ≈ 2 min on 2 cores

SGDM runs use the exact reduced-state simulator (``simulate(method="reduced")``); AdamW / AdamC use the full
d-dimensional simulator (``simulate("adamw")``). Simulated curves are means over independent trajectories with
±2 SE bands (SE across trajectories; for the RMS angular update the delta-method SE of √(mean Δ²)). The closed forms
of :mod:`spheretheory.theory.schedule_forms` (freeze point, frozen norm, warmup overshoot) are drawn as markers.
Every number comes from the library (trajectory, simulate, the generated twins); none is typed here.
"""

from __future__ import annotations

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

import spheretheory as st
from spheretheory import schedules as S
from spheretheory.theory import get as _get

#: The issue's SGDM setting (issue 11).
SGDM = dict(lr=0.1, weight_decay=1e-3, momentum=0.9)
DIM, T = 256, 20_000


def _sim_stats(res) -> dict[str, np.ndarray]:
    sq, dl = res.sq_norm[:, 0, :], res.angular_update[:, 0, :]
    n = sq.shape[1]
    m, se = sq.mean(1), sq.std(1, ddof=1) / math.sqrt(n)
    ms = (dl**2).mean(1)
    rms = np.sqrt(ms)
    se_rms = (dl**2).std(1, ddof=1) / math.sqrt(n) / (2 * rms)
    return {"sq_norm": m, "sq_norm_se": se, "rms": rms, "rms_se": se_rms}


def _sgdm_case(name: str, sched, n: int, seed: int, sq_norm0: float | None = None) -> dict[str, Any]:
    """Both start from ‖w₀‖² (default: the first step's equilibrium) with a zero momentum buffer."""
    every = T // 200
    if sq_norm0 is None:
        lr0 = SGDM["lr"] * float(sched.values([0])[0])
        sq_norm0 = float(st.trajectory("sgdm", steps=1, **{**SGDM, "lr": lr0}).sq_norm_equilibrium[0])
    tr = st.trajectory("sgdm", steps=T, lr_schedule=sched, sq_norm0=sq_norm0, every=every, **SGDM)
    a0 = float(tr.sq_norm[0])
    res = st.simulate(
        "sgdm", dim=DIM, steps=T, trajectories=n, lr_schedule=sched, init_norm=math.sqrt(a0), record_every=every,
        method="reduced", seed=seed, progress=False, **SGDM,
    )  # fmt: skip
    return {"name": name, "tr": tr, "sim": _sim_stats(res), "n": n}


def _errors(case: dict[str, Any]) -> dict[str, float]:
    tr, s = case["tr"], case["sim"]
    e_sq = np.abs(tr.sq_norm / s["sq_norm"] - 1)
    e_dl = np.abs(tr.angular_update / s["rms"] - 1)
    return {
        "max_rel_error_sq_norm": float(e_sq.max()),
        "max_rel_error_angular_update": float(e_dl.max()),
        "max_rel_2se_sq_norm": float((2 * s["sq_norm_se"] / s["sq_norm"]).max()),
        "max_rel_2se_angular_update": float((2 * s["rms_se"] / s["rms"]).max()),
        "trajectories": case["n"],
    }


def _plain_log_ticks(a) -> None:
    """Plain numbers (8, 10, 20) instead of 2×10¹ on a log axis that spans less than a decade or two."""
    from matplotlib import ticker

    a.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
    a.yaxis.set_minor_formatter(ticker.FormatStrFormatter("%g"))


def _plot(case: dict[str, Any], path: Path, title: str, marks: list[tuple[str, float, str]] | None = None) -> None:
    plt = C.plt()
    tr, s = case["tr"], case["sim"]
    t = tr.step
    fig, ax = plt.subplots(1, 3, figsize=(13, 3.6))
    ax[0].fill_between(t, s["sq_norm"] - 2 * s["sq_norm_se"], s["sq_norm"] + 2 * s["sq_norm_se"], color="C0",
                       alpha=0.3, lw=0, label="simulated (±2 SE)")  # fmt: skip
    k = slice(0, None, 10)  # the simulated means as points too (the band is narrower than the line)
    ax[0].errorbar(t[k], s["sq_norm"][k], 2 * s["sq_norm_se"][k], fmt="o", ms=2.5, color="C0", lw=0.8)
    ax[1].errorbar(t[k], s["rms"][k], 2 * s["rms_se"][k], fmt="o", ms=2.5, color="C0", lw=0.8)
    ax[0].plot(t, tr.sq_norm, "C3", lw=1.2, label="predicted (trajectory)")
    ax[0].plot(t, tr.sq_norm_equilibrium, "k--", lw=0.9, label="instantaneous equilibrium")
    ax[0].set_ylabel(r"$\mathbb{E}\|w_t\|^2$ (with $L = \mathbb{E}\|\tilde g\|^2 = 1$)")
    ax[0].set_yscale("log")
    _plain_log_ticks(ax[0])
    ax[1].fill_between(t, s["rms"] - 2 * s["rms_se"], s["rms"] + 2 * s["rms_se"], color="C0", alpha=0.3, lw=0,
                       label="simulated (±2 SE)")  # fmt: skip
    ax[1].plot(t, tr.angular_update, "C3", lw=1.2, label="predicted")
    ax[1].plot(t, tr.angular_update_equilibrium, "k--", lw=0.9, label=r"$\Delta^*_t$ (instantaneous)")
    ax[1].set_ylabel(r"RMS angular update $\Delta_t$ (rad)")
    ax[1].set_yscale("log")
    rel_sq = tr.sq_norm / s["sq_norm"] - 1
    rel_dl = tr.angular_update / s["rms"] - 1
    ax[2].fill_between(t, -2 * s["rms_se"] / s["rms"], 2 * s["rms_se"] / s["rms"], color="C1", alpha=0.25, lw=0,
                       label=r"±2 SE of $\Delta_t$")  # fmt: skip
    ax[2].fill_between(t, -2 * s["sq_norm_se"] / s["sq_norm"], 2 * s["sq_norm_se"] / s["sq_norm"], color="C0",
                       alpha=0.3, lw=0, label=r"±2 SE of $\|w\|^2$")  # fmt: skip
    ax[2].plot(t, rel_sq, "C0", lw=1, label=r"$\|w\|^2$")
    ax[2].plot(t, rel_dl, "C1", lw=1, label=r"$\Delta_t$")
    ax[2].axhline(0.02, color="0.5", lw=0.6, ls=":")
    ax[2].axhline(-0.02, color="0.5", lw=0.6, ls=":", label="±2 %")
    ax[2].set_ylabel("predicted / simulated − 1")
    for a in ax:
        a.set_xlabel("step $t$ (iterations)")
        for label, x, style in marks or []:
            a.axvline(x, color="g", ls=style, lw=0.8, label=label if a is ax[0] else None)
    ax[0].legend(fontsize=7)
    ax[1].legend(fontsize=7)
    ax[2].legend(fontsize=7, ncol=2)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _kappa0() -> float:
    kappa, _ = _get("schedule_forms.slow_mode_sgdm")(unit_grad_sq=1.0, **SGDM)
    return float(kappa)


def _frozen(tr, shape: str, D: int) -> dict[str, float]:
    """The closed-form freeze point and final ‖w‖² (SGDM: y = ‖w‖⁴) beside the predicted trajectory's."""
    s_f = float(_get(f"schedule_forms.{shape}_freeze_steps")(rate=_kappa0(), decay_steps=D))
    ratio = float(_get(f"schedule_forms.{shape}_frozen_ratio")(freeze_fraction=s_f / D))
    t_f = T - s_f
    eq_f = float(np.interp(t_f, tr.step, tr.sq_norm_equilibrium))
    return {"freeze_step": t_f, "final_sq_norm_closed_form": math.sqrt(ratio) * eq_f}


def run(out: Path | None, quick: bool = False, seed: int = 0) -> dict[str, Any]:
    n = 64 if quick else 256
    numbers: dict[str, Any] = {}
    sgdm_eq = float(st.trajectory("sgdm", steps=1, **SGDM).sq_norm_equilibrium[0])

    # 1. cosine from equilibrium (the case)
    case = _sgdm_case("cosine", S.Cosine(T), n, seed)  # each case its own seed (independent noise)
    fr = _frozen(case["tr"], "cosine", T)
    numbers["cosine"] = {**_errors(case), **fr, "final_sq_norm_simulated": float(case["sim"]["sq_norm"][-1])}
    if out:
        title = f"SGDM α = 0.9, η₀ = 0.1, λ = 1e-3, cosine over {T} steps, d = {DIM}, {n} runs (exact reduced sim.)"
        _plot(case, out / "cosine.png", title, [("freeze point (closed form)", fr["freeze_step"], ":")])

    # 2. warmup + cosine from a small norm (0.3 of the peak LR's equilibrium)
    W = 2000
    case = _sgdm_case("warmup_cosine", S.Warmup(W, S.Cosine(T - W)), n, seed + 1, sq_norm0=0.3 * sgdm_eq)
    z = _kappa0() * W / 2
    r_w = float(_get("schedule_forms.warmup_sq_norm_ratio")(warmup_relaxation=z, start_ratio=0.3**2,
                                                            warmup_progress=1.0))  # fmt: skip
    i = int(np.argmin(np.abs(case["tr"].step - (W - 1))))
    numbers["warmup_cosine"] = {
        **_errors(case),
        "warmup_relaxation_z": z,
        "overshoot_closed_form": r_w**-0.5,
        "overshoot_trajectory": float(case["tr"].angular_update_lag[i]),
        "overshoot_simulated": float(case["sim"]["rms"][i] / case["tr"].angular_update_equilibrium[i]),
    }
    if out:
        _plot(case, out / "warmup_cosine.png", f"SGDM, linear warmup over {W} steps from ‖w₀‖² = 0.3‖w*‖², then "
              f"cosine; {n} runs (exact reduced simulation)", [("end of warmup", W, "-.")])  # fmt: skip

    # 3. WSD with a 1 − √ cooldown over the last 20 %
    D = T // 5
    case = _sgdm_case("wsd", S.WSD(T, D, "sqrt"), n, seed + 2)
    fr = _frozen(case["tr"], "sqrt", D)
    numbers["wsd_sqrt"] = {**_errors(case), **fr, "final_sq_norm_simulated": float(case["sim"]["sq_norm"][-1])}
    if out:
        _plot(case, out / "wsd.png", f"SGDM, WSD: constant, then a 1 − √ decay over the last {D} steps; {n} runs",
              [("decay starts", T - D, "-."), ("freeze point (closed form)", fr["freeze_step"], ":")])  # fmt: skip

    # 4. step drops ÷10 at 50 % and 75 %
    case = _sgdm_case("multistep", S.MultiStep((T // 2, 3 * T // 4), 0.1), n, seed + 3)
    numbers["multistep"] = _errors(case)
    if out:
        _plot(case, out / "multistep.png", f"SGDM, LR ÷10 at steps {T // 2} and {3 * T // 4}; {n} runs",
              [("LR drop", T // 2, "-."), (None, 3 * T // 4, "-.")])  # fmt: skip

    numbers["adamw_adamc"] = _adam(out, quick, seed + 4)
    if out:
        C.save_numbers(out, "schedules", numbers)
    return numbers


def _adam(out: Path | None, quick: bool, seed: int) -> dict[str, Any]:
    """AdamW and AdamC (λ_t = λη_t/η_max) under warmup + cosine: full d-dimensional simulation vs trajectory."""
    d, n, steps, every = 256, (32 if quick else 128), 6000, 60
    kw = dict(lr=1e-2, weight_decay=0.1, dim=d, beta2=0.99)
    sched = S.Warmup(300, S.Cosine(steps - 300, 0.0))
    a0 = float(st.trajectory("adamw", steps=1, **kw).sq_norm_equilibrium[0])
    got: dict[str, Any] = {}
    curves = {}
    for label, conv in (("AdamW", None), ("AdamC", "adamc")):
        tr = st.trajectory("adamw", steps=steps, lr_schedule=sched, wd_convention=conv, sq_norm0=a0, every=every, **kw)
        res = st.simulate(
            "adamw", kw["lr"], kw["weight_decay"], dim=d, beta2=kw["beta2"], steps=steps, trajectories=n,
            lr_schedule=sched, wd_schedule=sched if conv == "adamc" else None, init_norm=math.sqrt(a0),
            record_every=every, seed=seed, progress=False,
        )  # fmt: skip
        s = _sim_stats(res)
        g_w = 1.0 / s["sq_norm"]  # ‖g‖/‖x‖ = √L/‖x‖² with L = 1
        curves[label] = (tr, s, g_w)
        late = tr.step >= 300
        got[label] = {
            "max_rel_error_sq_norm": float(np.abs(tr.sq_norm / s["sq_norm"] - 1).max()),
            "max_rel_error_angular_update": float(np.abs(tr.angular_update / s["rms"] - 1)[late].max()),
            "max_rel_2se_sq_norm": float((2 * s["sq_norm_se"] / s["sq_norm"]).max()),
            "max_rel_2se_angular_update": float((2 * s["rms_se"] / s["rms"])[late].max()),
            "grad_norm_ratio_rise_simulated": float(g_w[-1] / g_w[np.argmin(np.abs(tr.step - 300))]),
            "grad_norm_ratio_rise_trajectory": float(tr.grad_norm_ratio[-1] / tr.grad_norm_ratio[late][0]),
            "trajectories": n,
        }
    if out:
        plt = C.plt()
        fig, ax = plt.subplots(1, 3, figsize=(13, 3.6))
        for k, (label, (tr, s, g_w)) in enumerate(curves.items()):
            c = f"C{k}"
            t = tr.step
            ax[0].fill_between(t, s["sq_norm"] - 2 * s["sq_norm_se"], s["sq_norm"] + 2 * s["sq_norm_se"], color=c,
                               alpha=0.3, lw=0, label=f"{label} simulated (±2 SE)")  # fmt: skip
            j = slice(k * 5, None, 10)  # simulated means as points (the bands are narrower than the lines)
            ax[0].errorbar(t[j], s["sq_norm"][j], 2 * s["sq_norm_se"][j], fmt="o", ms=2.5, color=c, lw=0.8)
            ax[1].errorbar(t[j], s["rms"][j], 2 * s["rms_se"][j], fmt="o", ms=2.5, color=c, lw=0.8)
            ax[2].errorbar(t[j], g_w[j], 2 * s["sq_norm_se"][j] / s["sq_norm"][j] ** 2, fmt="o", ms=2.5, color=c,
                           lw=0.8, label=f"{label} simulated (±2 SE)")  # fmt: skip
            ax[0].plot(t, tr.sq_norm, color=c, lw=1.2, label=f"{label} predicted")
            ax[0].plot(t, tr.sq_norm_equilibrium, color=c, ls="--", lw=0.8, label=f"{label} inst. equilibrium")
            ax[1].fill_between(t, s["rms"] - 2 * s["rms_se"], s["rms"] + 2 * s["rms_se"], color=c, alpha=0.3, lw=0)
            ax[1].plot(t, tr.angular_update, color=c, lw=1.2, label=f"{label} predicted")
            ax[1].plot(t, tr.angular_update_equilibrium, color=c, ls="--", lw=0.8, label=rf"{label} $\Delta^*_t$")
            gse = 2 * s["sq_norm_se"] / s["sq_norm"] ** 2
            ax[2].fill_between(t, g_w - gse, g_w + gse, color=c, alpha=0.3, lw=0)
            ax[2].plot(t, tr.grad_norm_ratio, color=c, lw=1.2, label=f"{label} predicted")
            ax[2].plot(t, tr.grad_norm_ratio_equilibrium, color=c, ls="--", lw=0.8, label=f"{label} inst. equilibrium")
        ax[0].set_ylabel(r"$\mathbb{E}\|x_t\|^2$ (with $L = 1$)")
        ax[1].set_ylabel(r"RMS angular update $\Delta_t$ (rad)")
        ax[2].set_ylabel(r"$\|g_t\|/\|x_t\| = \sqrt{L}/\|x_t\|^2$ (with $L = 1$)")
        for a in ax:
            a.set_xlabel("step $t$ (iterations)")
            a.set_yscale("log")
            a.legend(fontsize=6.5)
        fig.suptitle(f"AdamW vs AdamC (λ_t = λη_t/η_max), η = 1e-2, λ = 0.1, β₂ = 0.99, d = {d}, warmup 300 + cosine; "
                     f"{n} runs of the full d-dimensional simulation", fontsize=10)  # fmt: skip
        fig.tight_layout()
        fig.savefig(out / "adamw_adamc.png", dpi=110)
        plt.close(fig)
    return got


def main(argv: list[str] | None = None) -> int:
    args = C.parse("Predicted vs simulated runs under schedules (docs/schedules.md)", argv)
    numbers = run(args.out, quick=args.quick, seed=args.seed)
    for k, v in numbers.items():
        print(k, {kk: (round(vv, 4) if isinstance(vv, float) else vv) for kk, vv in v.items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
