"""Build ``molgen/data/ramachandran_general.npz`` from the train split of the PDB chain set.

Reads the repository's ``data/pdb_chains.npz`` (or ``--data PATH``), keeps ONLY chains with
``split == 'train'``, computes backbone phi/psi of every residue with both defined
(:func:`molgen.geometry.backbone_dihedrals`, never across chain boundaries), and calls
:func:`molgen.checks.ramachandran.build_ramachandran_density` (5 degree bins, periodic Gaussian
smoothing of 10 degrees; favoured = highest-density bins holding 98% of the train residues,
allowed = 99.8%). Writes the float32 density grid, the two thresholds and the settings used.
Deterministic: rerunning gives the same file.

Usage: ``python scripts/build_ramachandran.py [--data PATH] [--out PATH]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from molgen.checks.ramachandran import DATA_DIR, RAMACHANDRAN_FILE, build_ramachandran_density
from molgen.geometry import backbone_dihedrals
from molgen.paths import default_data_path

BIN_DEG = 5.0
SIGMA_DEG = 10.0
LEVELS = (0.98, 0.998)


def train_phi_psi(data_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Phi/psi (radians) of all train residues with both angles defined."""
    with np.load(data_path) as data:
        train = data["split"] == "train"
        lengths = data["length"]
        coords = data["coords_centi_A"]
    chain = np.repeat(np.arange(lengths.size), lengths)
    keep = train[chain]
    atoms = torch.from_numpy(coords[keep].astype(np.float64) / 100.0)
    first = np.zeros(int(keep.sum()), dtype=bool)
    first[np.concatenate([[0], np.cumsum(lengths[train])[:-1]])] = True
    # Treat the concatenated train chains as one array whose residues are all present; the
    # angles that would span two chains are removed below (phi of each first residue, psi
    # of each last one).
    phi, psi, _ = (t.numpy() for t in backbone_dihedrals(atoms))
    last = np.roll(first, -1)
    phi[first] = np.nan
    psi[last] = np.nan
    ok = np.isfinite(phi) & np.isfinite(psi)
    return phi[ok], psi[ok]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data_path("pdb_chains.npz"))
    parser.add_argument("--out", type=Path, default=DATA_DIR / RAMACHANDRAN_FILE)
    args = parser.parse_args()
    phi, psi = train_phi_psi(args.data)
    density, thresholds = build_ramachandran_density(phi, psi, BIN_DEG, SIGMA_DEG, LEVELS)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        density=density,
        thresholds=thresholds,
        levels=np.asarray(LEVELS),
        bin_deg=np.float64(BIN_DEG),
        sigma_deg=np.float64(SIGMA_DEG),
        n_residues=np.int64(phi.size),
    )
    print(f"{args.out}: {phi.size} train residues, thresholds {thresholds.tolist()}")


if __name__ == "__main__":
    main()
