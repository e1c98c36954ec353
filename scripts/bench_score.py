"""Benchmark the structure scorer on real val chains and decoys; print JSON.

For ``--n`` val chains of 50-150 residues (``pdb_chains.npz``, split ``val``; first n in file
order) and their decoys (:mod:`molgen.scoring.decoys`):

- ``noise_0.5``, ``noise_1``, ``noise_2``: isotropic Gaussian noise, RMS displacement per atom
  0.5 / 1 / 2 Angstrom (standard deviation rms / sqrt(3) per coordinate);
- ``swap``: two non-overlapping stretches of 10-20 residues exchanged (each moved rigidly so
  its CA centroid lands on that of the stretch it replaces);
- ``helix``: an ideal straight alpha helix (phi -57, psi -47 degrees) of the same length;
- ``mirror``: the mirror image x -> -x;
- ``generated`` (with ``--generated DIR``): every PDB under DIR, e.g. the samples of
  ``scripts/generated_decoys.sh DIR bench`` (bundled model, sampler settings the classifier was
  not trained on), compared with the first ``--n`` val chains whose lengths lie in the
  generated range; also per sampler setting (sub-folder) and on the structures of both sides
  that pass every check (where the learned score has to add something);

it reports, per decoy type, the ROC AUC of ``model_score`` (the plausibility classifier
``--classifier``, :mod:`molgen.scoring.plausibility`) and of ``denoising_score`` (the
denoising error of ``--model``, :mod:`molgen.scoring.backbone`) for real (positive) vs
decoy, the fraction of decoys failing the checks (``checks_passed`` False), the fraction of
real chains passing, the share of real chains with ``model_score`` above 0, and the time to
denoising-score ``--timing-n`` real chains batched (``--batch-size``) vs one at a time.

Usage: python scripts/bench_score.py --n 200 --model DIR_OR_NAME [--classifier DIR_OR_NAME]
    [--generated DIR] [--seed 0] [--chain-set PATH]
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
from molgen.evaluation import read_backbone_dir
from molgen.io import load_chain_set
from molgen.models import load
from molgen.paths import default_data_path
from molgen.scoring import (
    backbone_model_scores,
    ideal_helix,
    mirror_decoy,
    noise_decoy,
    plausibility_scores,
    roc_auc,
    swap_decoy,
)

DECOYS = ("noise_0.5", "noise_1", "noise_2", "swap", "helix", "mirror")


def val_chains(path: Path, n: int, lo: int = 50, hi: int = 150) -> list[np.ndarray]:
    """The first ``n`` val chains with ``lo``-``hi`` residues, float64 ``(L, 4, 3)`` Angstrom."""
    chains = load_chain_set(path, split="val")
    out = []
    for i in range(len(chains.names)):
        atoms = chains.atoms(i).astype(np.float64)
        if lo <= len(atoms) <= hi:
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


def read_generated(directory: Path) -> dict[str, list[np.ndarray]]:
    """Backbones of every sub-folder of ``directory`` holding structures (or of ``directory``
    itself), by folder name."""
    folders = sorted(p for p in directory.iterdir() if p.is_dir()) or [directory]
    return {folder.name: [atoms for _, atoms in read_backbone_dir(folder)] for folder in folders}


def _scored(structures, model, classifier, args) -> dict[str, np.ndarray]:
    """``model_score``, ``denoising_score`` and ``checks_passed`` arrays of ``structures``."""
    values = backbone_model_scores(
        model, structures, seed=args.seed, batch_size=args.batch_size, device=args.device
    )
    return {
        "model_score": np.array(plausibility_scores(classifier, structures), dtype=float),
        "denoising_score": np.array([v["denoising_score"] for v in values], dtype=float),
        "checks_passed": np.array([check_backbone(a)["checks_passed"] for a in structures]),
    }


def _aucs(real: dict[str, np.ndarray], decoy: dict[str, np.ndarray]) -> dict[str, float]:
    return {name: roc_auc(real[name], decoy[name]) for name in ("model_score", "denoising_score")}


def _generated_report(real, settings, model, classifier, args) -> dict:
    """AUCs real vs generated: pooled, per setting, and on the structures passing every check."""
    scored = {name: _scored(s, model, classifier, args) for name, s in settings.items()}
    pooled = {k: np.concatenate([v[k] for v in scored.values()]) for k in real}
    passing_real = {k: v[real["checks_passed"]] for k, v in real.items()}
    passing = {k: v[pooled["checks_passed"]] for k, v in pooled.items()}
    report = {
        "n_generated": int(len(pooled["model_score"])),
        "n_real": int(len(real["model_score"])),
        "auc": _aucs(real, pooled),
        "generated_pass_fraction": float(pooled["checks_passed"].mean()),
        "generated_model_score_above_0": float((pooled["model_score"] > 0).mean()),
        "per_setting": {name: _aucs(real, v) for name, v in scored.items()},
    }
    if passing["model_score"].size and passing_real["model_score"].size:
        report["passing_every_check"] = {
            "n_generated": int(passing["model_score"].size),
            "n_real": int(passing_real["model_score"].size),
            "auc": _aucs(passing_real, passing),
        }
    return report


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--model", required=True, help="checkpoint directory or bundled name")
    parser.add_argument("--classifier", default="plausibility", help="plausibility classifier")
    parser.add_argument("--generated", type=Path, default=None, help="folder of generated PDBs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chain-set", type=Path, default=None)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--timing-n", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))

    model = load(args.model, device=args.device)
    classifier = load(args.classifier)
    chain_set = args.chain_set or default_data_path("pdb_chains.npz")
    real = val_chains(chain_set, args.n)
    sets = {"real": real, **make_decoys(real, args.seed)}

    start = time.perf_counter()
    scores = {name: _scored(s, model, classifier, args) for name, s in sets.items()}
    generated = None
    if args.generated is not None:
        settings = read_generated(args.generated)
        lengths = [len(a) for s in settings.values() for a in s]
        real_generated = val_chains(chain_set, args.n, min(lengths), max(lengths))
        real_scored = _scored(real_generated, model, classifier, args)
        generated = _generated_report(real_scored, settings, model, classifier, args)
    elapsed = time.perf_counter() - start

    timing = real[: args.timing_n]
    start = time.perf_counter()
    backbone_model_scores(model, timing, seed=args.seed, batch_size=args.batch_size)
    batched = time.perf_counter() - start
    start = time.perf_counter()
    backbone_model_scores(model, timing, seed=args.seed, batch_size=1)
    single = time.perf_counter() - start

    real_scores = scores["real"]
    result = {
        "n_chains": len(real),
        "model": str(args.model),
        "classifier": str(args.classifier),
        "seed": args.seed,
        "real_pass_fraction": float(real_scores["checks_passed"].mean()),
        "real_model_score_mean": float(real_scores["model_score"].mean()),
        "real_model_score_above_0": float((real_scores["model_score"] > 0).mean()),
        "decoys": {
            name: {
                "auc": roc_auc(real_scores["model_score"], scores[name]["model_score"]),
                "denoising_auc": roc_auc(
                    real_scores["denoising_score"], scores[name]["denoising_score"]
                ),
                "caught_by_checks": float(1.0 - scores[name]["checks_passed"].mean()),
                "model_score_mean": float(scores[name]["model_score"].mean()),
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
    if generated is not None:
        result["generated"] = generated
    json.dump(result, sys.stdout, indent=1)
    print()
    return result


if __name__ == "__main__":
    main()
