"""Paths of real structure files shipped inside installed packages (tmtools, posebusters)."""

from __future__ import annotations

from pathlib import Path

import posebusters
import tmtools

TMTOOLS_DATA = Path(tmtools.__file__).parent / "data"
POSEBUSTERS_PDB = Path(posebusters.__file__).parent / "datasets" / "pdb"


def real_pdb_files() -> list[Path]:
    """tmtools' 2gtl/7ok9 and the posebusters example proteins (PDB format)."""
    files = [TMTOOLS_DATA / "2gtl.pdb", TMTOOLS_DATA / "7ok9.pdb"]
    files += sorted(POSEBUSTERS_PDB.glob("*/*_protein_one_lig_removed.pdb"))
    return files


def real_cif_files() -> list[Path]:
    """tmtools' 2gtl and 7ok9 in mmCIF format."""
    return [TMTOOLS_DATA / "2gtl.cif", TMTOOLS_DATA / "7ok9.cif"]
