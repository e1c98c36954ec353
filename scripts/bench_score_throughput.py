"""Throughput and memory of ``molgen score`` on many 100-residue structures.

Usage::

    python scripts/bench_score_throughput.py [--n 1000] [--length 100] [--single-n 100]
        [--workers 2] [--batch-size 32] [--model backbone] [--chain-set PATH]

Writes ``--n`` PDB files (val chains of at least ``--length`` residues, cropped to it, cycled
when there are fewer chains) to a temporary folder, then times
:func:`molgen.score_structures` on them: one structure at a time (``workers=1,
batch_size=1``, on the first ``--single-n`` files, to save time), batched in one process,
and batched with ``--workers`` processes. Each run is a fresh child process, so its peak
resident memory (``ru_maxrss`` of the process and its workers) is measured alone. Prints
JSON: seconds per structure, speed-ups over one-at-a-time and peak memory (MiB) per setting.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from molgen.io.chainset import load_chain_set
from molgen.io.writers import write_pdb
from molgen.paths import default_data_path

REPO_ROOT = Path(__file__).resolve().parents[1]


def write_structures(chain_set: Path, n: int, length: int, folder: Path) -> list[Path]:
    """``n`` PDB files of val chains cropped to ``length`` residues (N, CA, C, O)."""
    chains = load_chain_set(chain_set, split="val")
    long_enough = np.flatnonzero(chains.lengths >= length)
    paths = []
    for k in range(n):
        atoms = chains.atoms(int(long_enough[k % len(long_enough)]))[:length]
        paths.append(write_pdb(atoms, folder / f"s{k:05d}.pdb"))
    return paths


def _child(argv: list[str]) -> None:
    """Run one scoring setting in this (child) process and print its timing as JSON."""
    folder, count, workers, batch_size, model = argv
    import torch

    from molgen import score_structures

    torch.set_num_threads(1)
    files = sorted(Path(folder).glob("*.pdb"))[: int(count)]
    start = time.perf_counter()
    rows = score_structures(
        files, model=model, conformer_model=None, workers=int(workers),
        batch_size=int(batch_size), progress=False,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    peak = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )  # KiB on Linux
    assert len(rows) == len(files) and all(r["error"] is None for r in rows)
    print(json.dumps({"structures": len(files), "seconds": seconds, "peak_mib": peak / 1024}))


def run_setting(folder: Path, count: int, workers: int, batch_size: int, model: str) -> dict:
    argv = [sys.executable, __file__, "--child", str(folder), str(count), str(workers)]
    argv += [str(batch_size), model]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run(argv, capture_output=True, text=True, check=True, env=env)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["seconds_per_structure"] = result["seconds"] / result["structures"]
    return {"workers": workers, "batch_size": batch_size, **result}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--length", type=int, default=100)
    parser.add_argument("--single-n", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--model", default="backbone")
    parser.add_argument("--chain-set", type=Path, default=None)
    args = parser.parse_args(argv)
    chain_set = args.chain_set or default_data_path("pdb_chains.npz")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_structures(chain_set, args.n, args.length, folder)
        single = run_setting(folder, min(args.single_n, args.n), 1, 1, args.model)
        batched = run_setting(folder, args.n, 1, args.batch_size, args.model)
        parallel = run_setting(folder, args.n, args.workers, args.batch_size, args.model)
    base = single["seconds_per_structure"]
    result = {
        "structures": args.n,
        "length": args.length,
        "cpu_count": os.cpu_count(),
        "settings": {"one_at_a_time": single, "batched": batched, "workers": parallel},
        "speedup_batched": base / batched["seconds_per_structure"],
        "speedup_workers": base / parallel["seconds_per_structure"],
    }
    json.dump(result, sys.stdout, indent=1)
    print()
    return result


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2:])
    else:
        main()
