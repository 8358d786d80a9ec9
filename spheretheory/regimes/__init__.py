"""The three regimes of training on the sphere at a fixed ELR (Kodryan et al. 2022): classifier and ELR sweep.

* :func:`classify` — ``convergence`` / ``chaotic_equilibrium`` / ``divergence`` (or ``undetermined``: run too
  short) from measured statistics;
* :func:`sweep` — an ELR sweep over several seeds with the derived boundaries (a phase diagram);
* :func:`plot_phase_diagram` — the figure (matplotlib, imported lazily).
"""

from .classify import OUTCOMES, REGIMES, UNDETERMINED, RegimeResult, classify

__all__ = [
    "OUTCOMES",
    "REGIMES",
    "UNDETERMINED",
    "RegimeResult",
    "classify",
    "sweep",
    "PhaseDiagram",
    "plot_phase_diagram",
]


def __getattr__(name: str):
    if name in ("sweep", "PhaseDiagram", "plot_phase_diagram", "make_model"):
        from . import phase as _phase

        return getattr(_phase, name)
    raise AttributeError(f"module 'spheretheory.regimes' has no attribute {name!r}")
