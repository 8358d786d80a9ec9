"""Overhead of SphereMonitor on a training step of a small BatchNorm CNN on CPU (goal: < 5% with every=1).

Two identical models train side by side on the same batches, one with the monitor attached and one without;
blocks of steps alternate between them so that machine load drifts hit both alike. The overhead is the ratio
of the median per-step times of the two (also given: the ratio of the fastest blocks, less sensitive to other
processes, and the ratio of process CPU times, which other processes on a shared machine barely disturb with
--threads 1), measured in this one run (no timed assertion anywhere in the tests). The cost of the monitor's two
hooks alone, timed without the step, is the low-noise figure to quote on a shared machine.

    python benchmarks/bench_torch_monitor.py                 # defaults: example CNN, batch 64, 16x16 images
    python benchmarks/bench_torch_monitor.py --every 10 --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from torch import nn

from spheretheory.integrations.pytorch import SphereMonitor
from spheretheory.integrations.pytorch.example import ExampleConfig, make_data, make_model


def _block(model, opt, x, y, idx_list) -> tuple[float, float]:
    """Wall-clock and process-CPU seconds per step over one block."""
    t0, c0 = time.perf_counter(), time.process_time()
    for idx in idx_list:
        opt.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
        opt.step()
    n = len(idx_list)
    return (time.perf_counter() - t0) / n, (time.process_time() - c0) / n


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--every", type=int, default=1, help="monitor records every k steps (default 1)")
    ap.add_argument("--per-unit", action="store_true", help="record every BN channel instead of every layer")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--image-size", type=int, default=16)
    ap.add_argument("--blocks", type=int, default=40, help="alternating blocks per model")
    ap.add_argument("--steps-per-block", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    cfg = ExampleConfig(batch_size=args.batch, width=args.width, image_size=args.image_size, n_train=4 * args.batch)
    gen = torch.Generator().manual_seed(0)
    x, y = make_data(cfg, gen)
    models, opts = [], []
    for _ in range(2):
        torch.manual_seed(0)
        m = make_model(cfg)
        models.append(m)
        opts.append(torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4))
    monitor = SphereMonitor.attach(models[1], opts[1], x[: args.batch], every=args.every, per_unit=args.per_unit)
    batches = [torch.randint(0, cfg.n_train, (args.batch,), generator=gen) for _ in range(args.steps_per_block)]
    for i in range(2):  # warm-up both
        _block(models[i], opts[i], x, y, batches[:5])
    times: list[list[float]] = [[], []]
    cpu: list[list[float]] = [[], []]
    for b in range(args.blocks):
        order = (0, 1) if b % 2 == 0 else (1, 0)
        for i in order:
            wall, c = _block(models[i], opts[i], x, y, batches)
            times[i].append(wall)
            cpu[i].append(c)
    base, mon = (statistics.median(t) for t in times)
    base_cpu, mon_cpu = (statistics.median(t) for t in cpu)
    # The hooks alone (same work as in a monitored step, without the step itself): a low-noise figure.
    hook_times = []
    for _ in range(args.blocks):
        t0 = time.perf_counter()
        for _ in range(args.steps_per_block):
            monitor._pre_hook(opts[1])
            monitor._post_hook(opts[1])
        hook_times.append((time.perf_counter() - t0) / args.steps_per_block)
    hook = statistics.median(hook_times)
    base_min, mon_min = (min(t) for t in times)
    result = {
        "baseline_ms_per_step": 1e3 * base,
        "monitored_ms_per_step": 1e3 * mon,
        "overhead_fraction": mon / base - 1.0,
        "overhead_fraction_fastest_blocks": mon_min / base_min - 1.0,
        "baseline_cpu_ms_per_step": 1e3 * base_cpu,
        "monitored_cpu_ms_per_step": 1e3 * mon_cpu,
        "overhead_fraction_cpu_time": mon_cpu / base_cpu - 1.0,
        "hooks_ms_per_record": 1e3 * hook,
        "hooks_fraction_of_step": hook / base_min,
        "every": args.every,
        "per_unit": args.per_unit,
        "groups": len(monitor.groups),
        "records": monitor.n_records,
        "batch": args.batch,
        "width": args.width,
        "image_size": args.image_size,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "blocks": args.blocks,
        "steps_per_block": args.steps_per_block,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"small BN CNN (width {args.width}, {args.image_size}x{args.image_size}, batch {args.batch}, "
            f"{result['threads']} threads): {1e3 * base:.2f} ms/step without monitor, "
            f"{1e3 * mon:.2f} ms/step "
            f"with monitor (every={args.every}, {len(monitor.groups)} groups): overhead "
            f"{100 * result['overhead_fraction']:+.1f}% wall (fastest blocks: "
            f"{100 * result['overhead_fraction_fastest_blocks']:+.1f}%; process CPU time: "
            f"{100 * result['overhead_fraction_cpu_time']:+.1f}%; goal < 5%); the hooks alone take "
            f"{1e3 * hook:.3f} ms per record = {100 * hook / base_min:.1f}% of the fastest step"
        )
    return result


if __name__ == "__main__":
    main()
