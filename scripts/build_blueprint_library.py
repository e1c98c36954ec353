"""Build ``molgen/data/blueprint_library.npz``: blueprints of the backbone model's train chains.

Reads the repository's ``data/pdb_chains.npz`` (or ``--data PATH``), keeps ONLY chains with
``split == 'train'`` that pass the v2 training filter (60-256 residues, at most 50% DSSP loop:
``scripts/configs/backbone_v2.yaml``), maps their 8-state DSSP to H/E/L
(:func:`molgen.io.blueprint.blueprint_from_dssp`) and stores them concatenated with their
lengths and their strand pairings (:func:`molgen.io.strand_pairing.element_pairing` of the CA
atoms) (:class:`molgen.sample.blueprint_prior.BlueprintLibrary`). Deterministic.

Usage: ``python scripts/build_blueprint_library.py [--data PATH] [--out PATH]``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from molgen.io import load_chain_set
from molgen.io.blueprint import blueprint_from_dssp
from molgen.io.strand_pairing import element_pairing, strand_partners
from molgen.paths import default_data_path
from molgen.sample.blueprint_prior import LIBRARY_FILE

MIN_LENGTH, MAX_LENGTH, MAX_COIL = 60, 256, 0.5


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data_path("pdb_chains.npz"))
    parser.add_argument("--out", type=Path, default=LIBRARY_FILE)
    args = parser.parse_args(argv)
    chains = load_chain_set(args.data, "train")
    blueprints = [blueprint_from_dssp(str(d)) for d in chains.dssp]
    keep = [
        c
        for c, bp in enumerate(blueprints)
        if MIN_LENGTH <= len(bp) <= MAX_LENGTH and bp.count("L") <= MAX_COIL * len(bp)
    ]
    pairs = []
    for row, c in enumerate(keep):
        partners = strand_partners(chains.atoms(c)[:, 1].astype(np.float64), blueprints[c])
        pairing = element_pairing(blueprints[c], partners)
        pairs += [(row, a, b, int(parallel)) for a, b, parallel in pairing]
    kept = [blueprints[c] for c in keep]
    letters = np.frombuffer("".join(kept).encode("ascii"), dtype=np.uint8)
    lengths = np.array([len(bp) for bp in kept], dtype=np.int32)
    pairs = np.array(pairs, dtype=np.int32).reshape(-1, 4)
    np.savez_compressed(args.out, letters=letters, lengths=lengths, pairs=pairs)
    pooled = "".join(kept)
    summary = {"chains": len(kept), "residues": len(pooled), "strand_pairs": len(pairs)}
    summary["parallel_fraction"] = round(float(pairs[:, 3].mean()), 4) if len(pairs) else 0.0
    summary.update({f"fraction_{c}": round(pooled.count(c) / len(pooled), 4) for c in "HEL"})
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
