"""Figures of generated backbones next to real val chains of the same lengths.

Usage::

    python scripts/plot_backbones.py DIR --out FIG_DIR [--chain-set PATH] [--per-length N]
        [--seed 0]

Writes into FIG_DIR (created if needed):

- ``ramachandran.png``: 2D histograms of (phi, psi), samples and val side by side, with the
  contour of the PDB's favoured (98%) region from ``molgen/data/ramachandran_general.npz``;
- ``secondary_structure.png``: pooled DSSP helix / strand / coil fractions;
- ``rg_vs_length.png``: CA radius of gyration vs length with the curve 2.2 L^0.38 A and the
  band [0.8, 1.4] times it.

Val chains are chosen as in ``eval_backbones.py`` (:func:`molgen.evaluation.reference_set`).
Needs matplotlib (the ``eval`` extra). Bad input: one line on stderr, exit 2.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import matplotlib
import numpy as np
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

from molgen.checks import check_backbone  # noqa: E402
from molgen.checks.ramachandran import load_ramachandran  # noqa: E402
from molgen.errors import InputError  # noqa: E402
from molgen.evaluation import RG_RATIO_BAND, phi_psi, read_backbone_dir, reference_set  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_backbones import default_chain_set  # noqa: E402


def _angles(structures) -> np.ndarray:
    """(phi, psi) in degrees of every residue with both defined, shape (N, 2)."""
    pairs = np.concatenate([np.stack(phi_psi(atoms), -1) for _, atoms in structures])
    return np.degrees(pairs[np.isfinite(pairs).all(-1)])


def _records(structures) -> list[dict]:
    return [check_backbone(atoms, np.isfinite(atoms).all(-1)) for _, atoms in structures]


def plot_ramachandran(sets: dict, path: Path) -> None:
    density, (favoured, _) = load_ramachandran()
    n = density.shape[0]
    centres = -180.0 + (np.arange(n) + 0.5) * 360.0 / n
    fig, axes = plt.subplots(1, len(sets), figsize=(6.0 * len(sets), 4.8), squeeze=False)
    for ax, (label, structures) in zip(axes[0], sets.items(), strict=True):
        angles = _angles(structures)
        _, _, _, image = ax.hist2d(
            *angles.T, bins=72, range=[[-180, 180], [-180, 180]], cmap="viridis", norm=LogNorm()
        )
        fig.colorbar(image, ax=ax, shrink=0.8, label="residues per 5 deg bin")
        # density axis 0 is phi, axis 1 psi; contour wants z[y, x]
        ax.contour(centres, centres, density.T, levels=[favoured], colors="r", linewidths=1.0)
        ax.set(xlabel="phi (deg)", ylabel="psi (deg)", xlim=(-180, 180), ylim=(-180, 180))
        ax.set_title(f"{label}: {len(angles)} residues (red: PDB 98% region)")
        ax.set_aspect("equal")
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def plot_secondary(records: dict, path: Path) -> None:
    states = ("helix", "strand", "coil")
    fig, ax = plt.subplots(figsize=(6, 4))
    width = 0.8 / len(records)
    for k, (label, recs) in enumerate(records.items()):
        weights = np.array([r["n_residues"] for r in recs])
        values = [np.average([r[f"{s}_fraction"] for r in recs], weights=weights) for s in states]
        x = np.arange(len(states)) + (k - (len(records) - 1) / 2) * width
        bars = ax.bar(x, values, width, label=label)
        ax.bar_label(bars, fmt="%.2f", fontsize=8)
    ax.set_xticks(np.arange(len(states)), states)
    ax.set(ylabel="fraction of residues (DSSP)", ylim=(0, 1), title="Secondary structure")
    ax.legend()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def plot_rg(records: dict, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 4.5))
    lengths = np.concatenate([[r["n_residues"] for r in recs] for recs in records.values()])
    grid = np.linspace(max(lengths.min() - 10, 10), lengths.max() + 10, 200)
    ideal = 2.2 * grid**0.38
    ax.fill_between(grid, RG_RATIO_BAND[0] * ideal, RG_RATIO_BAND[1] * ideal, color="0.9")
    ax.plot(grid, ideal, "k-", lw=1, label="2.2 L^0.38 (band 0.8-1.4x)")
    offset = {label: (k - (len(records) - 1) / 2) * 1.5 for k, label in enumerate(records)}
    for label, recs in records.items():
        n = np.array([r["n_residues"] for r in recs]) + offset[label]  # small dodge
        ax.scatter(n, [r["radius_of_gyration"] for r in recs], s=14, alpha=0.7, label=label)
    ax.set(xlabel="length (residues)", ylabel="Rg of CA (A)", title="Radius of gyration")
    ax.legend()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dir", type=Path, help="folder of generated .pdb/.cif files")
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNGs")
    parser.add_argument("--chain-set", type=Path, default=None, help="pdb_chains.npz")
    parser.add_argument("--per-length", type=int, default=None, help="val chains per length")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    try:
        samples = read_backbone_dir(args.dir)
        counts = Counter(len(atoms) for _, atoms in samples)
        lengths = sorted(counts)
        per_length = [args.per_length or counts[n] for n in lengths]
        chain_set = args.chain_set or default_chain_set()
        val = reference_set(chain_set, "val", lengths, per_length, seed=args.seed)
        args.out.mkdir(parents=True, exist_ok=True)
    except (InputError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sets = {"samples": samples, "val": val}
    records = {label: _records(structures) for label, structures in sets.items()}
    plot_ramachandran(sets, args.out / "ramachandran.png")
    plot_secondary(records, args.out / "secondary_structure.png")
    plot_rg(records, args.out / "rg_vs_length.png")
    for name in ("ramachandran", "secondary_structure", "rg_vs_length"):
        print(args.out / f"{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
