"""Fixtures for molgen.io tests: real structure files shipped inside installed packages."""

from __future__ import annotations

from pathlib import Path

import pytest
from structure_files import POSEBUSTERS_PDB, TMTOOLS_DATA


@pytest.fixture(scope="session")
def tmtools_data() -> Path:
    return TMTOOLS_DATA


@pytest.fixture(scope="session")
def small_pdb() -> Path:
    """1s3v: one chain A of 186 residues, no altlocs, no HETATM, no hydrogens."""
    return POSEBUSTERS_PDB / "1s3v" / "1s3v_protein_one_lig_removed.pdb"


@pytest.fixture(scope="session")
def small_pdb_lines(small_pdb: Path) -> list[str]:
    """ATOM records of the small PDB file (no HETATM, no TER/END)."""
    return [line for line in small_pdb.read_text().splitlines() if line.startswith("ATOM  ")]
