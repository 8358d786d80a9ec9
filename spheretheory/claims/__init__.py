"""Claim registry: every published claim the toolkit checks, with a verdict computed at run time.

>>> from spheretheory import claims
>>> [c.id for c in claims.claims(paper="wan2021")][:2]
['wan2021.thm1.equilibrium', 'wan2021.thm2.equilibrium']
>>> r = claims.run("wan2021.thm3", quick=True)            # doctest: +SKIP
>>> r.verdict, r.outcome.measured, r.outcome.se             # doctest: +SKIP

A claim (:class:`Claim`) names its paper and equation, its statement, the hyperparameter domain the paper
asserts it in (:class:`Param`), the derivations of :mod:`spheretheory.theory` it uses, how it is measured and
how the tolerance is derived. Its check runs the existing simulators and returns an :class:`Outcome` whose
verdict — ``holds``, ``holds to first order``, ``fails``, ``not checkable`` or ``not checkable at this size`` (the
standard error exceeds the effect tested) — comes from the measurement.
See ``docs/claims.md``; ``spheretheory check`` runs them from the command line.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

from .._validation import InputError, InputTypeError
from ._core import (
    _REGISTRY,
    FAILS,
    FIRST_ORDER,
    HOLDS,
    NOT_CHECKABLE,
    RELATIONS,
    UNDERPOWERED,
    VERDICTS,
    Claim,
    ClaimResult,
    Outcome,
    Param,
    compare,
    register,
    run_claim,
)

__all__ = [
    "FAILS",
    "FIRST_ORDER",
    "HOLDS",
    "NOT_CHECKABLE",
    "PAPERS",
    "RELATIONS",
    "UNDERPOWERED",
    "VERDICTS",
    "Claim",
    "ClaimResult",
    "Outcome",
    "Param",
    "claims",
    "compare",
    "get",
    "papers",
    "register",
    "run",
    "run_many",
]

#: Paper key → (module defining its claims, imported by :func:`_import_paper`, citation).
PAPERS: dict[str, tuple[str, str]] = {
    "wan2021": ("wan2021", "Wan, Zhang, Zhang, Sun (2021), Spherical Motion Dynamics (NeurIPS)"),
    "kodryan2022": (
        "kodryan2022",
        "Kodryan, Lobacheva, Nakhodnov, Vetrov (2022), Training scale-invariant "
        "neural networks on the sphere can happen in three regimes",
    ),
    "nrq2023": ("nrq2023", "ICLR 2023 submission, Normalization and weight decay: a simple model (NRQ)"),
    "roburin2020": ("roburin2020", "Roburin et al. (2020/2022), A spherical analysis of Adam with batch normalization"),
    "kosson2024": ("kosson2024", "Kosson, Messmer, Jaggi (2024), Rotational equilibrium"),
    "li2020": (
        "li2020",
        "Li, Lyu, Arora (2020), Reconciling modern deep learning with traditional optimization "
        "analyses: the intrinsic learning rate",
    ),
    "nesterov": ("nesterov", "Nesterov SGD (torch.optim.SGD(nesterov=True)): the project's derivation (issue 10)"),
    "muon": ("muon", "Muon (torch.optim.Muon, Jordan et al. 2024): the project's derivation (issue 10)"),
    "wen2025": (
        "wen2025",
        "Published equilibrium closed forms side by side: Wen et al. (2025) hyperball forms, Kosson et al. (2024), "
        "the project's",
    ),
    "liarora2020": ("liarora2020", "Li & Arora (2020), An exponential learning rate schedule for deep learning"),
    "kunin2021": ("kunin2021", "Kunin, Sagastuy-Brena, Ganguli, Yamins, Tanaka (2021), Neural Mechanics"),
    "defazio2025": ("defazio2025", 'Defazio (2025), "Why gradients rapidly increase near the end of training" (AdamC)'),
}
_loaded: set[str] = set()


def _load(paper: str | None = None) -> None:
    for key in PAPERS if paper is None else (paper,):
        if key not in _loaded:
            _import_paper(key)
            _loaded.add(key)


def _import_paper(key: str) -> ModuleType:
    """The module of paper ``key``, whose import registers its claims: one literal import per paper, so that each
    edge is in the import graph lint-imports checks (a module-name string would hide it)."""
    match key:
        case "wan2021":
            from . import wan2021 as module
        case "kodryan2022":
            from . import kodryan2022 as module
        case "nrq2023":
            from . import nrq2023 as module
        case "roburin2020":
            from . import roburin2020 as module
        case "kosson2024":
            from . import kosson2024 as module
        case "li2020":
            from . import li2020 as module
        case "nesterov":
            from . import nesterov as module
        case "muon":
            from . import muon as module
        case "wen2025":
            from . import wen2025 as module
        case "liarora2020":
            from . import liarora2020 as module
        case "kunin2021":
            from . import kunin2021 as module
        case "defazio2025":
            from . import defazio2025 as module
        case _:
            raise KeyError(f"no claim module for paper {key!r}")
    return module


def papers() -> dict[str, str]:
    """Paper key → citation."""
    return {k: v[1] for k, v in PAPERS.items()}


def claims(paper: str | None = None) -> list[Claim]:
    """All registered claims (of one paper), in registration order."""
    from .._validation import check_choice

    if paper is not None:
        paper = check_choice("paper", paper, PAPERS)
    _load(paper)
    return [c for c in _REGISTRY.values() if paper is None or c.paper_key == paper]


def get(claim_id: str) -> Claim:
    """The claim with this id (``ValueError`` listing the ids when unknown)."""
    if not isinstance(claim_id, str):
        raise InputTypeError(f"claim must be a string id; got {claim_id!r}")
    key = claim_id.split(".", 1)[0]
    if key in PAPERS:
        _load(key)
    if claim_id not in _REGISTRY:
        _load()
        raise InputError(f"claim must be one of {', '.join(_REGISTRY)}; got {claim_id!r}")
    return _REGISTRY[claim_id]


def run(
    claim_id: str, overrides: Mapping[str, Any] | None = None, *, quick: bool = False, seed: int = 0
) -> ClaimResult:
    """Run one claim (``overrides``: hyperparameters validated against the claim's domain)."""
    return run_claim(get(claim_id), overrides, quick=quick, seed=seed)


def run_many(
    selected: list[Claim],
    overrides: Mapping[str, Any] | None = None,
    *,
    quick: bool = False,
    seed: int = 0,
    progress: bool | None = None,
    strict: bool = True,
) -> list[ClaimResult]:
    """Run several claims with a progress bar (tqdm; off when not a TTY or ``progress=False``).

    Each claim gets the overrides it takes. With ``strict=False`` (a whole paper or registry re-run at other
    hyperparameters) a claim whose domain refuses them is reported ``not checkable`` with the reason instead of
    stopping the run; with ``strict=True`` the ``ValueError`` propagates.
    """
    import sys

    from tqdm.auto import tqdm

    if progress is None:
        progress = sys.stderr.isatty()
    out = []
    bar = tqdm(selected, desc="claims", unit="claim", disable=not progress, file=sys.stderr)
    for c in bar:
        bar.set_postfix_str(c.id)
        ov = {k: v for k, v in (overrides or {}).items() if k in c.domain}
        try:
            out.append(run_claim(c, ov, quick=quick, seed=seed))
        except ValueError as exc:
            if strict or not ov:
                raise
            params = {**c.params(quick=quick), **ov}
            reason = Outcome(NOT_CHECKABLE, detail=f"outside the claim's domain at these hyperparameters: {exc}")
            out.append(ClaimResult(c, params, reason, 0.0, quick))
    return out
