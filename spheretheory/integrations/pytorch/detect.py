"""Detection of scale-invariant parameter groups in an ``nn.Module``, checked numerically on the module
itself.

A group of parameters w is scale-invariant when the network's output (hence any loss) satisfies f(kw) = f(w)
for every k > 0 (Wan et al. 2021, Sec. 1; Lemma 1 then gives ⟨w, ∇L(w)⟩ = 0 and ∇L(kw) = ∇L(w)/k). Three
sources are recognised:

* a convolution / linear layer whose output goes straight into a normalization layer, possibly through
  channel-preserving, positively homogeneous modules (ReLU, pooling, dropout, identity):

  - BatchNorm / InstanceNorm: every output channel (row of the weight) is invariant on its own; the bias is
    cancelled by the mean subtraction and is left out of the group;
  - GroupNorm(G, C): every block of C/G channels is invariant, jointly with its bias entries;
  - LayerNorm: the whole weight, jointly with the bias, is invariant;

* weight-normalized layers (``torch.nn.utils.weight_norm`` or
  ``torch.nn.utils.parametrizations.weight_norm``): the direction parameter v (per slice along ``dim``, or
  whole when ``dim=None``);
* groups given by the user (``include=``), checked like the others.

The structural search only proposes candidates. Each candidate is then verified on a float64 copy of the
model in training mode: every unit of the group is multiplied by its own random factor
s ∈ [1/2.5, 1/1.5] ∪ [1.5, 2.5] and the output must not move by more than ``rtol`` (default 1e-6, relative
to its largest entry). On that copy every normalization ``eps`` is multiplied by 1e-8, because eps blurs
exact invariance by about eps/σ² (σ² the pre-normalization variance; 1e-3 for small activations), whereas
a non-invariant group moves the output by O(|log s|) ≥ 0.4 in relative terms. Candidates that fail are
reported, not monitored.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ..._validation import InputError, InputTypeError, check_real

__all__ = [
    "DetectionReport",
    "ScaleInvariantGroup",
    "find_scale_invariant_groups",
    "verify_scale_invariance",
]

_WEIGHT_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)
_TRANSPOSED = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
# Modules that keep the channel layout and are positively homogeneous: f(s·x) = s·f(x) for s > 0 (per
# channel).
_PASS_THROUGH = (
    nn.ReLU,
    nn.LeakyReLU,
    nn.PReLU,
    nn.MaxPool1d,
    nn.MaxPool2d,
    nn.MaxPool3d,
    nn.AvgPool1d,
    nn.AvgPool2d,
    nn.AvgPool3d,
    nn.AdaptiveAvgPool1d,
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveAvgPool3d,
    nn.AdaptiveMaxPool1d,
    nn.AdaptiveMaxPool2d,
    nn.AdaptiveMaxPool3d,
    nn.Dropout,
    nn.Dropout1d,
    nn.Dropout2d,
    nn.Dropout3d,
    nn.Identity,
)
_BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)
_INSTANCE_NORMS = (nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d)
_NORMS = (*_BATCH_NORMS, *_INSTANCE_NORMS, nn.GroupNorm, nn.LayerNorm)
# The check multiplies every normalization eps by this factor on its float64 copy, so that the invariance it
# tests is exact up to rounding (relative change ~ 1e-13·eps/σ² + float64 rounding) rather than blurred by
# eps/σ².
_EPS_FACTOR = 1e-8


@dataclass
class ScaleInvariantGroup:
    """A set of parameters whose joint rescaling leaves the network unchanged, split into invariant units.

    Attributes
    ----------
    name:
        Label of the group (the weight layer's module path, or the parameter name for manual groups).
    param_names:
        Names of the member parameters, as in ``model.named_parameters()``. They share the size of dim 0.
    units:
        Integer array with one entry per row (index along dim 0) giving the invariant unit the row belongs to:
        ``arange(C)`` for per-channel invariance (BatchNorm), ``zeros(C)`` for a whole-tensor group
        (LayerNorm). The whole group is always invariant too (rescaling every unit by the same factor).
    kind:
        ``"batchnorm"``, ``"instancenorm"``, ``"groupnorm"``, ``"layernorm"``, ``"weight_norm"`` or
        ``"manual"``.
    norm_module:
        Path of the normalization module that makes the group invariant (``None`` for weight norm / manual).
    max_rel_change:
        Largest relative change of the output under the verification rescaling (``None`` if not verified).
    """

    name: str
    param_names: tuple[str, ...]
    units: np.ndarray
    kind: str
    norm_module: str | None = None
    max_rel_change: float | None = None

    @property
    def n_units(self) -> int:
        """Number of separately invariant units (1 for a whole-tensor group)."""
        return int(self.units.max()) + 1 if self.units.size else 0

    @property
    def n_rows(self) -> int:
        return int(self.units.size)

    @property
    def per_unit(self) -> bool:
        """True when the group splits into more than one separately invariant unit (e.g. BN channels)."""
        return self.n_units > 1

    def describe(self) -> str:
        gran = f"{self.n_units} units" if self.per_unit else "whole tensor"
        via = f" via {self.norm_module}" if self.norm_module else ""
        return f"{self.name}: {', '.join(self.param_names)} [{self.kind}{via}; {gran}]"


@dataclass
class DetectionReport:
    """Result of :func:`find_scale_invariant_groups`.

    Attributes
    ----------
    groups:
        Verified scale-invariant groups (to be monitored).
    not_invariant:
        Candidates that failed the numerical check, each with its measured ``max_rel_change``.
    skipped:
        ``(name, reason)`` pairs: frozen parameters, unsupported layouts, excluded names.
    verified:
        Whether the numerical check was run.
    """

    groups: list[ScaleInvariantGroup] = field(default_factory=list)
    not_invariant: list[ScaleInvariantGroup] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    verified: bool = True

    def parameters(self, model: nn.Module) -> list[nn.Parameter]:
        """The parameters of the verified groups (e.g. for :func:`~.monitor.rescale_on_lr_drop`)."""
        params = dict(model.named_parameters())
        return [params[n] for g in self.groups for n in g.param_names]

    @property
    def message(self) -> str:
        if self.groups:
            return f"{len(self.groups)} scale-invariant group(s) found"
        return (
            "no scale-invariant parameter groups found: the model has no convolution/linear layer feeding a "
            "BatchNorm/InstanceNorm/GroupNorm/LayerNorm and no weight-normalized layer"
            + (f"; {len(self.not_invariant)} candidate(s) failed the rescaling check" if self.not_invariant else "")
            + ". Pass include=[...] to name the groups by hand."
        )

    def __str__(self) -> str:
        lines = [self.message + ("" if self.verified else " (not verified numerically)")]
        for g in self.groups:
            chg = "" if g.max_rel_change is None else f"  (max rel. output change {g.max_rel_change:.1e})"
            lines.append(f"  + {g.describe()}{chg}")
        for g in self.not_invariant:
            lines.append(f"  x NOT invariant: {g.describe()}  (max rel. output change {g.max_rel_change:.2g})")
        for name, reason in self.skipped:
            lines.append(f"  - skipped {name}: {reason}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------
# structural search
# ---------------------------------------------------------------------------------------------------------
def _norm_units(norm: nn.Module, n_rows: int) -> tuple[str, np.ndarray, bool] | None:
    """(kind, units, include_bias) for a weight layer with ``n_rows`` output channels feeding ``norm``."""
    if isinstance(norm, _BATCH_NORMS):
        if norm.num_features != n_rows:
            return None
        return "batchnorm", np.arange(n_rows), False
    if isinstance(norm, _INSTANCE_NORMS):
        return "instancenorm", np.arange(n_rows), False
    if isinstance(norm, nn.GroupNorm):
        if norm.num_channels != n_rows or n_rows % norm.num_groups:
            return None
        per = n_rows // norm.num_groups
        return "groupnorm", np.arange(n_rows) // per, per > 1
    if isinstance(norm, nn.LayerNorm):
        return "layernorm", np.zeros(n_rows, dtype=np.int64), True
    return None


def _as_tuple(x: Any) -> tuple:
    return x if isinstance(x, tuple) else (x,)


def _call(model: nn.Module, example_input: Any) -> Any:
    if isinstance(example_input, Mapping):
        return model(**example_input)
    return model(*_as_tuple(example_input))


def _trace_candidates(model: nn.Module, example_input: Any) -> list[tuple[str, str, nn.Module, nn.Module, bool]]:
    """Run one forward pass with hooks; return (layer_name, norm_name, layer, norm, through_homogeneous)."""
    names = {m: n for n, m in model.named_modules()}
    producer: dict[int, tuple[str, bool]] = {}  # tensor id -> (weight layer, passed a homogeneous module)
    keep: list[torch.Tensor] = []  # keep traced tensors alive so that their ids are not reused
    pairs: list[tuple[str, str, bool]] = []

    def hook(module: nn.Module, inputs: tuple, output: Any) -> None:
        name = names.get(module)
        if name is None or not isinstance(output, torch.Tensor):
            return
        src = None
        if inputs and isinstance(inputs[0], torch.Tensor):
            src = producer.get(id(inputs[0]))
        if isinstance(module, (*_WEIGHT_LAYERS, *_TRANSPOSED)):
            producer[id(output)] = (name, False)
            keep.append(output)
        elif isinstance(module, _PASS_THROUGH) and src is not None:
            producer[id(output)] = (src[0], True)
            keep.append(output)
        elif isinstance(module, _NORMS) and src is not None:
            pairs.append((src[0], name, src[1]))

    handles = [m.register_forward_hook(hook) for m in model.modules() if len(list(m.children())) == 0]
    try:
        with torch.no_grad():
            _call(model, example_input)
    finally:
        for h in handles:
            h.remove()
    mods = dict(model.named_modules())
    seen: set[str] = set()
    out = []
    for src, norm, through in pairs:
        if src in seen:  # a layer feeding two norms: keep the first
            continue
        seen.add(src)
        out.append((src, norm, mods[src], mods[norm], through))
    return out


def _weight_norm_groups(model: nn.Module) -> list[ScaleInvariantGroup]:
    groups = []
    for mname, module in model.named_modules():
        prefix = f"{mname}." if mname else ""
        # new-style: torch.nn.utils.parametrizations.weight_norm
        plist = getattr(module, "parametrizations", None)
        if plist is not None:
            for pname in list(plist.keys()):
                for par in plist[pname]:
                    if type(par).__name__ == "_WeightNorm":
                        v = plist[pname].original1
                        dim = par.dim
                        groups.append(
                            _wn_group(f"{prefix}{pname}", f"{prefix}parametrizations.{pname}.original1", v, dim)
                        )
        # old-style: torch.nn.utils.weight_norm (forward pre-hook holding a WeightNorm object)
        for hook in getattr(module, "_forward_pre_hooks", {}).values():
            if type(hook).__name__ == "WeightNorm":
                v = getattr(module, f"{hook.name}_v")
                groups.append(_wn_group(f"{prefix}{hook.name}", f"{prefix}{hook.name}_v", v, hook.dim))
    return [g for g in groups if g is not None]


def _wn_group(name: str, vname: str, v: torch.Tensor, dim: int | None) -> ScaleInvariantGroup | None:
    rows = v.shape[0] if v.dim() else 1
    if dim == 0 and v.dim() > 0:
        units = np.arange(rows)
    else:  # dim=None, or slices along another dim: the whole tensor is invariant
        units = np.zeros(rows, dtype=np.int64)
    return ScaleInvariantGroup(name=name, param_names=(vname,), units=units, kind="weight_norm")


def _manual_group(spec: Any, params: Mapping[str, nn.Parameter]) -> ScaleInvariantGroup:
    """Build a group from ``"name"``, ``("name", "channel"|"tensor")`` or ``(("a", "b"), "tensor")``."""
    gran = "tensor"
    if isinstance(spec, ScaleInvariantGroup):
        return spec
    if isinstance(spec, str):
        names: tuple[str, ...] = (spec,)
    elif isinstance(spec, tuple) and len(spec) == 2 and spec[1] in ("channel", "tensor"):
        names = (spec[0],) if isinstance(spec[0], str) else tuple(spec[0])
        gran = spec[1]
    elif isinstance(spec, (tuple, list)) and all(isinstance(s, str) for s in spec):
        names = tuple(spec)
    else:
        raise InputTypeError(
            "include entries must be a parameter name, a tuple of names, or (name(s), 'channel'|'tensor'); "
            f"got {spec!r}"
        )
    for n in names:
        if n not in params:
            raise InputError(f"include: {n!r} is not a parameter of the model; known: {', '.join(params)}")
    rows = {params[n].shape[0] if params[n].dim() else 1 for n in names}
    if len(rows) != 1:
        raise InputError(f"include: parameters {names} must share the size of dim 0; got {sorted(rows)}")
    (n_rows,) = rows
    units = np.arange(n_rows) if gran == "channel" else np.zeros(n_rows, dtype=np.int64)
    return ScaleInvariantGroup(
        name=names[0] if len(names) == 1 else "+".join(names), param_names=names, units=units, kind="manual"
    )


def find_scale_invariant_groups(
    model: nn.Module,
    example_input: Any,
    *,
    include: Iterable[Any] = (),
    exclude: Iterable[str] = (),
    auto: bool = True,
    verify: bool = True,
    rtol: float = 1e-6,
    seed: int = 0,
) -> DetectionReport:
    """Find the scale-invariant parameter groups of ``model`` and verify each one numerically.

    Parameters
    ----------
    model:
        The network. It is not modified (the search and the check run on a float64 deep copy).
    example_input:
        A batch the model accepts: a tensor, a tuple of positional arguments, or a dict of keyword arguments.
        BatchNorm groups need a batch of at least 2 samples (batch statistics).
    include:
        Extra groups named by hand: a parameter name, a tuple of names (one joint group), or
        ``(name_or_names, "channel" | "tensor")``. They are verified like the detected ones.
    exclude:
        Group names or parameter names to leave out.
    auto:
        Run the structural search (``False``: only the ``include`` groups).
    verify:
        Check each candidate by rescaling (scale invariance f(kw) = f(w), Wan et al. 2021 Sec. 1).
    rtol:
        Largest relative output change accepted as invariant, in (0, 1).
    seed:
        Seed of the random rescaling factors.

    Returns
    -------
    DetectionReport
        ``groups`` (verified), ``not_invariant`` (failed the check, with the measured change) and ``skipped``.
    """
    if not isinstance(model, nn.Module):
        raise InputTypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    check_real("rtol", rtol, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    exclude = set(exclude)
    params = dict(model.named_parameters())
    report = DetectionReport(verified=verify)
    candidates: list[ScaleInvariantGroup] = []
    if auto:
        with _working_copy(model) as (work, cast):
            traced = _trace_candidates(work, cast(example_input))
        for src, norm_name, layer, norm, through in traced:
            weight = getattr(layer, "weight", None)
            if weight is None:
                continue
            n_rows = weight.shape[0]
            if isinstance(layer, _TRANSPOSED):  # output channels live on dim 1: keep the whole-tensor invariance
                out_ch = weight.shape[1] * layer.groups
                spec = _norm_units(norm, out_ch)
                if spec is None:
                    report.skipped.append((src, f"output does not match {norm_name}"))
                    continue
                kind, _, with_bias = spec
                units = np.zeros(n_rows, dtype=np.int64)
            else:
                spec = _norm_units(norm, n_rows)
                if spec is None:
                    report.skipped.append((src, f"{n_rows} output channels do not match {norm_name}"))
                    continue
                kind, units, with_bias = spec
            # through ReLU & co. the bias must scale with the weight: s·relu(Wx + b) = relu(s·Wx + s·b)
            with_bias = with_bias or through
            names = [f"{src}.weight"]
            if with_bias and getattr(layer, "bias", None) is not None:
                if isinstance(layer, _TRANSPOSED):
                    report.skipped.append((src, "transposed convolution with a bias that does not cancel"))
                    continue
                names.append(f"{src}.bias")
            candidates.append(ScaleInvariantGroup(src, tuple(names), units, kind, norm_name))
        candidates.extend(_weight_norm_groups(model))
    for spec in include:
        candidates.append(_manual_group(spec, params))

    kept: list[ScaleInvariantGroup] = []
    used: set[str] = set()
    for g in candidates:
        if g.name in exclude or any(n in exclude for n in g.param_names):
            report.skipped.append((g.name, "excluded by the caller"))
            continue
        frozen = [n for n in g.param_names if not params[n].requires_grad]
        if frozen:
            report.skipped.append((g.name, f"frozen parameter(s) {', '.join(frozen)} (requires_grad=False)"))
            continue
        if any(n in used for n in g.param_names):
            report.skipped.append((g.name, "parameters already in another group"))
            continue
        used.update(g.param_names)
        kept.append(g)

    if verify and kept:
        changes, dtype = _verify_and_dtype(model, kept, example_input, seed)
        # in-place check of a non-copyable module in float32/16: rounding sets a floor under the tolerance
        tol = max(float(rtol), 1e3 * torch.finfo(dtype).eps) if dtype != torch.float64 else float(rtol)
        for g, chg in zip(kept, changes, strict=True):
            g.max_rel_change = chg
            (report.groups if chg <= tol else report.not_invariant).append(g)
    else:
        report.groups = kept
    return report


# ---------------------------------------------------------------------------------------------------------
# numerical verification
# ---------------------------------------------------------------------------------------------------------
def _to_double(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return x.detach().double() if x.is_floating_point() else x
    if isinstance(x, Mapping):
        return {k: _to_double(v) for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        return type(x)(_to_double(v) for v in x)
    return x


def _flatten(out: Any) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out] if out.is_floating_point() else []
    if isinstance(out, Mapping):
        return [t for v in out.values() for t in _flatten(v)]
    if isinstance(out, (tuple, list)):
        return [t for v in out for t in _flatten(v)]
    return []


@contextlib.contextmanager
def _working_copy(model: nn.Module, shrink_eps: bool = False) -> Iterator[tuple[nn.Module, Any]]:
    """A float64 deep copy in training mode (norm eps shrunk by ``_EPS_FACTOR`` if asked) and an input caster.

    Modules that cannot be deep-copied (old-style ``torch.nn.utils.weight_norm``) are used in place, in their
    own dtype, and every parameter, buffer, eps and training flag is restored on exit.
    """
    try:
        work = copy.deepcopy(model).double().train()
        in_place = False
    except RuntimeError:
        work, in_place = model, True
        state = {k: v.detach().clone() for k, v in model.state_dict(keep_vars=True).items()}
        modes = {m: m.training for m in model.modules()}
        work.train()
    eps = {}
    if shrink_eps:
        for m in work.modules():  # remove the eps that blurs exact invariance (eps/σ² ~ 1e-3 for small σ²)
            if isinstance(m, _NORMS) and isinstance(getattr(m, "eps", None), float):
                eps[m] = m.eps
                m.eps = m.eps * _EPS_FACTOR
    try:
        yield work, ((lambda v: v) if in_place else _to_double)
    finally:
        if in_place:
            for m, e in eps.items():
                m.eps = e
            with torch.no_grad():
                for k, v in model.state_dict(keep_vars=True).items():
                    v.copy_(state[k])
            for m, mode in modes.items():
                m.training = mode


def _forward(model: nn.Module, x: Any, seed: int) -> list[torch.Tensor]:
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(seed)  # same dropout masks in every pass
        return _flatten(_call(model, x))


def verify_scale_invariance(
    model: nn.Module,
    groups: Sequence[ScaleInvariantGroup],
    example_input: Any,
    *,
    seed: int = 0,
) -> list[float]:
    """Rescale each group (every unit by its own factor) and return the largest relative output change.

    The check runs on a float64 deep copy of ``model`` (in place, restored afterwards, for modules that cannot
    be copied) in training mode (BatchNorm uses batch statistics, as in
    training); dropout draws the same masks in every pass. The change is max|f(s⊙w) − f(w)| / max|f(w)| over
    all floating-point outputs, with s drawn log-uniformly from [1/2.5, 1/1.5] ∪ [1.5, 2.5] per unit.
    """
    return _verify_and_dtype(model, groups, example_input, seed)[0]


def _verify_and_dtype(
    model: nn.Module, groups: Sequence[ScaleInvariantGroup], example_input: Any, seed: int
) -> tuple[list[float], torch.dtype]:
    with _working_copy(model, shrink_eps=True) as (work, cast):
        dtype = next((p.dtype for p in work.parameters() if p.is_floating_point()), torch.float64)
        return _verify(work, groups, cast(example_input), seed), dtype


def _verify(work: nn.Module, groups: Sequence[ScaleInvariantGroup], x: Any, seed: int) -> list[float]:
    params = dict(work.named_parameters())
    base = _forward(work, x, seed)
    if not base:
        raise InputError("example_input: the model returned no floating-point tensor to compare")
    scale_ref = max(float(t.abs().max()) for t in base if t.numel()) or 1.0
    rng = np.random.default_rng(seed)
    changes = []
    for g in groups:
        n = g.n_units
        mag = rng.uniform(math.log(1.5), math.log(2.5), size=n)
        factors = np.exp(mag * rng.choice([-1.0, 1.0], size=n))[g.units]
        saved = {name: params[name].detach().clone() for name in g.param_names}
        with torch.no_grad():
            for name in g.param_names:
                p = params[name]
                f = torch.as_tensor(factors, dtype=p.dtype).reshape((-1,) + (1,) * max(p.dim() - 1, 0))
                p.mul_(f if p.dim() else f.reshape(()))
        out = _forward(work, x, seed)
        with torch.no_grad():
            for name, val in saved.items():
                params[name].copy_(val)
        diff = max(float((a - b).abs().max()) if a.numel() else 0.0 for a, b in zip(out, base, strict=True))
        changes.append(diff / scale_ref if math.isfinite(diff) else math.inf)
    return changes
