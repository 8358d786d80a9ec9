"""The optimizers, one spec per file (:class:`~spheretheory.optimizers.base.OptimizerSpec`).

>>> from spheretheory import optimizers
>>> sorted(optimizers.SPECS)[:3]
['adam', 'adamw', 'lion']

Adding an optimizer: write ``spheretheory/optimizers/<name>.py`` with a ``SPEC`` (and its theory module under
``spheretheory/theory/`` if it needs new derivations), and list it in :data:`SPECS` below. ``predict``, the CLI
flags, the PyTorch monitor's mapping and the registry tests follow from the spec.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from . import adam, adamc, adamw, lion, muon, nesterov, sgd, sgdm, sgdm_dampened, sgdw
from .base import STANDARD_KEYS, HyperParameter, OptimizerSpec, TorchMapping, TorchMatch

__all__ = [
    "SPECS",
    "STANDARD_KEYS",
    "HyperParameter",
    "OptimizerSpec",
    "TorchMapping",
    "TorchMatch",
    "add_cli_flags",
    "cli_hyperparameters",
    "from_torch",
    "get",
]

#: All optimizers, by name. Order matters for :func:`from_torch`: the first spec whose mapping matches wins.
SPECS: dict[str, OptimizerSpec] = {
    spec.name: spec
    for spec in (
        sgd.SPEC,
        sgdw.SPEC,
        sgdm_dampened.SPEC,  # before sgdm, which reports dampening as not covered
        sgdm.SPEC,
        nesterov.SPEC,
        adamc.SPEC,  # before adamw: an AdamC class may subclass AdamW
        adamw.SPEC,
        adam.SPEC,
        lion.SPEC,
        muon.SPEC,
    )
}


def get(name: str) -> OptimizerSpec:
    """The spec called ``name`` (case-insensitive); ``ValueError`` listing the known names otherwise."""
    from .._validation import check_choice

    return SPECS[check_choice("optimizer", name, SPECS)]


def _class_names(optimizer: Any) -> tuple[str, ...]:
    return tuple(cls.__name__ for cls in type(optimizer).__mro__)


def from_torch(optimizer: Any, param_group: Mapping[str, Any]) -> tuple[str | None, dict[str, float], str]:
    """Map a ``torch.optim`` optimizer and one of its param groups to a spec name (no torch import).

    Returns ``(name, hyperparameters, reason)``: ``name`` is ``None`` when no spec covers the update rule
    (``reason`` says why); ``hyperparameters`` holds the spec's hyperparameters read from the group.
    """
    classes = _class_names(optimizer)
    for spec in SPECS.values():
        mapping = spec.torch
        if mapping is None or not (set(mapping.classes) & set(classes)):
            continue
        found = mapping.match(param_group, classes)
        if found is None:
            continue
        if found.reason:
            return None, {}, found.reason
        return spec.name, dict(found.hyperparameters), ""
    return None, {}, f"optimizer {classes[0]} is not covered by the predictions"


def cli_hyperparameters(
    names: Iterable[str] | None = None, skip: Iterable[str] = ()
) -> dict[str, tuple[HyperParameter, list[str]]]:
    """The union of the hyperparameters of the given specs (all by default), less those in ``skip``: name ->
    (first spec's :class:`HyperParameter`, names of the specs that take it)."""
    out: dict[str, tuple[HyperParameter, list[str]]] = {}
    for name in names if names is not None else SPECS:
        for key, hp in SPECS[name].hyperparameters.items():
            if key not in skip:
                out.setdefault(key, (hp, []))[1].append(name)
    return out


def add_cli_flags(
    parser: argparse.ArgumentParser, names: Sequence[str] | None = None, skip: Iterable[str] = ()
) -> list[str]:
    """Add ``--<hyperparameter>`` flags (default None: the spec's default applies) for the hyperparameters of
    the given specs (except ``skip``, flags the command defines itself); returns the destination names, to
    collect with :func:`collect_cli_flags`."""
    dests = []
    for key, (hp, users) in cli_hyperparameters(names, skip).items():
        defaults = {u: SPECS[u].hyperparameters[key].default for u in users}
        if len(set(defaults.values())) == 1:
            shown = "required" if hp.default is None else f"default {hp.default:g}"
        else:
            shown = "default " + ", ".join(f"{u} {'required' if d is None else f'{d:g}'}" for u, d in defaults.items())
        parser.add_argument(
            f"--{key.replace('_', '-')}",
            dest=key,
            type=int if hp.integer else float,
            default=None,
            help=f"{hp.doc or key} ({', '.join(users)}; {shown})",
        )
        dests.append(key)
    return dests


def collect_cli_flags(args: argparse.Namespace, dests: Iterable[str]) -> dict[str, Any]:
    """The hyperparameter flags the user gave (not None)."""
    return {k: getattr(args, k) for k in dests if getattr(args, k, None) is not None}
