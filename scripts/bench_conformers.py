"""Benchmark molgen conformers against RDKit ETKDGv3 (with and without MMFF) on QM9 val.

Usage::

    python scripts/bench_conformers.py [--split val] [--n 300] [--k 10] [--model NAME_OR_DIR]
        [--steps 20] [--seed 0] [--device auto] [--split-file PATH] [--out FILE.json] [--quiet]

For each of ``--n`` molecules of the split (a seeded random subset, never the test set), each
method generates ``--k`` conformers from the molecular graph alone (the DFT conformer is
removed; the stereo perceived from it is kept), and the score is the smallest heavy-atom
RMSD (``rdMolAlign.GetBestRMS``, symmetry-aware, Angstrom) of the K conformers to the DFT
geometry. Prints JSON: per method, for all molecules and split into those with and without a
rotatable bond: ``mean``/``median`` min-RMSD (over molecules with output), ``coverage_0.5`` and
``coverage_0.25`` (fraction of all molecules whose min-RMSD is below the threshold; failures
count as not covered), ``failure_rate`` (no conformer) and ``seconds_per_molecule`` (wall
time, this process, same machine for all methods). For molgen also ``checks_pass_rate``: the
fraction of output conformers passing :func:`molgen.checks.check_conformers`. Bad input:
one line on stderr, exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from rdkit import Chem
from rdkit.Chem import rdDistGeom, rdForceFieldHelpers, rdMolAlign
from rdkit.rdBase import BlockLogs

from molgen.errors import InputError
from molgen.paths import default_data_path
from molgen.sample.conformers import molecule_seed

THRESHOLDS = (0.5, 0.25)


def default_split_file() -> Path:
    """The repository's ``data/qm9_split.npz`` (``$MOLGEN_SHARED_DATA`` when set)."""
    return default_data_path("qm9_split.npz")


def graph_only(mol: Chem.Mol) -> Chem.Mol:
    """``mol`` without conformers, with the stereo its 3D geometry shows recorded as tags."""
    out = Chem.Mol(mol)
    Chem.AssignStereochemistryFrom3D(out)
    out.RemoveAllConformers()
    return out


def min_rmsd(generated: Chem.Mol, reference: Chem.Mol) -> float:
    """Smallest heavy-atom RMSD (Angstrom) of ``generated``'s conformers to ``reference``."""
    probe, ref = Chem.RemoveHs(generated), Chem.RemoveHs(reference)
    return min(
        rdMolAlign.GetBestRMS(Chem.Mol(probe), ref, prbId=conf.GetId())
        for conf in probe.GetConformers()
    )


def etkdg(mols: list[Chem.Mol], k: int, seed: int) -> tuple[list, list, float, float]:
    """ETKDGv3 conformers, the same MMFF-relaxed, and the seconds spent on each stage.

    Molecule ``i`` is embedded with molgen's seed of that molecule; RDKit's defaults
    otherwise (chirality enforced, ``10 x`` atoms attempts per conformer).
    """
    plain, relaxed, embed_s, mmff_s = [], [], 0.0, 0.0
    for index, mol in enumerate(mols):
        start = time.perf_counter()
        work = Chem.AddHs(mol)
        params = rdDistGeom.ETKDGv3()
        params.randomSeed, params.numThreads = molecule_seed(seed, index), 1
        with BlockLogs():
            ids = list(rdDistGeom.EmbedMultipleConfs(work, k, params))
        embed_s += time.perf_counter() - start
        plain.append(Chem.Mol(work) if ids else None)
        start = time.perf_counter()
        if ids and rdForceFieldHelpers.MMFFHasAllMoleculeParams(work):
            rdForceFieldHelpers.MMFFOptimizeMoleculeConfs(work, numThreads=1, maxIters=500)
        mmff_s += time.perf_counter() - start
        relaxed.append(work if ids else None)
    return plain, relaxed, embed_s, embed_s + mmff_s


def summarise(rmsds: list[float | None], seconds: float, rotatable: np.ndarray) -> dict:
    """Statistics of one method (see the module docstring), overall and by rotatable bonds."""
    out = {}
    groups = {"all": np.ones_like(rotatable), "rotatable": rotatable, "rigid": ~rotatable}
    for group, select in groups.items():
        values = [r for r, s in zip(rmsds, select, strict=True) if s]
        ok = np.array([r for r in values if r is not None], dtype=np.float64)
        row = {
            "molecules": len(values),
            "mean": float(ok.mean()) if len(ok) else None,
            "median": float(np.median(ok)) if len(ok) else None,
            "failure_rate": (len(values) - len(ok)) / len(values) if values else None,
        }
        for threshold in THRESHOLDS:
            covered = float((ok < threshold).sum() / len(values)) if values else None
            row[f"coverage_{threshold}"] = covered
        out[group] = row
    out["seconds_per_molecule"] = seconds / len(rmsds)
    return out


def run(args: argparse.Namespace) -> dict:
    import torch

    from molgen.datasets.qm9 import QM9Molecules
    from molgen.devices import resolve_device
    from molgen.geometry.torsions import rotatable_bonds
    from molgen.models import load
    from molgen.sample.conformers import sample_conformers

    torch.set_num_threads(max(1, args.threads))
    device = resolve_device(args.device)
    references = list(QM9Molecules(args.split_file, args.split, limit=args.n, seed=args.seed))
    inputs = [graph_only(mol) for mol in references]
    rotatable = np.array([len(rotatable_bonds(mol)) > 0 for mol in references])
    network = load(args.model, device=device)

    start = time.perf_counter()
    results = sample_conformers(
        network, inputs, args.k, steps=args.steps, seed=args.seed, device=device,
        progress=not args.quiet,
    )  # fmt: skip
    molgen_s = time.perf_counter() - start
    plain, relaxed, plain_s, relaxed_s = etkdg(inputs, args.k, args.seed)

    def scores(mols: list[Chem.Mol | None]) -> list[float | None]:
        return [
            None if m is None else min_rmsd(m, ref) for m, ref in zip(mols, references, strict=True)
        ]

    checks = [record["checks_passed"] for r in results for record in r.checks]
    report = {
        "molgen": summarise(scores([r.mol for r in results]), molgen_s, rotatable),
        "etkdg": summarise(scores(plain), plain_s, rotatable),
        "etkdg_mmff": summarise(scores(relaxed), relaxed_s, rotatable),
    }
    report["molgen"]["checks_pass_rate"] = float(np.mean(checks)) if checks else None
    report["molgen"]["errors"] = [r.error for r in results if r.error]
    report["settings"] = {
        "split": args.split, "n": len(references), "k": args.k, "model": str(args.model),
        "steps": args.steps, "seed": args.seed, "device": str(device),
        "threads": args.threads,
    }  # fmt: skip
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("val", "train"), default="val")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--model", default="conformer")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--split-file", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    args.split_file = args.split_file or default_split_file()
    try:
        report = run(args)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    text = json.dumps(report, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
