"""Benchmark the molecule score (torsion model's ``model_score``) on QM9 val; print JSON.

For the first ``--n`` QM9 val molecules with a rotatable bond (``qm9_split.npz``, seeded
draw), the DFT geometry is the positive and each molecule gets one conformer of every decoy
class (same atom order, so the same torsion graph is scored):

- ``random_torsions``: every rotatable torsion of the DFT geometry set to a uniform random
  angle (bond lengths and angles untouched; clashes allowed);
- ``etkdg_raw``: an ETKDGv3 embedding without force-field clean-up;
- ``wrong_stereo``: molecules with a tetrahedral stereocentre only: ETKDGv3 embedding of the
  molecule with the chirality of one centre inverted (coordinates put on the original
  molecule, so the graph is the same and the stereo is wrong).

Reports per class the ROC AUC of ``model_score`` for real (positive) vs decoy, the number of
pairs, and the fraction of decoys failing molgen's molecule checks
(:func:`molgen.checks.check_conformers` against the input molecule).

Usage: python scripts/bench_score_molecules.py --n 300 [--model conformer] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch
from rdkit import Chem
from rdkit.Chem import AllChem, rdMolTransforms

from molgen.checks import check_conformers
from molgen.datasets.qm9 import QM9Molecules
from molgen.geometry.torsions import rotatable_bonds
from molgen.models import load
from molgen.paths import default_data_path
from molgen.scoring import conformer_model_scores, roc_auc

DECOYS = ("random_torsions", "etkdg_raw", "wrong_stereo")


def _with_coordinates(mol: Chem.Mol, coords: np.ndarray) -> Chem.Mol:
    out = Chem.Mol(mol)
    conf = out.GetConformer()
    for i, xyz in enumerate(coords):
        conf.SetAtomPosition(i, xyz.tolist())
    return out


def random_torsions(mol: Chem.Mol, rng: np.random.Generator) -> Chem.Mol:
    out = Chem.Mol(mol)
    conf = out.GetConformer()
    for a, b, c, d in rotatable_bonds(out).tolist():
        rdMolTransforms.SetDihedralRad(conf, a, b, c, d, float(rng.uniform(-np.pi, np.pi)))
    return out


def _embed(mol: Chem.Mol, seed: int) -> np.ndarray | None:
    params = AllChem.ETKDGv3()
    params.randomSeed = seed
    work = Chem.Mol(mol)
    work.RemoveAllConformers()
    if AllChem.EmbedMolecule(work, params) < 0:
        return None
    return work.GetConformer().GetPositions()


def etkdg_raw(mol: Chem.Mol, seed: int) -> Chem.Mol | None:
    coords = _embed(mol, seed)
    return None if coords is None else _with_coordinates(mol, coords)


def wrong_stereo(mol: Chem.Mol, seed: int) -> Chem.Mol | None:
    """The molecule embedded with its first tetrahedral centre inverted, or None."""
    centres = Chem.FindMolChiralCenters(mol, includeUnassigned=False, useLegacyImplementation=False)
    if not centres:
        return None
    inverted = Chem.Mol(mol)
    atom = inverted.GetAtomWithIdx(centres[0][0])
    atom.InvertChirality()
    coords = _embed(inverted, seed)
    return None if coords is None else _with_coordinates(mol, coords)


def _score(model, mol: Chem.Mol, seed: int) -> float | None:
    [value] = conformer_model_scores(model, mol, [mol.GetConformer().GetId()], seed=seed)
    return value


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--model", default="conformer")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    model = load(args.model)
    molecules = QM9Molecules(default_data_path("qm9_split.npz"), "val", limit=4 * args.n, seed=0)
    real: list[float] = []
    decoys: dict[str, list[tuple[float, float, bool]]] = {name: [] for name in DECOYS}
    for index in range(len(molecules)):
        mol = molecules[index]
        if len(rotatable_bonds(mol)) == 0:
            continue
        Chem.AssignStereochemistryFrom3D(mol)
        rng = np.random.default_rng([args.seed, index])
        real_score = _score(model, mol, args.seed)
        if real_score is None:
            continue
        real.append(real_score)
        made = {
            "random_torsions": random_torsions(mol, rng),
            "etkdg_raw": etkdg_raw(mol, args.seed + index),
            "wrong_stereo": wrong_stereo(mol, args.seed + index),
        }
        for name, decoy in made.items():
            if decoy is None:
                continue
            value = _score(model, decoy, args.seed)
            failed = not check_conformers(decoy, reference=mol)[0]["checks_passed"]
            decoys[name].append((real_score, value, failed))
        if len(real) == args.n:
            break
    report = {"n_molecules": len(real), "model": str(args.model), "decoys": {}}
    for name, rows in decoys.items():
        if not rows:
            continue
        pos, neg, failed = (np.array(v, dtype=float) for v in zip(*rows, strict=True))
        report["decoys"][name] = {
            "pairs": len(rows),
            "auc": roc_auc(np.array(real), neg),
            "paired_auc": float(np.mean(pos > neg) + 0.5 * np.mean(pos == neg)),
            "caught_by_checks": float(failed.mean()),
        }
    json.dump(report, sys.stdout, indent=1)
    print()
    return report


if __name__ == "__main__":
    main()
