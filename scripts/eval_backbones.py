"""Evaluate a directory of generated backbones next to real val chains of the same lengths.

Usage::

    python scripts/eval_backbones.py DIR [--chain-set PATH] [--per-length N] [--n-train 500]
        [--no-novelty] [--no-mpnn] [--seed 0] [--workers 1] [--out FILE.json] [--quiet]

Prints JSON ``{"samples": {...}, "val": {...}, "acceptance": {criterion: {"value",
"threshold", "pass"}}, "settings": {...}}`` (see :mod:`molgen.evaluation`). Val chains: for
each sample length, ``--per-length`` val chains (default: as many as there are samples of that
length), the least-longer chains first, cropped to the length at a seeded start. Novelty: max
TM-score to ``--n-train`` train chains drawn with the seed among train chains whose length lies
in [0.8 min L, 1.25 max L] of the samples. Conditioned samples: when ``DIR/report.csv`` (written
by ``molgen sample backbone --ss``) has ``path`` and ``blueprint`` columns, the samples'
``ss_agreement`` is the DSSP agreement with those blueprints, pooled over specified residues
(``acceptance`` then includes it). Bad input: one line on stderr, exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import torch

from molgen.errors import InputError
from molgen.evaluation import (
    acceptance,
    evaluate_backbones,
    mpnn_available,
    read_backbone_dir,
    read_blueprints,
    reference_set,
    train_reference,
)
from molgen.paths import default_data_path

REPO_ROOT = Path(__file__).resolve().parents[1]


def default_chain_set() -> Path:
    """The repository's ``data/pdb_chains.npz`` (``$MOLGEN_SHARED_DATA`` when set)."""
    return default_data_path("pdb_chains.npz")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dir", type=Path, help="folder of generated .pdb/.cif files")
    parser.add_argument("--chain-set", type=Path, default=None, help="pdb_chains.npz")
    parser.add_argument("--per-length", type=int, default=None, help="val chains per length")
    parser.add_argument("--n-train", type=int, default=500, help="train chains for novelty")
    parser.add_argument("--no-novelty", action="store_true")
    parser.add_argument("--no-mpnn", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1, help="processes for novelty TM-align")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    chain_set = args.chain_set or default_chain_set()
    try:
        samples = read_backbone_dir(args.dir)
        blueprints = read_blueprints(args.dir)
        counts = Counter(len(atoms) for _, atoms in samples)
        lengths = sorted(counts)
        per_length = [args.per_length or counts[n] for n in lengths]
        val = reference_set(chain_set, "val", lengths, per_length, seed=args.seed)
        length_range = (int(0.8 * lengths[0]), int(1.25 * lengths[-1]))
        train = None
        if not args.no_novelty:
            train = train_reference(chain_set, args.n_train, args.seed, length_range)
    except (InputError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    options = {"mpnn": not args.no_mpnn, "progress": not args.quiet, "seed": args.seed}
    options["workers"] = args.workers
    try:
        sample_summary = evaluate_backbones(samples, train, **options, blueprints=blueprints)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = {"samples": sample_summary, "val": evaluate_backbones(val, train, **options)}
    result["acceptance"] = acceptance(result["samples"])
    result["settings"] = {
        "dir": str(args.dir),
        "chain_set": str(chain_set),
        "val_per_length": dict(zip(map(str, lengths), per_length, strict=True)),
        "val_selection": "least-longer val chains first, cropped to L at a seeded start",
        "novelty_reference": None
        if train is None
        else {"split": "train", "n": len(train), "length_range": list(length_range)},
        "diversity": "mean TM-score (tmtools, CA, mean of both normalisations) over pairs "
        "of different structures of equal length",
        "tm_clusters": "single-linkage clusters at pairwise TM >= 0.5 within each length; "
        "tm_cluster_fraction = clusters / structures",
        "elements": "maximal runs of DSSP three-state H (>= 4 residues) and E (>= 2), mean "
        "count per chain",
        "paired_strand": "DSSP E (ladder, not isolated bridge B) with a CA of another strand "
        "element within 5.5 A at sequence separation >= 3, over DSSP E + B residues",
        "cb_crowding": "residues whose virtual C-beta lies within 3.0 A of N, CA, C, O or the "
        "virtual C-beta of a residue >= 3 apart, over residues with N, CA and C",
        "blueprints": None
        if not blueprints
        else {"source": str(args.dir / "report.csv"), "n": len(blueprints)},
        "mpnn": "off" if args.no_mpnn else ("on" if mpnn_available() else "not installed"),
        "seed": args.seed,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
