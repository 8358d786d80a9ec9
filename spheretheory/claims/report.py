"""Verdict table, JSON and the Markdown report (``spheretheory check --report DIR``)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ._core import ClaimResult

RELATION_NOTE = (
    "rel: what the claim asserts of measured against predicted (≈ equal within the tolerance; ≥ or ≤ a printed "
    "bound; > higher; ordered / increasing / dip then rise: a shape)"
)


def fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(fmt(x) for x in v) + "]"
    return str(v)


def table_rows(results: list[ClaimResult]) -> list[tuple[str, ...]]:
    rows = []
    for r in results:
        o = r.outcome
        rows.append(
            (
                r.claim.id,
                r.verdict,
                r.claim.relation,
                fmt(None if o is None else o.predicted),
                fmt(None if o is None else o.measured),
                fmt(None if o is None else o.se),
                f"{r.seconds:.1f}s",
            )
        )
    return rows


def print_table(results: list[ClaimResult]) -> None:
    head = ("claim", "verdict", "rel", "predicted", "measured", "SE", "time")
    rows = [head, *table_rows(results)]
    widths = [min(max(len(row[i]) for row in rows), 28) for i in range(len(head))]
    for k, row in enumerate(rows):
        print("  ".join(c[:28].ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if k == 0:
            print("  ".join("-" * w for w in widths))
    print(RELATION_NOTE)
    for r in results:
        if r.error:
            print(f"ERROR {r.claim.id}: {r.error}")


def write_report(results: list[ClaimResult], directory: str | Path, *, command: str = "") -> Path:
    """Write ``report.md`` and one PNG per claim that draws a figure; return the report's path."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# spheretheory check — report", ""]
    if command:
        lines += [f"Produced by `{command}`.", ""]
    lines += ["| claim | verdict | rel | predicted | measured | SE |", "|---|---|---|---|---|---|"]
    for row in table_rows(results):
        lines.append("| " + " | ".join(row[:6]) + " |")
    lines += ["", RELATION_NOTE + ".", ""]
    for r in results:
        c, o = r.claim, r.outcome
        lines += [f"## {c.id} — {r.verdict}", "", f"*{c.paper}, {c.where}.*", ""]
        if c.quote:
            lines += [f"> {c.quote}", ""]
        lines += [f"Our reading (measured {c.relation} predicted): {c.statement}", ""]
        lines.append(
            "Parameters: " + ", ".join(f"{k} = {fmt(v)}" for k, v in r.params.items()) + (" (quick)" if r.quick else "")
        )
        lines.append("")
        if o is None:
            lines += [f"**The check broke:** `{r.error}`", ""]
            continue
        lines += [o.detail, ""]
        if o.counterexample:
            lines += ["Counter-example: " + ", ".join(f"{k} = {fmt(v)}" for k, v in o.counterexample.items()), ""]
        lines += [f"How: {c.method}", "", f"Tolerance: {c.tolerance}", ""]
        if o.figure is not None:
            name = c.id.replace(".", "_") + ".png"
            try:
                o.figure(str(out / name))
                lines += [f"![{c.id}]({name})", ""]
            except Exception as exc:  # noqa: BLE001 - a figure failure must not lose the report
                lines += [f"(figure failed: {exc})", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
