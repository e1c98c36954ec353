"""Calibrate a backbone model's learned plausibility score on real train chains.

    python scripts/calibrate_score.py MODEL [--n 300] [--seed 0] [--chain-set PATH]

MODEL is a checkpoint folder (e.g. ``molgen/weights/backbone``). For ``--n`` train chains of
50-300 residues (a seeded random subset; never val or test), the log denoising error at each
time of :data:`molgen.scoring.DEFAULT_T_GRID` is measured, and its mean and standard deviation
are written into the checkpoint's ``config.json`` under ``extra.score_calibration`` (see
:mod:`molgen.scoring.backbone`). Run it again whenever the weights change. Prints the
calibration as JSON. Bad input: one line on stderr, exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

from molgen.errors import InputError
from molgen.io.chainset import load_chain_set
from molgen.models import load, update_extra
from molgen.paths import default_data_path
from molgen.scoring import calibrate

REPO_ROOT = Path(__file__).resolve().parents[1]


def train_chains(path: Path, n: int, seed: int) -> list[np.ndarray]:
    """``n`` random train chains with 50-300 residues, float64 ``(L, 4, 3)`` Angstrom."""
    chains = load_chain_set(path, split="train")
    eligible = np.flatnonzero((chains.lengths >= 50) & (chains.lengths <= 300))
    picked = np.random.default_rng(seed).choice(eligible, size=min(n, len(eligible)), replace=False)
    return [chains.atoms(int(i)) for i in sorted(picked)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="checkpoint folder")
    parser.add_argument("--n", type=int, default=300, help="train chains")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chain-set", type=Path, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    chain_set = args.chain_set or default_data_path("pdb_chains.npz")
    try:
        model = load(args.model)
        chains = train_chains(chain_set, args.n, args.seed)
        calibration = calibrate(model, chains, seed=args.seed).to_dict()
        update_extra(args.model, score_calibration=calibration)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    json.dump(calibration, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
