"""Heatmaps of a sweep (figure code of the ``sweep`` command, outside the library): relative error and |z| of
the exact prediction over two grid axes, failing cells marked."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import InputError

#: axis labels (with units; the hyperparameters are dimensionless)
LABELS: dict[str, str] = {
    "lr": r"learning rate $\eta$ (dimensionless)",
    "weight_decay": r"weight decay $\lambda$ (dimensionless)",
    "momentum": r"momentum $\alpha$ (dimensionless)",
    "unit_grad_sq": r"$L = E\|\tilde g\|^2$ (squared unit-gradient norm)",
    "beta1": r"$\beta_1$ (dimensionless)",
    "beta2": r"$\beta_2$ (dimensionless)",
    "eps": r"$\epsilon$ (dimensionless)",
    "dim": r"dimension $d$ (number of weights)",
    "steps": "iterations",
    "trajectories": "trajectories per point",
    "init_norm": r"initial $\|w_0\|$",
    "optimizer": "optimizer",
    "dtype": "dtype",
}
QUANTITY_LABELS = {
    "angular_update": r"angular update $\Delta$ (rad)",
    "sq_norm": r"$\|w\|^2$",
    "effective_lr": r"effective learning rate $\eta/\|w\|^2$",
}


def choose_axes(grid: dict[str, Any], spec: str | None) -> tuple[str, str]:
    """The two axes of the heatmaps (from ``X,Y``, or the first two axes of the grid)."""
    axes = [k for k, v in grid.items() if isinstance(v, list) and len(v) > 1]
    if spec is None:
        if len(axes) < 2:
            raise InputError(f"--plot needs two grid axes with several values; this grid has {axes or 'none'}")
        return axes[0], axes[1]
    from ..sweep import ALIASES

    names = [ALIASES.get(s.strip(), s.strip()) for s in spec.split(",")]
    if len(names) != 2 or names[0] == names[1] or any(n not in axes for n in names):
        raise InputError(f"--plot-axes must name two different grid axes among {', '.join(axes)}; got {spec!r}")
    return names[0], names[1]


def _edges(values: np.ndarray) -> tuple[np.ndarray, bool]:
    v = np.asarray(values, dtype=float)
    log = bool(np.all(v > 0) and v.size > 2 and v.max() / v.min() > 20)
    x = np.log10(v) if log else v
    if x.size == 1:
        e = np.array([x[0] - 0.5, x[0] + 0.5])
    else:
        mid = (x[1:] + x[:-1]) / 2
        e = np.concatenate([[x[0] - (mid[0] - x[0])], mid, [x[-1] + (x[-1] - mid[-1])]])
    return (10**e if log else e), log


def plot_heatmaps(ds: Any, path: str, axes: tuple[str, str]) -> str:
    """Write relative error and |z| (exact form) over ``axes``; cells that fail (|z| > z* beyond the first-order
    allowance) are marked ×. Further axes are fixed at their first value (named in the title)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm, TwoSlopeNorm

    x, y = axes
    others = {d: ds[d].values[0] for d in ds.sizes if d not in axes}
    sub = ds.isel({d: 0 for d in others}).transpose(y, x)
    z_star = float(ds.attrs["z_threshold"])
    fig, panels = plt.subplots(1, 2, figsize=(11, 4.4), constrained_layout=True)
    numeric = [ds[a].dtype.kind in "if" for a in (x, y)]
    for ax, name in zip(panels, ("rel_error_exact", "z_exact"), strict=True):
        data = sub[name].values.astype(float)
        if name == "z_exact":
            data = np.abs(data)
            finite = data[np.isfinite(data) & (data > 0)]
            lo = max(min(finite.min(), z_star / 10), 1e-3) if finite.size else 0.1
            hi = max(finite.max(), z_star * 10) if finite.size else 100
            norm, cmap = LogNorm(lo, hi), "viridis"
            label = r"$|z| = |m - p|/\mathrm{SE}$ (exact form; SE across trajectories)"
        else:
            finite = np.abs(data[np.isfinite(data)])
            m = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
            norm, cmap = TwoSlopeNorm(0.0, -m, m), "RdBu_r"
            label = r"relative error $(m - p)/|p|$ (exact form)"
        if all(numeric):
            ex, logx = _edges(sub[x].values)
            ey, logy = _edges(sub[y].values)
            mesh = ax.pcolormesh(ex, ey, np.ma.masked_invalid(data), norm=norm, cmap=cmap)
            if logx:
                ax.set_xscale("log")
            if logy:
                ax.set_yscale("log")
            cx, cy = np.meshgrid(sub[x].values.astype(float), sub[y].values.astype(float))
        else:
            mesh = ax.imshow(np.ma.masked_invalid(data), norm=norm, cmap=cmap, origin="lower", aspect="auto")
            ax.set_xticks(range(sub.sizes[x]), [str(v) for v in sub[x].values])
            ax.set_yticks(range(sub.sizes[y]), [str(v) for v in sub[y].values])
            cx, cy = np.meshgrid(np.arange(sub.sizes[x]), np.arange(sub.sizes[y]))
        fails = sub["fails"].values.astype(bool)
        if fails.any():
            ax.plot(
                cx[fails], cy[fails], "x", color="k", ms=7, mew=1.5, label=f"fails: |z| > {z_star:g} beyond allowance"
            )
            ax.legend(loc="upper left", fontsize=7, framealpha=0.8)
        fig.colorbar(mesh, ax=ax, label=label)
        ax.set_xlabel(LABELS.get(x, x))
        ax.set_ylabel(LABELS.get(y, y))
    fixed = {k: ds.coords[k].item() for k in ds.coords if k not in ds.sizes}
    fixed.update(others)
    q = QUANTITY_LABELS.get(ds.attrs["quantity"], ds.attrs["quantity"])
    where = ", ".join(f"{k}={v:g}" if isinstance(v, (int, float, np.number)) else f"{k}={v}" for k, v in fixed.items())
    fig.suptitle(
        f"equilibrium {q}: simulation vs exact prediction ({ds.attrs['method']} method)"
        + (f"\n{where}" if where else ""),
        fontsize=10,
    )
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
