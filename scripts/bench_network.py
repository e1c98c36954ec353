"""Benchmark FrameScoreNetwork: time and peak memory of forward and forward+backward vs L.

Prints one JSON object to stdout::

    {"device": ..., "config": {...}, "num_parameters": ..., "memory_method": ...,
     "results": [{"L", "B", "forward_s", "forward_backward_s", "forward_peak_mb",
                  "forward_backward_peak_mb"}, ...],
     "slopes": {"B=1": {"forward": s, "forward_backward": s}, ...}}

The network is the architecture of ``--model`` (a bundled name or a model folder; default the
bundled backbone model) or of the ``model`` section of a training configuration
(``--config FILE.yaml``), with fresh weights. Times are medians (and minima, ``*_min_s``) over
``--repeats`` runs after one warm-up, on prior-like frames (uniform rotations, Gaussian CA
positions) at t = 0.5, with a self-conditioning input (as every sampling step after the first
has) and an all-helix blueprint when the network reads one. Peak memory: on CUDA
``torch.cuda.max_memory_allocated`` above the allocation before the call; on CPU each (L, B)
runs in a fresh subprocess and the peak resident set size (``ru_maxrss``) is reported above
the RSS measured just before the first forward call (model, inputs and libraries excluded).
The slope is the least-squares log-log slope of the minimum time vs L over the lengths in
[128, 1024] (the minimum is the least disturbed by other processes on a shared CPU).

Usage: ``python scripts/bench_network.py [--lengths 64 128 ...] [--batch-sizes 1 8]
[--device auto|cpu|cuda] [--repeats 3] [--threads N] [--model NAME|DIR | --config FILE]``.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import time

import torch

from molgen.models import FrameScoreNetwork, FrameScoreNetworkConfig, read_config


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        line = next(raw for raw in status if raw.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn, device: torch.device, repeats: int) -> tuple[float, float, float]:
    """(median s, min s, peak MB above the start) of ``fn``; CPU peak is ru_maxrss-based."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        start = torch.cuda.memory_allocated(device)
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        _sync(device)
        tick = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - tick)
    if device.type == "cuda":
        peak = (torch.cuda.max_memory_allocated(device) - start) / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    return statistics.median(times), min(times), peak


def network_config(model: str | None, config: str | None) -> FrameScoreNetworkConfig:
    """The architecture to benchmark: a training file's model section, else a saved model's."""
    if config is not None:
        from molgen.train.backbone import load_training_config

        return load_training_config(config)["model"]
    return FrameScoreNetworkConfig.from_dict(read_config(model or "backbone")["config"])


def measure(
    length: int, batch: int, device: torch.device, repeats: int, config: FrameScoreNetworkConfig
) -> dict:
    """Time and memory of one (L, B) in this process."""
    torch.manual_seed(0)
    net = FrameScoreNetwork(config).to(device)
    prior = net.diffuser.sample_prior((batch, length), device=device)
    rot, x = prior.rotations, prior.translations
    t = torch.full((batch,), 0.5, device=device)
    mask = torch.ones(batch, length, dtype=torch.bool, device=device)
    extra = {"self_cond": x.clone() if config.self_condition else None}
    if config.ss_condition:
        extra["ss"] = torch.ones(batch, length, dtype=torch.long, device=device)

    def forward() -> None:
        with torch.no_grad():
            net.scores(rot, x, t, mask, **extra)

    def forward_backward() -> None:
        net.zero_grad(set_to_none=True)
        out = net.scores(rot, x, t, mask, **extra)
        sum(out[k].pow(2).mean() for k in ("trans_score", "rot_score", "psi")).backward()

    base = _rss_mb()
    fwd_s, fwd_min, fwd_peak = _timed(forward, device, repeats)
    bwd_s, bwd_min, bwd_peak = _timed(forward_backward, device, repeats)
    if device.type == "cpu":  # ru_maxrss is a running maximum of the process
        fwd_peak, bwd_peak = fwd_peak - base, max(fwd_peak, bwd_peak) - base
    return {
        "L": length,
        "B": batch,
        "forward_s": round(fwd_s, 5),
        "forward_backward_s": round(bwd_s, 5),
        "forward_min_s": round(fwd_min, 5),
        "forward_backward_min_s": round(bwd_min, 5),
        "forward_peak_mb": round(fwd_peak, 1),
        "forward_backward_peak_mb": round(bwd_peak, 1),
    }


def _slope(rows: list[dict], key: str) -> float | None:
    pts = [(math.log(r["L"]), math.log(r[key])) for r in rows if 128 <= r["L"] <= 1024]
    if len(pts) < 2:
        return None
    mx, my = statistics.fmean(p[0] for p in pts), statistics.fmean(p[1] for p in pts)
    num = sum((a - mx) * (b - my) for a, b in pts)
    return round(num / sum((a - mx) ** 2 for a, _ in pts), 3)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[64, 128, 256, 512, 1024])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--model", default=None, help="bundled name or model folder")
    parser.add_argument("--config", default=None, help="training YAML (its model section)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    config = network_config(args.model, args.config)
    choice = ["--config", args.config] if args.config else ["--model", args.model or "backbone"]
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.worker:  # one (L, B) in a fresh process, so that ru_maxrss is its own
        result = measure(args.lengths[0], args.batch_sizes[0], device, args.repeats, config)
        print(json.dumps(result))
        return
    results = []
    for batch in args.batch_sizes:
        for length in args.lengths:
            if device.type == "cuda":
                results.append(measure(length, batch, device, args.repeats, config))
                continue
            sizes = ["--lengths", str(length), "--batch-sizes", str(batch)]
            cmd = [sys.executable, __file__, "--worker", "--device", "cpu", *sizes, *choice]
            cmd += ["--repeats", str(args.repeats), "--threads", str(torch.get_num_threads())]
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"L={length} B={batch}: {results[-1]}", file=sys.stderr, flush=True)
    net = FrameScoreNetwork(config)
    report = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch_threads": torch.get_num_threads(),
        "config": net.config.to_dict(),
        "num_parameters": sum(p.numel() for p in net.parameters()),
        "memory_method": (
            "torch.cuda.max_memory_allocated above the allocation before the call"
            if device.type == "cuda"
            else "peak RSS (ru_maxrss) of a fresh subprocess above its RSS before the first call"
        ),
        "results": results,
        "slopes": {
            f"B={b}": {
                key: _slope([r for r in results if r["B"] == b], f"{key}_min_s")
                for key in ("forward", "forward_backward")
            }
            for b in args.batch_sizes
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
