"""Benchmark the structure scorer on real val chains and decoys; print JSON.

For ``--n`` val chains of 50-150 residues (``pdb_chains.npz``, split ``val``; first n in file
order) and their decoys (:mod:`molgen.scoring.decoys`):

- ``noise_0.5``, ``noise_1``, ``noise_2``: isotropic Gaussian noise, RMS displacement per atom
  0.5 / 1 / 2 Angstrom (standard deviation rms / sqrt(3) per coordinate);
- ``swap``: two non-overlapping stretches of 10-20 residues exchanged (each moved rigidly so
  its CA centroid lands on that of the stretch it replaces);
- ``helix``: an ideal straight alpha helix (phi -57, psi -47 degrees) of the same length;
- ``mirror``: the mirror image x -> -x;

it reports, per decoy type, the ROC AUC of the learned ``model_score`` for real (positive) vs
decoy, and the fraction of decoys failing the checks (``checks_passed`` False), plus the
fraction of real chains passing, and the time to model-score ``--timing-n`` real chains batched
(``--batch-size``) vs one at a time.

Usage: python scripts/bench_score.py --n 200 --model DIR_OR_NAME --seed 0 [--chain-set PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from molgen.checks import check_backbone
from molgen.io import load_chain_set
from molgen.models import load
from molgen.paths import default_data_path
from molgen.scoring import (
    backbone_model_scores,
    ideal_helix,
    mirror_decoy,
    noise_decoy,
    roc_auc,
    swap_decoy,
)

DECOYS = ("noise_0.5", "noise_1", "noise_2", "swap", "helix", "mirror")


def val_chains(path: Path, n: int) -> list[np.ndarray]:
    """The first ``n`` val chains with 50-150 residues, float64 ``(L, 4, 3)`` Angstrom."""
    chains = load_chain_set(path, split="val")
    out = []
    for i in range(len(chains.names)):
        atoms = chains.atoms(i).astype(np.float64)
        if 50 <= len(atoms) <= 150:
            out.append(atoms)
        if len(out) == n:
            break
    return out


def make_decoys(real: list[np.ndarray], seed: int) -> dict[str, list[np.ndarray]]:
    sets: dict[str, list[np.ndarray]] = {name: [] for name in DECOYS}
    for index, atoms in enumerate(real):
        rng = np.random.default_rng([seed, index])
        for rms in (0.5, 1, 2):
            sets[f"noise_{rms}"].append(noise_decoy(atoms, rms, rng))
        sets["swap"].append(swap_decoy(atoms, rng))
        sets["helix"].append(ideal_helix(len(atoms)))
        sets["mirror"].append(mirror_decoy(atoms))
    return sets


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--model", required=True, help="checkpoint directory or bundled name")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chain-set", type=Path, default=None)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--timing-n", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))

    model = load(args.model, device=args.device)
    real = val_chains(args.chain_set or default_data_path("pdb_chains.npz"), args.n)
    sets = {"real": real, **make_decoys(real, args.seed)}

    start = time.perf_counter()
    scores, caught = {}, {}
    for name, structures in sets.items():
        values = backbone_model_scores(
            model, structures, seed=args.seed, batch_size=args.batch_size, device=args.device
        )
        scores[name] = np.array([v["model_score"] for v in values], dtype=float)
        caught[name] = float(np.mean([not check_backbone(a)["checks_passed"] for a in structures]))
    elapsed = time.perf_counter() - start

    timing = real[: args.timing_n]
    start = time.perf_counter()
    backbone_model_scores(model, timing, seed=args.seed, batch_size=args.batch_size)
    batched = time.perf_counter() - start
    start = time.perf_counter()
    backbone_model_scores(model, timing, seed=args.seed, batch_size=1)
    single = time.perf_counter() - start

    result = {
        "n_chains": len(real),
        "model": str(args.model),
        "seed": args.seed,
        "real_pass_fraction": 1.0 - caught["real"],
        "real_model_score_mean": float(scores["real"].mean()),
        "decoys": {
            name: {
                "auc": roc_auc(scores["real"], scores[name]),
                "caught_by_checks": caught[name],
                "model_score_mean": float(scores[name].mean()),
            }
            for name in DECOYS
        },
        "seconds_total": elapsed,
        "timing": {
            "structures": len(timing),
            "batch_size": args.batch_size,
            "seconds_batched": batched,
            "seconds_one_at_a_time": single,
            "speedup": single / batched,
        },
    }
    json.dump(result, sys.stdout, indent=1)
    print()
    return result


if __name__ == "__main__":
    main()
