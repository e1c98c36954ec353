"""Benchmark molgen conformers against RDKit ETKDGv3 (with and without MMFF).

Usage::

    python scripts/bench_conformers.py [--set qm9|egfr] [--split val] [--n 300] [--k 10]
        [--model NAME_OR_DIR] [--steps 20] [--start-time T] [--seed 0] [--device auto]
        [--split-file PATH] [--out FILE.json] [--quiet]

Molecule sets:

- ``qm9`` (default): ``--n`` molecules of the QM9 split (a seeded random subset, never the
  test set), references their DFT geometries; groups ``rotatable`` / ``rigid`` (with and
  without a rotatable bond of :func:`molgen.geometry.torsions.rotatable_bonds`); coverage
  thresholds 0.5 and 0.25 A.
- ``egfr``: the 365 drug-like 3D ligands of RDKit's ``Contrib/PBF/testData/egfr.sdf``
  (force-field-minimised poses shipped in the rdkit wheel; median 22 heavy atoms, 2-10
  rotatable bonds; a seeded subset when ``--n`` < 365); groups by RDKit's rotatable-bond
  count (``CalcNumRotatableBonds``: ``rot_0-3``, ``rot_4-5``, ``rot_6-7``, ``rot_8+``);
  thresholds 1.5 and 1.0 A.

Each method generates ``--k`` conformers from the molecular graph alone (the reference
conformer is removed; the stereo perceived from it is kept), and the score is the smallest
heavy-atom RMSD (``rdMolAlign.GetBestRMS``, symmetry-aware, Angstrom) of the K conformers to
the reference. Methods: ``molgen`` (the sampler's defaults), ``molgen_mmff`` (the same
conformers MMFF94-minimised, as ``--relax mmff`` does; its time includes molgen's),
``etkdg`` (ETKDGv3) and ``etkdg_mmff``. Prints JSON: per method and group, ``mean``/``median``
min-RMSD (over molecules with output), ``coverage_<threshold>`` (fraction of all molecules
whose min-RMSD is below it; failures count as not covered), ``failure_rate`` (no conformer),
and per method ``seconds_per_molecule`` (wall time, this process, same machine for all
methods). For molgen also ``checks_pass_rate``: the fraction of output conformers passing
:func:`molgen.checks.check_conformers`. Bad input: one line on stderr, exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from rdkit import Chem
from rdkit.Chem import rdDistGeom, rdMolAlign
from rdkit.rdBase import BlockLogs

from molgen.errors import InputError
from molgen.paths import default_data_path
from molgen.sample.conformers import mmff_relax, molecule_seed

THRESHOLDS = {"qm9": (0.5, 0.25), "egfr": (1.5, 1.0)}
EGFR_SIZE = 365
#: Rotatable-bond bins of the egfr set (inclusive bounds of RDKit's count).
ROTATABLE_BINS = {"rot_0-3": (0, 3), "rot_4-5": (4, 5), "rot_6-7": (6, 7), "rot_8+": (8, 99)}


def default_split_file() -> Path:
    """The repository's ``data/qm9_split.npz`` (``$MOLGEN_SHARED_DATA`` when set)."""
    return default_data_path("qm9_split.npz")


def egfr_file() -> Path:
    """``egfr.sdf`` of the installed rdkit wheel (``RDConfig.RDContribDir``)."""
    from rdkit import RDConfig

    path = Path(RDConfig.RDContribDir) / "PBF" / "testData" / "egfr.sdf"
    if not path.is_file():
        raise InputError("this rdkit installation has no Contrib/PBF/testData/egfr.sdf", path)
    return path


def reference_set(args: argparse.Namespace) -> tuple[list[Chem.Mol], dict[str, np.ndarray]]:
    """The reference molecules of ``--set`` and their groups (module docstring)."""
    if args.set == "qm9":
        from molgen.datasets.qm9 import QM9Molecules
        from molgen.geometry.torsions import rotatable_bonds

        refs = list(QM9Molecules(args.split_file, args.split, limit=args.n, seed=args.seed))
        rotatable = np.array([len(rotatable_bonds(mol)) > 0 for mol in refs])
        return refs, {"all": np.ones_like(rotatable), "rotatable": rotatable, "rigid": ~rotatable}
    from rdkit.Chem import rdMolDescriptors

    refs = list(Chem.SDMolSupplier(str(egfr_file()), removeHs=False))
    if any(mol is None for mol in refs):
        raise InputError("egfr.sdf has records RDKit cannot read")
    if args.n < len(refs):
        keep = np.sort(np.random.default_rng(args.seed).choice(len(refs), args.n, replace=False))
        refs = [refs[i] for i in keep]
    count = np.array([rdMolDescriptors.CalcNumRotatableBonds(mol) for mol in refs])
    groups = {"all": np.ones(len(refs), dtype=bool)}
    groups |= {name: (count >= lo) & (count <= hi) for name, (lo, hi) in ROTATABLE_BINS.items()}
    return refs, groups


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
        if ids:
            mmff_relax(work)
        mmff_s += time.perf_counter() - start
        relaxed.append(work if ids else None)
    return plain, relaxed, embed_s, embed_s + mmff_s


