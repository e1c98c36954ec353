"""Print the DSSP blueprints of val chains, one per line, for ``molgen sample backbone --ss-file``.

The issue-16 acceptance set (backbone model card): walking the val chains in
``numpy.random.default_rng(seed)`` permutation order, the first ``--n`` of ``--min-length``
to ``--max-length`` residues with at most 50% loop, each as its H/E/L string
(:func:`molgen.io.blueprint.blueprint_from_dssp`).

Usage: python scripts/val_blueprints.py [--n 32] [--min-length 60] [--max-length 128] > FILE
"""

from __future__ import annotations

import argparse

import numpy as np

from molgen.io.blueprint import blueprint_from_dssp
from molgen.io.chainset import load_chain_set
from molgen.paths import default_data_path

#: The most loop (L) a picked chain may have, as a fraction of its residues.
MAX_LOOP_FRACTION = 0.5


def val_blueprints(n: int, min_length: int, max_length: int, seed: int = 0) -> list[str]:
    """The blueprints the module docstring describes."""
    chains = load_chain_set(default_data_path("pdb_chains.npz"), "val")
    picked = []
    for i in np.random.default_rng(seed).permutation(len(chains)):
        blueprint = blueprint_from_dssp(str(chains.dssp[int(i)]))
        size = len(blueprint)
        if min_length <= size <= max_length and blueprint.count("L") <= MAX_LOOP_FRACTION * size:
            picked.append(blueprint)
        if len(picked) == n:
            break
    return picked


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=32)
    parser.add_argument("--min-length", type=int, default=60)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print("\n".join(val_blueprints(args.n, args.min_length, args.max_length, args.seed)))


if __name__ == "__main__":
    main()
