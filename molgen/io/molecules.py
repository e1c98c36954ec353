"""Small molecules in and out: SMILES strings and files, SDF files (all via RDKit).

Read molecules are sanitized RDKit ``Mol`` objects with their name in the ``_Name``
property. SDF coordinates are in Angstrom. :func:`write_sdf` writes every conformer of every
molecule as its own record, carrying the molecule's properties, the conformer's own
properties (``conf.SetDoubleProp``...), ``conformer_id`` and any extra properties given.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from io import StringIO
from pathlib import Path

import numpy as np
from rdkit import Chem
from rdkit.rdBase import BlockLogs

from molgen.errors import InputError
from molgen.io.structure import read_text
from molgen.io.tables import atomic_write_text

__all__ = ["read_sdf", "read_smiles", "read_smiles_file", "smiles_lines", "write_sdf"]

_NAN = re.compile(r"\b(nan|inf)\b", re.IGNORECASE)


def read_smiles(smiles: str, name: str | None = None, *, add_hs: bool = False) -> Chem.Mol:
    """Parse one SMILES string into a sanitized RDKit molecule.

    Parameters
    ----------
    smiles : str
        The SMILES string.
    name : str, optional
        Stored as the ``_Name`` property; default the SMILES itself.
    add_hs : bool
        Add explicit hydrogens (needed before embedding 3D conformers). Default False.

    Raises
    ------
    InputError
        Empty or unparsable SMILES (invalid syntax, valence, aromaticity).
    """
    text = smiles.strip() if isinstance(smiles, str) else ""
    if not text:
        raise InputError(f"empty SMILES{f' for {name!r}' if name else ''}")
    with BlockLogs():  # RDKit would print its own parse errors to stderr
        mol = Chem.MolFromSmiles(text)
    if mol is None or mol.GetNumAtoms() == 0:
        raise InputError(f"cannot parse SMILES {text!r}{f' ({name})' if name else ''}")
    if add_hs:
        mol = Chem.AddHs(mol)
    mol.SetProp("_Name", text if name is None else str(name))
    return mol


def smiles_lines(path: str | Path) -> Iterator[tuple[int, str, str]]:
    """``(line number, SMILES, name)`` for each entry of a ``.smi`` file.

    One ``SMILES [name]`` per line; ``#`` comments and blank lines are skipped; an entry without
    a name is called ``<file stem>_<line number>``. A missing or unreadable file is an
    :class:`InputError`.
    """
    path = Path(path)
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        fields = line.split(None, 1)
        if not fields or fields[0].startswith("#"):
            continue
        yield number, fields[0], fields[1].strip() if len(fields) > 1 else f"{path.stem}_{number}"


def read_smiles_file(path: str | Path, *, add_hs: bool = False) -> list[Chem.Mol]:
    """Read a ``.smi`` file: one ``SMILES [name]`` per line (``#`` comments, blanks skipped).

    Molecules without a name are called ``<file stem>_<line number>``.

    Raises
    ------
    InputError
        Missing or empty file, or an unparsable SMILES (naming the line).
    """
    path = Path(path)
    mols = []
    for number, smiles, name in smiles_lines(path):
        try:
            mols.append(read_smiles(smiles, name, add_hs=add_hs))
        except InputError as exc:
            raise InputError(f"line {number}: {exc}", path) from None
    if not mols:
        raise InputError("no SMILES found", path)
    return mols


def read_sdf(path: str | Path, *, remove_hs: bool = False, sanitize: bool = True) -> list[Chem.Mol]:
    """Read every record of an SDF file (plain or ``.gz``), with its data fields as properties.

    Parameters
    ----------
    path : str or Path
        ``.sdf`` or ``.sdf.gz`` file.
    remove_hs : bool
        Drop explicit hydrogens. Default False (keep the file's atoms).
    sanitize : bool
        Run RDKit sanitization. Default True.

    Returns
    -------
    list of rdkit.Chem.Mol
        One molecule per record, one conformer each, coordinates in Angstrom.

    Raises
    ------
    InputError
        Missing, empty or binary file, or a record that cannot be parsed or has non-finite
        coordinates (naming the record, counted from 1).
    """
    path = Path(path)
    supplier = Chem.SDMolSupplier()
    supplier.SetData(read_text(path), sanitize=sanitize, removeHs=remove_hs)
    mols = []
    with BlockLogs():
        for index in range(len(supplier)):
            mol = supplier[index]
            text = supplier.GetItemText(index)
            finite = mol is not None and np.isfinite(mol.GetConformer().GetPositions()).all()
            if mol is None and not text.strip():
                continue  # trailing blank lines after the last "$$$$"
            if not finite:
                atom_lines = "\n".join(text.splitlines()[4:])
                problem = "non-finite coordinates" if _NAN.search(atom_lines) else "cannot parse"
                raise InputError(f"record {index + 1}: {problem}", path)
            mols.append(mol)
    if not mols:
        raise InputError("no molecules found", path)
    return mols


def write_sdf(
    mols: Chem.Mol | Sequence[Chem.Mol],
    path: str | Path,
    *,
    properties: Mapping[str, object] | Sequence[Mapping[str, object]] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write every conformer of every molecule as one SDF record.

    Each record holds the molecule's name (``_Name``) and properties, the conformer's own
    properties, ``conformer_id`` (the RDKit conformer id) and ``properties``.

    Parameters
    ----------
    mols : rdkit.Chem.Mol or sequence of them
        Molecules with at least one conformer (coordinates in Angstrom, finite).
    path : str or Path
        Output file.
    properties : mapping or sequence of mappings, optional
        Extra properties: one mapping for all records, or one mapping per molecule.
    overwrite : bool
        Replace an existing file. Default False.

    Returns
    -------
    Path
        The file written.
    """
    mols = [mols] if isinstance(mols, Chem.Mol) else list(mols)
    if properties is None or isinstance(properties, Mapping):
        properties = [properties or {}] * len(mols)
    if len(properties) != len(mols):
        raise ValueError(f"{len(properties)} property mappings for {len(mols)} molecules")
    buffer = StringIO()
    writer = Chem.SDWriter(buffer)
    for mol, extra in zip(mols, properties, strict=True):
        if mol.GetNumConformers() == 0:
            raise ValueError(
                f"molecule {mol.GetProp('_Name') if mol.HasProp('_Name') else ''} "
                "has no conformer to write"
            )
        for conf in mol.GetConformers():
            if not np.isfinite(conf.GetPositions()).all():
                raise ValueError(f"conformer {conf.GetId()} has non-finite coordinates")
            record = Chem.Mol(mol, confId=conf.GetId())
            values = {**conf.GetPropsAsDict(), "conformer_id": conf.GetId(), **extra}
            for key, value in values.items():
                record.SetProp(str(key), str(value))
            writer.write(record)
    writer.close()
    return atomic_write_text(path, buffer.getvalue(), overwrite=overwrite)
