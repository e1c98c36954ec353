"""Train the plausibility classifier (``molgen/weights/plausibility``) on train chains and decoys.

Positives: ``--n-real`` chains of 50-256 residues of the ``train`` split of ``pdb_chains.npz``
(seeded draw). Negatives, all built from other train chains or sampled by molgen's own models:

- ``generated``: every PDB under ``--generated`` (``scripts/generated_decoys.sh DIR train``:
  the bundled model and the v2 run at several sampler settings), half the negative weight;
- ``noise_0.5``, ``noise_1``, ``noise_2``, ``swap``, ``helix``, ``mirror``: the decoys of
  :mod:`molgen.scoring.decoys` (as in ``scripts/bench_score.py``);
- ``torsion_noise_10``, ``torsion_noise_25``: the chain rebuilt with ideal bonds from its own
  phi, psi plus 10 or 25 degrees of Gaussian noise (:func:`molgen.scoring.torsion_noise_decoy`:
  clean covalent geometry, a wrong fold);
- ``compacted``: CA-centred coordinates scaled by 0.85 (over-packed chains).

The loss is logistic with class weights (positives 1 in all, negatives 1 in all: half to
``generated``, the rest shared by the other classes) and targets smoothed to
``--label-smoothing`` / 2 and 1 - that (so the log-odds stay within about +-log(2/eps - 1)
instead of growing without bound on separable classes), full batch, AdamW; the feature
standardisation comes from the positives and negatives together. 15% of the chains (and the
generated setting named by ``--holdout-setting``) are held out and their AUC printed per
class. Writes the checkpoint to ``--out`` (``molgen.models.save``) and prints JSON.

Usage: python scripts/train_plausibility.py --generated DIR --out molgen/weights/plausibility
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

from molgen.evaluation import read_backbone_dir
from molgen.io import load_chain_set
from molgen.models import PlausibilityClassifierConfig, save
from molgen.paths import default_data_path
from molgen.scoring import (
    aucs_by_class,
    ideal_helix,
    mirror_decoy,
    noise_decoy,
    swap_decoy,
    torsion_noise_decoy,
)
from molgen.scoring.features import FEATURE_NAMES, chain_features
from molgen.train.plausibility import fit_classifier

SYNTHETIC = ("noise_0.5", "noise_1", "noise_2", "swap", "helix", "mirror", "torsion_noise_10",
             "torsion_noise_25", "compacted")  # fmt: skip


def synthetic_decoy(name: str, atoms: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One decoy of class ``name`` (module docstring) of a real chain ``(L, 4, 3)``."""
    if name.startswith("noise_"):
        return noise_decoy(atoms, float(name.split("_")[1]), rng)
    if name == "swap":
        return swap_decoy(atoms, rng)
    if name == "helix":
        return ideal_helix(len(atoms))
    if name == "mirror":
        return mirror_decoy(atoms)
    if name.startswith("torsion_noise_"):
        return torsion_noise_decoy(atoms, math.radians(float(name.rsplit("_", 1)[1])), rng)
    if name == "compacted":
        centre = atoms[:, 1].mean(0)
        return (atoms - centre) * 0.85 + centre
    raise ValueError(name)


def _features(structures: list[np.ndarray]) -> np.ndarray:
    return np.stack([chain_features(a) for a in structures])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generated", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--n-real", type=int, default=2000)
    parser.add_argument("--n-synthetic", type=int, default=150, help="chains per synthetic class")
    parser.add_argument("--holdout-setting", default="v1_s30_ode")
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=1500)
    parser.add_argument("--label-smoothing", type=float, default=0.01)
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    torch.manual_seed(args.seed)

    chains = load_chain_set(default_data_path("pdb_chains.npz"), "train")
    usable = [i for i in range(len(chains)) if 50 <= len(chains.atoms(i)) <= 256]
    picked = rng.permutation(usable)
    real_idx = picked[: args.n_real]
    decoy_idx = picked[args.n_real : args.n_real + args.n_synthetic * len(SYNTHETIC)]

    rows, classes, held = [], [], []
    for k, i in enumerate(real_idx):
        rows.append(chain_features(chains.atoms(int(i)).astype(np.float64)))
        classes.append("real"), held.append(k % 7 == 0)
    for c, name in enumerate(SYNTHETIC):
        part = decoy_idx[c * args.n_synthetic : (c + 1) * args.n_synthetic]
        for k, i in enumerate(part):
            atoms = chains.atoms(int(i)).astype(np.float64)
            rows.append(chain_features(synthetic_decoy(name, atoms, rng)))
            classes.append(name), held.append(k % 7 == 0)
    for setting in sorted(p for p in args.generated.iterdir() if p.is_dir()):
        for k, (_, atoms) in enumerate(read_backbone_dir(setting)):
            rows.append(chain_features(atoms))
            classes.append("generated")
            held.append(setting.name == args.holdout_setting or k % 7 == 0)

    cls, held = np.array(classes), np.array(held)
    negatives = [n for n in ("generated", *SYNTHETIC) if (cls == n).any()]
    shares = {n: 0.5 if n == "generated" else 0.5 / (len(negatives) - 1) for n in negatives}
    return fit_and_save(np.stack(rows), cls, held, list(FEATURE_NAMES), args, shares)


def fit_and_save(
    rows: np.ndarray,
    classes: np.ndarray,
    held: np.ndarray,
    feature_names: list[str],
    args: argparse.Namespace,
    shares: dict[str, float] | None = None,
) -> dict:
    """Fit the classifier (``--hidden``, ``--epochs``, ``--label-smoothing``,
    ``--weight-decay``), save it to ``--out`` with its training summary, print the summary
    as JSON and return it (the molecule classifier's script shares this)."""
    config = PlausibilityClassifierConfig(feature_names=feature_names, hidden=args.hidden)
    model, loss = fit_classifier(
        rows, classes, held, config, shares=shares, epochs=args.epochs,
        label_smoothing=args.label_smoothing, weight_decay=args.weight_decay,
    )  # fmt: skip
    with torch.no_grad():
        logit = model(torch.tensor(rows, dtype=torch.float32)).numpy()
    result = {
        "features": len(feature_names),
        "train_loss": loss,
        "counts": {n: int((classes == n).sum()) for n in dict.fromkeys(classes.tolist())},
        "holdout_auc": aucs_by_class(logit, classes, held),
    }
    save(model, args.out, overwrite=args.overwrite, extra={"training": result})
    json.dump(result, sys.stdout, indent=1)
    print()
    return result


if __name__ == "__main__":
    main()
