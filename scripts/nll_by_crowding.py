"""ProteinMPNN NLL of generated backbones by C-beta crowding, next to val chains. Print JSON.

An issue-16 diagnostic (backbone model card, "Session 29"). ProteinMPNN puts glycine where a
residue's virtual C-beta has no room, and glycine there costs little NLL, so a set of backbones
can lower its mean NLL by packing residues too close. This script splits each set's residues
into five classes by :func:`molgen.checks.clashes.cb_crowding_distance` (the distance from the
virtual C-beta to the nearest backbone atom or C-beta of a residue >= 3 apart; edges
``CLASS_EDGES``), gives each class's share of residues and mean per-residue NLL (one sequence per
backbone at temperature 0.1 under each seed set, ``--seeds``: backbone ``k`` under seed
``s + k``, as ``scripts/eval_backbones.py`` does for ``s`` = 0), and the NLL the set would have
with val's shares of the classes (``nll_at_val_crowding``). Val chains: those
``scripts/eval_backbones.py`` picks for the first folder's lengths.

Usage: python scripts/nll_by_crowding.py DIR [DIR ...] [--seeds 0 1000] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from molgen.checks.clashes import cb_crowding_distance
from molgen.errors import InputError
from molgen.evaluation import mpnn_available, read_backbone_dir, reference_set
from molgen.paths import default_data_path
from molgen.scoring.mpnn import mpnn_residue_nll

#: Crowding classes (Angstrom): [0, 2.6), [2.6, 3.0), [3.0, 3.4), [3.4, 3.8), [3.8, inf).
CLASS_EDGES = (2.6, 3.0, 3.4, 3.8)
CLASS_LABELS = (
    [f"<{CLASS_EDGES[0]}"]
    + [f"{a}-{b}" for a, b in zip(CLASS_EDGES[:-1], CLASS_EDGES[1:], strict=True)]
    + [f">={CLASS_EDGES[-1]}"]
)


def crowding_table(structures: Sequence[tuple[str, np.ndarray]], seeds: Sequence[int]) -> dict:
    """Share of residues and mean NLL per crowding class, pooled over ``seeds``; residues
    without a C-beta or an NLL are left out."""
    atoms = [a for _, a in structures]
    crowding = [
        np.digitize(cb_crowding_distance(a, np.isfinite(a).all(-1)), CLASS_EDGES) for a in atoms
    ]  # class per residue, the same under every seed
    with_cb = [np.isfinite(a[:, :3]).all((-1, -2)) for a in atoms]
    classes, nll = [], []
    for start in seeds:
        values = mpnn_residue_nll(atoms, [start + k for k in range(len(atoms))])
        for v, cls, has_cb in zip(values, crowding, with_cb, strict=True):
            keep = np.isfinite(v) & has_cb
            classes.append(cls[keep])
            nll.append(v[keep])
    cls, values = np.concatenate(classes), np.concatenate(nll)
    share = [float((cls == c).mean()) for c in range(len(CLASS_LABELS))]
    mean = [
        float(values[cls == c].mean()) if (cls == c).any() else None
        for c in range(len(CLASS_LABELS))
    ]
    return {"nll": float(values.mean()), "share": share, "class_nll": mean}


def at_shares(table: dict, shares: Sequence[float]) -> float | None:
    """The set's class NLLs weighted by ``shares`` (None when a weighted class is empty)."""
    pairs = list(zip(table["class_nll"], shares, strict=True))
    if any(v is None and w > 0 for v, w in pairs):
        return None
    return float(sum(v * w for v, w in pairs if w > 0))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dirs", type=Path, nargs="+", help="folders of .pdb/.cif backbones")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1000])
    parser.add_argument("--seed", type=int, default=0, help="val chain selection")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if not mpnn_available():
        print("error: proteinmpnn is not installed", file=sys.stderr)
        return 2
    try:
        sets = {str(d): read_backbone_dir(d) for d in args.dirs}
        counts = Counter(len(a) for _, a in sets[str(args.dirs[0])])
        lengths = sorted(counts)
        val = reference_set(
            default_data_path("pdb_chains.npz"), "val", lengths, [counts[n] for n in lengths],
            seed=args.seed,
        )  # fmt: skip
    except (InputError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = {"classes_A": CLASS_LABELS}
    result["val"] = crowding_table(val, args.seeds)
    for name, structures in sets.items():
        table = crowding_table(structures, args.seeds)
        table["nll_at_val_crowding"] = at_shares(table, result["val"]["share"])
        result[name] = table
    result["settings"] = {"seeds": args.seeds, "val_chains": len(val), "temperature": 0.1}
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
