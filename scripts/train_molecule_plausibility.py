"""Train the molecule plausibility classifier (``molgen/weights/molecule_plausibility``).

Positives: the DFT geometries of ``--n`` QM9 molecules of the ``train`` split (seeded draw,
with and without rotatable bonds). Negatives, one of each class per molecule where it applies
(:mod:`molgen.scoring.molecule_decoys`): ``random_torsions`` (molecules with a rotatable
bond), ``etkdg_raw`` and ``wrong_stereo`` (molecules with a tetrahedral centre). Features:
:func:`molgen.scoring.molecule_features.conformer_features`, with the torsion model's
(``--model``) denoising score. Fit:
:func:`molgen.train.plausibility.fit_classifier` (negative classes share equally). Every 7th
molecule is held out and the held-out AUC of real vs each class printed. Writes the checkpoint
to ``--out`` and prints JSON.

Usage: OMP_NUM_THREADS=1 python scripts/train_molecule_plausibility.py --n 3000
    --out molgen/weights/molecule_plausibility [--overwrite]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from rdkit import Chem
from rich.progress import track
from train_plausibility import fit_and_save  # scripts/ (this script's folder)

from molgen.datasets.qm9 import QM9Molecules
from molgen.geometry.torsions import rotatable_bonds
from molgen.models import load
from molgen.paths import default_data_path
from molgen.scoring import conformer_model_scores
from molgen.scoring.molecule_decoys import MOLECULE_DECOYS
from molgen.scoring.molecule_features import (
    FEATURE_NAMES,
    conformer_features,
    has_mmff_parameters,
)


def features_of(model: torch.nn.Module, mol: Chem.Mol, seed: int) -> np.ndarray:
    """The classifier's features of ``mol``'s first conformer."""
    [denoising] = conformer_model_scores(model, mol, [mol.GetConformer().GetId()], seed=seed)
    return conformer_features(mol, mol.GetConformer().GetId(), denoising)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--model", default="conformer")
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=1500)
    parser.add_argument("--label-smoothing", type=float, default=0.01)
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    network = load(args.model)
    molecules = QM9Molecules(default_data_path("qm9_split.npz"), "train", limit=args.n, seed=1)
    rows, classes, held = [], [], []
    for index in track(range(len(molecules)), description="features"):
        mol = molecules[index]
        if not has_mmff_parameters(mol):
            continue
        Chem.AssignStereochemistryFrom3D(mol)
        rng = np.random.default_rng([args.seed, index])
        rows.append(features_of(network, mol, args.seed))
        classes.append("real"), held.append(index % 7 == 0)
        for name, build in MOLECULE_DECOYS.items():
            decoy = build(mol, rng, args.seed + index)
            if name == "random_torsions" and len(rotatable_bonds(mol)) == 0:
                continue  # no rotatable bond: the "decoy" is the real geometry
            if decoy is not None:
                rows.append(features_of(network, decoy, args.seed))
                classes.append(name), held.append(index % 7 == 0)
    cls, held = np.array(classes), np.array(held)
    return fit_and_save(np.stack(rows), cls, held, list(FEATURE_NAMES), args)


if __name__ == "__main__":
    main()
