"""Which structure files molgen reads: one suffix table for ``check`` and ``score``.

Proteins: ``.pdb``, ``.ent``, ``.cif``, ``.mmcif``; molecules: ``.sdf``, ``.sd``, ``.mol``;
each optionally followed by ``.gz``. Anything else is read as a protein file (which then
fails with the reader's own error).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["MOLECULE_SUFFIXES", "PROTEIN_SUFFIXES", "is_structure_file", "structure_kind"]

PROTEIN_SUFFIXES = (".pdb", ".ent", ".cif", ".mmcif")
MOLECULE_SUFFIXES = (".sdf", ".sd", ".mol")


def _name(path: str | os.PathLike) -> str:
    return Path(path).name.lower().removesuffix(".gz")


def structure_kind(path: str | os.PathLike) -> str:
    """``"molecule"`` for an SDF/MOL file name, else ``"protein"``.

    Examples
    --------
    >>> structure_kind("ligand.SDF.gz"), structure_kind("a.mol"), structure_kind("1abc.cif")
    ('molecule', 'molecule', 'protein')
    """
    return "molecule" if _name(path).endswith(MOLECULE_SUFFIXES) else "protein"


def is_structure_file(path: str | os.PathLike) -> bool:
    """True for a name with one of the suffixes above (what a folder walk collects)."""
    return _name(path).endswith(PROTEIN_SUFFIXES + MOLECULE_SUFFIXES)
