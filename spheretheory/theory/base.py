"""Derivation objects: one named result of the theory, derived with sympy, evaluated with numpy.

A :class:`Derivation` couples

* a *derive* function that builds the result with sympy from an update rule (run lazily, on first access of
  :attr:`Derivation.expr`, :attr:`Derivation.steps` or :attr:`Derivation.latex`), and
* a *numeric* function: a vectorized numpy function of the derivation's parameters. For closed-form results it is
  generated from the sympy expression by :mod:`spheretheory.theory.codegen` into
  ``spheretheory/theory/_generated.py`` (so the prediction path never imports sympy); a test regenerates the
  file and fails when it drifts from the derivations. Results without a closed form (an exact iteration, an
  eigenvalue of a Jacobian) carry a hand-written numeric function, tested against the sympy object.

Derivation modules must not import sympy at module level: import it inside the ``derive`` function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

#: LaTeX for the canonical parameter names (the symbols' names are the numeric functions' argument names).
LATEX_NAMES: dict[str, str] = {
    "lr": r"\eta",
    "weight_decay": r"\lambda",
    "momentum": r"\alpha",
    "unit_grad_sq": "L",
    "sq_norm": r"\|w\|^2",
    "w_dot_v": r"\langle w, v\rangle",
    "v_sq_norm": r"\|v\|^2",
    "factor": "k",
    "rtol": "r",
    "beta1": r"\beta_1",
    "beta2": r"\beta_2",
    "eps": r"\epsilon",
    "dim": "d",
}


@dataclass(frozen=True)
class Step:
    """One step of a derivation: what was done, and the sympy object it produced."""

    description: str
    expr: Any = None

    def render(self) -> str:
        if self.expr is None:
            return self.description
        return f"{self.description}\n      {self.expr}"


@dataclass(frozen=True)
class DerivationResult:
    """What a ``derive`` function returns.

    Attributes
    ----------
    expr:
        The final sympy expression (a function of the symbols named in ``Derivation.parameters``).
    steps:
        The derivation steps, in order, each with the intermediate sympy object.
    extra:
        Other named sympy objects produced along the way (e.g. the next-order term of a series).
    """

    expr: Any
    steps: tuple[Step, ...]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class Derivation:
    """A named result of the theory.

    Parameters
    ----------
    name:
        Registry key, e.g. ``"sgd.equilibrium_sq_norm"``.
    title:
        One-line human description.
    source:
        Paper and equation the result corresponds to (or ``"derived here"``).
    assumptions:
        The assumptions each step uses, in words.
    parameters:
        Names of the numeric function's arguments, in order; they are also the sympy symbol names.
    derive:
        Zero-argument function returning a :class:`DerivationResult` (runs sympy).
    numeric:
        Vectorized numpy implementation, called with the parameters as keyword arguments.
    codegen:
        ``True`` when ``numeric`` is generated from ``expr`` into ``_generated.py``.
    scalar_twin:
        ``True`` when a kernel compiles the expression with numba: codegen then also emits ``<name>__scalar``
        (no broadcasting helpers), as the LR-drop iteration needs for ``sgd.norm_recursion``. Off by default,
        so that no unused twin is generated.
    notes:
        Free text: how the result compares with the paper, validity range, etc.
    """

    name: str
    title: str
    source: str
    assumptions: Sequence[str]
    parameters: Sequence[str]
    derive: Callable[[], DerivationResult]
    numeric: Callable[..., Any]
    codegen: bool = True
    scalar_twin: bool = False
    notes: str = ""

    @cached_property
    def result(self) -> DerivationResult:
        """The sympy derivation (computed once, on first access)."""
        return self.derive()

    @property
    def expr(self) -> Any:
        """The final sympy expression."""
        return self.result.expr

    @property
    def steps(self) -> tuple[Step, ...]:
        return self.result.steps

    @property
    def latex(self) -> str:
        """LaTeX of :attr:`expr`, with the paper's symbols (η, λ, α, L, ...)."""
        import sympy

        names = {s: LATEX_NAMES[s.name] for s in getattr(self.expr, "free_symbols", ()) if s.name in LATEX_NAMES}
        return sympy.latex(self.expr, symbol_names=names)

    @property
    def symbols(self) -> dict[str, Any]:
        """The free symbols of :attr:`expr`, by name."""
        return {s.name: s for s in self.expr.free_symbols}

    def __call__(self, **kwargs: Any) -> Any:
        """Evaluate the numeric function (vectorized over array arguments)."""
        return self.numeric(**kwargs)

    def evaluate_symbolic(self, **values: float) -> float:
        """Evaluate the sympy expression at the given parameter values (high precision, slow)."""
        import sympy

        subs = {sym: sympy.Float(values[name], 30) for name, sym in self.symbols.items()}
        return float(sympy.N(self.expr.subs(subs), 30))

    def describe(self) -> str:
        """A readable, multi-line account: statement, source, assumptions, steps, LaTeX, notes."""
        lines = [f"{self.name}: {self.title}", f"  source: {self.source}"]
        lines.append(f"  parameters: {', '.join(self.parameters)}")
        lines.append("  assumptions:")
        lines += [f"    - {a}" for a in self.assumptions] or ["    (none)"]
        lines.append("  derivation:")
        for i, step in enumerate(self.steps, 1):
            lines.append(f"    {i}. {step.render()}")
        lines.append(f"  result: {self.expr}")
        lines.append(f"  LaTeX: {self.latex}")
        lines.append(f"  numeric: {'generated from the expression' if self.codegen else 'hand-written'}")
        if self.notes:
            lines.append("  notes:")
            lines += [f"    {line}" for line in self.notes.strip().splitlines()]
        return "\n".join(lines)
