"""Real PDB chains for the backbone checks: val chains of ``pdb_chains.npz`` (never train).

The file comes from the root ``chain_set_path`` fixture (the repository's
``data/pdb_chains.npz``); a missing file fails the tests that need it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

#: Every 6th val chain: 131 chains, 50-300 residues, all secondary-structure classes.
VAL_STRIDE = 6


@dataclass(frozen=True)
class Chain:
    """One real chain: backbone atoms ``(L, 4, 3)`` in Angstrom, sequence, 8-state DSSP."""

    pdb_id: str
    atoms: np.ndarray
    sequence: str
    dssp: str


@pytest.fixture(scope="session")
def pdb_chains_path(chain_set_path: Path) -> Path:
    """Path of ``pdb_chains.npz`` (the root fixture fails the test when it is absent)."""
    return chain_set_path


@pytest.fixture(scope="session")
def val_chains(pdb_chains_path: Path) -> list[Chain]:
    """Every ``VAL_STRIDE``-th chain of the val split, in file order."""
    with np.load(pdb_chains_path) as data:
        d = {k: data[k] for k in ("split", "offsets", "coords_centi_A", "pdb_id", "seq", "dssp")}
    val = np.flatnonzero(d["split"] == "val")[::VAL_STRIDE]
    start, stop = d["offsets"][val], d["offsets"][val + 1]
    return [
        Chain(
            pdb_id=str(d["pdb_id"][i]),
            atoms=d["coords_centi_A"][a:b].astype(np.float64) / 100.0,
            sequence=str(d["seq"][i]),
            dssp=str(d["dssp"][i]),
        )
        for i, a, b in zip(val, start, stop, strict=True)
    ]


@pytest.fixture(scope="session")
def val_chain(val_chains: list[Chain]) -> Chain:
    """One mixed alpha/beta val chain of at least 100 residues."""
    return next(c for c in val_chains if len(c.atoms) >= 100 and "E" in c.dssp and "H" in c.dssp)
