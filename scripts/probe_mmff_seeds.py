"""Probe for issue 22: MMFF-relax molgen's seed conformers before the torsion model.

Runs ``scripts/bench_conformers.py`` with every seed conformer set
(:func:`molgen.chem.seed_conformers`) minimised with MMFF94 first (RDKit
``MMFFOptimizeMoleculeConfs``, 500 iterations; molecules without MMFF parameters keep their
seeds), so the torsion model starts from force-field local structure. Arguments are those of
``bench_conformers.py``; nothing in molgen uses this yet (model card, "Training continued").

Usage: OMP_NUM_THREADS=1 python scripts/probe_mmff_seeds.py --split val --n 300 --k 10
    --model DIR --out FILE
"""

from __future__ import annotations

import sys
from pathlib import Path

from rdkit.Chem import AllChem

import molgen.sample.conformers as conformer_sampler

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_conformers  # noqa: E402

_own_seeds = conformer_sampler.seed_conformers


def relaxed_seeds(mol, num, seed=0, **kwargs):
    """The sampler's seed conformers, each minimised with MMFF94 where it has parameters."""
    out = _own_seeds(mol, num, seed, **kwargs)
    if AllChem.MMFFHasAllMoleculeParams(out):
        AllChem.MMFFOptimizeMoleculeConfs(out, numThreads=1, maxIters=500)
    return out


if __name__ == "__main__":
    conformer_sampler.seed_conformers = relaxed_seeds
    sys.exit(bench_conformers.main(sys.argv[1:]))
