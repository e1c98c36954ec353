"""Benchmark batched backbone sampling: seconds per chain on each device, in one run.

Prints one JSON object::

    {"model": ..., "length": L, "steps": S, "results": [{"device", "num", "batch_size",
     "seconds", "seconds_per_chain", "peak_gpu_mb"}, ...], "speedup": cpu s/chain / cuda s/chain}

Each device samples ``--num`` chains (``--cpu-num`` on the CPU, which is slower) of ``--length``
residues with the default sampler (restraint and idealisation on), after a 2-step warm-up;
the same model, seed and settings on both, so the ratio is measured in the same run.

Usage: ``python scripts/bench_sampling.py [--model backbone] [--length 100] [--num 64]
[--cpu-num 8] [--steps 200] [--batch-size 64] [--devices cpu cuda]``
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from molgen.models import load
from molgen.sample import sample_backbones


def measure(model_name: str, device: str, num: int, args: argparse.Namespace) -> dict:
    """Time ``num`` chains on ``device`` (after a short warm-up)."""
    model = load(model_name, device=device)
    settings = {"device": device, "batch_size": args.batch_size, "progress": False}
    sample_backbones(model, [args.length], min(num, 2), steps=2, **settings)  # warm-up
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    tick = time.perf_counter()
    sample_backbones(model, [args.length], num, steps=args.steps, seed=0, **settings)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - tick
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else None
    return {
        "device": device,
        "num": num,
        "batch_size": args.batch_size,
        "seconds": round(seconds, 2),
        "seconds_per_chain": round(seconds / num, 4),
        "peak_gpu_mb": None if peak is None else round(peak, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="backbone")
    parser.add_argument("--length", type=int, default=100)
    parser.add_argument("--num", type=int, default=64)
    parser.add_argument("--cpu-num", type=int, default=8)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--devices", nargs="+", default=["cpu", "cuda"])
    args = parser.parse_args(argv)
    devices = [d for d in args.devices if d == "cpu" or torch.cuda.is_available()]
    results = [
        measure(args.model, d, args.cpu_num if d == "cpu" else args.num, args) for d in devices
    ]
    per_chain = {r["device"]: r["seconds_per_chain"] for r in results}
    speedup = None
    if "cpu" in per_chain and "cuda" in per_chain:
        speedup = round(per_chain["cpu"] / per_chain["cuda"], 2)
    report = {
        "model": args.model,
        "length": args.length,
        "steps": args.steps,
        "torch_threads": torch.get_num_threads(),
        "results": results,
        "speedup": speedup,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
