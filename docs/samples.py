"""Regenerate (or check) the command samples in README.md and docs/user_guide.md from the real commands.

A sample is a fenced block preceded by a marker comment::

    <!-- sample -->                        the whole output
    <!-- sample keep="a;b;c" -->           abridged: only the output lines that start with a, b or c (after leading
                                           spaces), followed by a line "  ... (abridged)"
    <!-- sample slow keep="..." -->         a long-running command: checked only by the slow test

The block holds ``$ spheretheory ...`` command lines (a trailing ``\\`` continues a command) each followed by its
output. ``python docs/samples.py`` rewrites the outputs in place; ``python docs/samples.py --check`` exits 1 when
a sample differs from what its command prints now. Run from the repository root (``--plot`` paths are relative to
it); in check mode ``--plot`` goes to a temporary folder.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = (ROOT / "README.md", ROOT / "docs" / "user_guide.md")
MARKER = re.compile(r"^<!-- sample(?P<slow> slow)?(?: keep=\"(?P<keep>[^\"]*)\")? -->$")
ABRIDGED = "  ... (abridged)"


def run_command(command: str, plot_dir: str | None = None) -> str:
    """stdout of ``spheretheory ...`` run in-process (stderr is not part of a sample)."""
    from spheretheory.cli import main

    argv = shlex.split(command)
    assert argv[0] == "spheretheory", command
    argv = argv[1:]
    if plot_dir is not None and "--plot" in argv:
        i = argv.index("--plot") + 1
        argv[i] = str(Path(plot_dir) / Path(argv[i]).name)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(argv)
    if code != 0:
        raise RuntimeError(f"sample command failed (exit {code}): {command}")
    return out.getvalue()


def _abridge(output: str, keep: str | None) -> list[str]:
    lines = output.rstrip("\n").splitlines()
    if not keep:
        return lines
    prefixes = [k for k in keep.split(";") if k]
    kept = [ln for ln in lines if any(ln.lstrip().startswith(p) for p in prefixes)]
    return [*kept, ABRIDGED]


def render(text: str, *, slow: bool, plot_dir: str | None) -> str:
    """``text`` with every sample's output regenerated (slow samples only when ``slow``)."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = MARKER.match(lines[i])
        out.append(lines[i])
        i += 1
        if not m:
            continue
        if not lines[i].startswith("```"):
            raise ValueError(f"a sample marker must be followed by a fenced block; got {lines[i]!r}")
        out.append(lines[i])
        i += 1
        block: list[str] = []
        while not lines[i].startswith("```"):
            block.append(lines[i])
            i += 1
        if m.group("slow") and not slow:
            out += block
            continue
        j = 0
        while j < len(block):
            if not block[j].startswith("$ "):
                j += 1  # an output line of the previous command: regenerated below
                continue
            cmd_lines = [block[j]]
            while cmd_lines[-1].endswith("\\"):
                j += 1
                cmd_lines.append(block[j])
            j += 1
            out += cmd_lines
            command = " ".join(ln.rstrip("\\").strip() for ln in cmd_lines)[2:]
            out += _abridge(run_command(command, plot_dir), m.group("keep"))
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    check = "--check" in argv
    slow = "--fast" not in argv
    with tempfile.TemporaryDirectory() as tmp:
        stale = []
        for path in FILES:
            text = path.read_text()
            fresh = render(text, slow=slow, plot_dir=tmp if check else None)
            if fresh != text:
                stale.append(path)
                if not check:
                    path.write_text(fresh)
    for path in stale:
        print(f"{'out of date' if check else 'rewrote'}: {path.relative_to(ROOT)}")
    return 1 if (check and stale) else 0


if __name__ == "__main__":
    raise SystemExit(main())
