"""Write protein backbones (N, CA, C, O) as PDB or mmCIF files.

The structure is assembled with Bio.PDB's ``StructureBuilder`` and written by its
``PDBIO`` / ``MMCIFIO``, so the files follow the formats closely enough for Bio.PDB, mdtraj
and TM-align (tmtools) to read them back. Residue names come from the one-letter sequence
(``GLY`` for ``X`` or when only coordinates are given); missing atoms (NaN) are left out.
Nothing is overwritten unless ``overwrite=True``.
"""

from __future__ import annotations

from collections.abc import Sequence
from io import StringIO
from pathlib import Path

import numpy as np
from Bio.Data.PDBData import protein_letters_1to3
from Bio.PDB import MMCIFIO, PDBIO
from Bio.PDB.StructureBuilder import StructureBuilder

from molgen.io.structure import BACKBONE_ATOMS, Protein
from molgen.io.tables import atomic_write_text

__all__ = ["write_mmcif", "write_pdb"]

_ELEMENTS = ("N", "C", "C", "O")
ProteinsLike = Protein | Sequence[Protein] | np.ndarray


def _as_proteins(proteins: ProteinsLike) -> list[Protein]:
    """Proteins from a Protein, a sequence of them, or atoms ``(L, 4, 3)`` / ``(C, L, 4, 3)``.

    Bare coordinate arrays become poly-glycine chains named A, B, C, ...
    """
    if isinstance(proteins, Protein):
        return [proteins]
    if isinstance(proteins, Sequence) and all(isinstance(p, Protein) for p in proteins):
        result = list(proteins)
    else:
        atoms = np.asarray(proteins, dtype=np.float64)
        atoms = atoms[None] if atoms.ndim == 3 else atoms
        if atoms.ndim != 4 or atoms.shape[2:] != (4, 3):
            raise ValueError(f"atoms must have shape (L, 4, 3) or (C, L, 4, 3), got {atoms.shape}")
        if len(atoms) > 26:
            raise ValueError("at most 26 chains can be written from a bare coordinate array")
        result = [
            Protein("G" * a.shape[0], a, chain_id=chr(ord("A") + i)) for i, a in enumerate(atoms)
        ]
    ids = [p.chain_id for p in result]
    if len(set(ids)) != len(ids):
        raise ValueError(f"chain ids must be unique within one file, got {ids}")
    return result


def _build(proteins: list[Protein], b_factors: Sequence[np.ndarray] | None, name: str):
    """A Bio.PDB Structure with one model holding the backbone atoms of every chain."""
    if b_factors is not None and len(b_factors) != len(proteins):
        raise ValueError(f"b_factors has {len(b_factors)} entries for {len(proteins)} chains")
    builder = StructureBuilder()
    builder.init_structure(name or "molgen")
    builder.init_model(0)
    serial = 1
    for c, protein in enumerate(proteins):
        bf = np.zeros((len(protein), 4))
        if b_factors is not None:
            given = np.asarray(b_factors[c], dtype=np.float64)
            bf[:] = given[:, None] if given.ndim == 1 else given
        builder.init_chain(protein.chain_id)
        builder.init_seg("    ")
        for i, letter in enumerate(protein.sequence):
            resname = protein_letters_1to3.get(letter.upper(), "GLY")
            number, icode = int(protein.residue_numbers[i]), protein.insertion_codes[i] or " "
            builder.init_residue(resname.upper(), " ", number, icode)
            for k, atom_name in enumerate(BACKBONE_ATOMS):
                if not protein.atom_mask[i, k]:
                    continue
                builder.init_atom(
                    atom_name,
                    protein.atoms[i, k],
                    float(bf[i, k]),
                    1.0,
                    " ",
                    f" {atom_name:<3s}",
                    serial,
                    _ELEMENTS[k],
                )
                serial += 1
    return builder.get_structure()


def _write(writer, proteins, path, overwrite, b_factors, header: str = "") -> Path:
    proteins = _as_proteins(proteins)
    writer.set_structure(_build(proteins, b_factors, proteins[0].name))
    buffer = StringIO()
    writer.save(buffer)
    return atomic_write_text(path, header + buffer.getvalue(), overwrite=overwrite)


def _remark_lines(remarks: Sequence[str], number: int = 950) -> str:
    """``REMARK {number} text`` lines (free text, cut to the 80 columns of a PDB line)."""
    return "".join(f"REMARK {number:3d} {text}"[:80] + "\n" for text in remarks)


def write_pdb(
    proteins: ProteinsLike,
    path: str | Path,
    *,
    b_factors: Sequence[np.ndarray] | None = None,
    overwrite: bool = False,
    remarks: Sequence[str] = (),
) -> Path:
    """Write backbone atoms N, CA, C, O as a PDB file.

    Parameters
    ----------
    proteins : Protein, sequence of Protein, or np.ndarray
        Chains to write (chain ids must differ), or coordinates in Angstrom of shape
        ``(L, 4, 3)`` (one poly-glycine chain A) or ``(C, L, 4, 3)`` (chains A, B, ...).
    path : str or Path
        Output file (written atomically; its folder must exist).
    b_factors : sequence of np.ndarray, optional
        Per chain, shape ``(L,)`` (per residue) or ``(L, 4)`` (per atom). Default 0.
    overwrite : bool
        Replace an existing file. Default False.
    remarks : sequence of str
        Free-text lines written first, as ``REMARK 950`` records.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    InputError
        The file exists and ``overwrite`` is False, or its folder is missing or read-only.
    """
    return _write(PDBIO(), proteins, path, overwrite, b_factors, _remark_lines(remarks))


def write_mmcif(
    proteins: ProteinsLike,
    path: str | Path,
    *,
    b_factors: Sequence[np.ndarray] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write backbone atoms N, CA, C, O as an mmCIF file; arguments as :func:`write_pdb`."""
    return _write(MMCIFIO(), proteins, path, overwrite, b_factors)