def relaxed_copies(mols: list[Chem.Mol | None]) -> tuple[list[Chem.Mol | None], float]:
    """Copies of ``mols`` with every conformer minimised by the sampler's ``relax="mmff"``
    (:func:`molgen.sample.conformers.mmff_relax`), and the seconds it took."""
    start, out = time.perf_counter(), []
    for mol in mols:
        copy = None if mol is None else Chem.AddHs(mol, addCoords=True)
        if copy is not None:
            mmff_relax(copy)
        out.append(copy)
    return out, time.perf_counter() - start


def summarise(
    rmsds: list[float | None],
    seconds: float,
    groups: dict[str, np.ndarray],
    thresholds: tuple[float, ...],
) -> dict:
    """Statistics of one method (see the module docstring), per group of molecules."""
    out = {}
    for group, select in groups.items():
        values = [r for r, s in zip(rmsds, select, strict=True) if s]
        ok = np.array([r for r in values if r is not None], dtype=np.float64)
        row = {
            "molecules": len(values),
            "mean": float(ok.mean()) if len(ok) else None,
            "median": float(np.median(ok)) if len(ok) else None,
            "failure_rate": (len(values) - len(ok)) / len(values) if values else None,
        }
        for threshold in thresholds:
            covered = float((ok < threshold).sum() / len(values)) if values else None
            row[f"coverage_{threshold}"] = covered
        out[group] = row
    out["seconds_per_molecule"] = seconds / len(rmsds)
    return out


def run(args: argparse.Namespace) -> dict:
    import torch

    from molgen.devices import resolve_device
    from molgen.models import load
    from molgen.sample.conformers import sample_conformers

    torch.set_num_threads(max(1, args.threads))
    device = resolve_device(args.device)
    references, groups = reference_set(args)
    inputs = [graph_only(mol) for mol in references]
    network = load(args.model, device=device)

    start = time.perf_counter()
    results = sample_conformers(
        network, inputs, args.k, steps=args.steps, start_time=args.start_time, seed=args.seed,
        device=device, progress=not args.quiet,
    )  # fmt: skip
    molgen_s = time.perf_counter() - start
    molgen_mmff, mmff_s = relaxed_copies([r.mol for r in results])
    plain, relaxed, plain_s, relaxed_s = etkdg(inputs, args.k, args.seed)

    def scores(mols: list[Chem.Mol | None]) -> list[float | None]:
        return [
            None if m is None else min_rmsd(m, ref) for m, ref in zip(mols, references, strict=True)
        ]

    checks = [record["checks_passed"] for r in results for record in r.checks]
    thresholds = THRESHOLDS[args.set]
    report = {
        "molgen": summarise(scores([r.mol for r in results]), molgen_s, groups, thresholds),
        "molgen_mmff": summarise(scores(molgen_mmff), molgen_s + mmff_s, groups, thresholds),
        "etkdg": summarise(scores(plain), plain_s, groups, thresholds),
        "etkdg_mmff": summarise(scores(relaxed), relaxed_s, groups, thresholds),
    }
    report["molgen"]["checks_pass_rate"] = float(np.mean(checks)) if checks else None
    report["molgen"]["errors"] = [r.error for r in results if r.error]
    report["settings"] = {
        "set": args.set, "split": args.split, "n": len(references), "k": args.k,
        "model": str(args.model), "steps": args.steps, "start_time": args.start_time,
        "seed": args.seed, "device": str(device),
        "threads": args.threads,
    }  # fmt: skip
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=tuple(THRESHOLDS), default="qm9")
    parser.add_argument("--split", choices=("val", "train"), default="val")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--model", default="conformer")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--start-time", type=float, default=None, help="default: by molecule size")
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
