"""Benchmark the molecule scores (``model_score`` and ``denoising_score``) on QM9 val; print JSON.

For the first ``--n`` QM9 val molecules with a rotatable bond (``qm9_split.npz``, seeded
draw; ``--set egfr``: the drug-like, force-field-minimised ligands of rdkit's ``egfr.sdf``
instead, a tuning set for how the QM9-trained scores transfer), the reference geometry is the
positive and each molecule gets one conformer of every decoy
class of :data:`molgen.scoring.molecule_decoys.MOLECULE_DECOYS` (same atom order, so the same
torsion graph is scored):

- ``random_torsions``: every rotatable torsion of the DFT geometry set to a uniform random
  angle (bond lengths and angles untouched; clashes allowed);
- ``etkdg_raw``: an ETKDGv3 embedding without force-field clean-up;
- ``wrong_stereo``: molecules with a tetrahedral stereocentre only: ETKDGv3 embedding of the
  molecule with the chirality of one centre inverted (coordinates put on the original
  molecule, so the graph is the same and the stereo is wrong).

Scores: ``model_score`` (the molecule plausibility classifier ``--classifier``,
:func:`molgen.scoring.plausibility.conformer_plausibility_scores`) and ``denoising_score``
(the torsion model ``--model`` alone, :func:`molgen.scoring.conformer_model_scores`). Reports
per class and score the ROC AUC for real (positive) vs decoy, the number of pairs, the
fraction of decoys failing molgen's molecule checks (:func:`molgen.checks.check_conformers`
against the input molecule), and the share of real conformers and of each decoy class with
``model_score`` above 0 (the log-odds threshold). The classifier was trained on train
molecules with decoys of the same three classes (``scripts/train_molecule_plausibility.py``);
these val molecules are unseen.

Usage: python scripts/bench_score_molecules.py --n 300 [--set qm9|egfr] [--model conformer]
    [--classifier molecule_plausibility] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch
from rdkit import Chem

from molgen.checks import check_conformers
from molgen.datasets.qm9 import QM9Molecules
from molgen.geometry.torsions import rotatable_bonds
from molgen.models import load
from molgen.paths import default_data_path
from molgen.scoring import conformer_model_scores, roc_auc
from molgen.scoring.molecule_decoys import MOLECULE_DECOYS
from molgen.scoring.plausibility import conformer_plausibility_scores

SCORES = ("model_score", "denoising_score")


def reference_molecules(name: str, n: int) -> list[Chem.Mol] | QM9Molecules:
    """``qm9``: a seeded draw of val molecules (enough for ``n`` with a rotatable bond);
    ``egfr``: the force-field-minimised drug-like ligands of rdkit's ``egfr.sdf``, a tuning
    set (``scripts/bench_conformers.py``), in a seeded order."""
    if name == "qm9":
        return QM9Molecules(default_data_path("qm9_split.npz"), "val", limit=4 * n, seed=0)
    from bench_conformers import egfr_file  # scripts/ (this script's folder)

    mols = list(Chem.SDMolSupplier(str(egfr_file()), removeHs=False))
    return [mols[i] for i in np.random.default_rng(0).permutation(len(mols))]


def _scores(model, classifier, mol: Chem.Mol, seed: int) -> tuple[float, float]:
    """``(model_score, denoising_score)`` of ``mol``'s first conformer."""
    conf_id = mol.GetConformer().GetId()
    [denoising] = conformer_model_scores(model, mol, [conf_id], seed=seed)
    [plausibility] = conformer_plausibility_scores(classifier, mol, [conf_id], [denoising])
    return plausibility, denoising


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--model", default="conformer")
    parser.add_argument("--classifier", default="molecule_plausibility")
    parser.add_argument("--set", choices=("qm9", "egfr"), default="qm9")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    model, classifier = load(args.model), load(args.classifier)
    molecules = reference_molecules(args.set, args.n)
    real: list[tuple[float, float]] = []
    decoys: dict[str, list] = {name: [] for name in MOLECULE_DECOYS}
    for index in range(len(molecules)):
        mol = molecules[index]
        if len(rotatable_bonds(mol)) == 0:
            continue
        Chem.AssignStereochemistryFrom3D(mol)
        rng = np.random.default_rng([args.seed, index])
        real_scores = _scores(model, classifier, mol, args.seed)
        if None in real_scores:  # no MMFF94 parameters
            continue
        real.append(real_scores)
        for name, build in MOLECULE_DECOYS.items():
            decoy = build(mol, rng, args.seed + index)
            if decoy is None:
                continue
            failed = not check_conformers(decoy, reference=mol)[0]["checks_passed"]
            decoys[name].append((*_scores(model, classifier, decoy, args.seed), failed))
        if len(real) == args.n:
            break
    positives = np.array(real, dtype=float)  # [n, 2]
    report = {"set": args.set, "n_molecules": len(real), "model": str(args.model),
              "classifier": str(args.classifier),
              "real_model_score_above_0": float((positives[:, 0] > 0).mean()),
              "decoys": {}}  # fmt: skip
    for name, rows in decoys.items():
        if not rows:
            continue
        table = np.array(rows, dtype=float)  # [pairs, 3]
        entry = {"pairs": len(rows), "caught_by_checks": float(table[:, 2].mean()),
                 "model_score_above_0": float((table[:, 0] > 0).mean())}  # fmt: skip
        for k, score in enumerate(SCORES):
            entry[f"{score}_auc"] = roc_auc(positives[:, k], table[:, k])
        report["decoys"][name] = entry
    json.dump(report, sys.stdout, indent=1)
    print()
    return report


if __name__ == "__main__":
    main()
