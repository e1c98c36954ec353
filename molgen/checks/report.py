"""Run the validity checks over files: one record per protein chain or molecule conformer.

This is what ``molgen check`` calls. Protein files (PDB, mmCIF, optionally gzipped) give one
record per chain from :func:`molgen.checks.backbone.check_backbone`; SDF files give one record
per conformer of each record from :func:`molgen.checks.molecule.check_conformers`. Every
record starts with ``path`` and ``chain`` (proteins) or ``record`` (molecules).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from molgen.errors import InputError

__all__ = ["check_paths", "check_protein_file", "check_molecule_file", "summary_table"]

MOLECULE_SUFFIXES = (".sdf", ".sd", ".mol")


def _is_molecule_file(path: Path) -> bool:
    return path.name.lower().endswith(MOLECULE_SUFFIXES)


def check_protein_file(path: Path, chain: str | None = None) -> list[dict[str, Any]]:
    """Backbone-check every chain (or the one named) of a PDB/mmCIF file."""
    from molgen.checks.backbone import check_backbone
    from molgen.io import read_structure

    records = []
    for protein in read_structure(path, chain=chain):
        record: dict[str, Any] = {"path": str(path), "chain": protein.chain_id}
        record.update(check_backbone(protein.atoms, protein.atom_mask, protein.sequence))
        records.append(record)
    return records


def check_molecule_file(path: Path) -> list[dict[str, Any]]:
    """Molecule-check every conformer of every record of an SDF file."""
    from molgen.checks.molecule import check_conformers
    from molgen.io import read_sdf

    records = []
    for index, mol in enumerate(read_sdf(path)):
        name = mol.GetProp("_Name") if mol.HasProp("_Name") else ""
        for result in check_conformers(mol):
            record: dict[str, Any] = {"path": str(path), "record": index, "name": name}
            record.update(result)
            records.append(record)
    return records


def check_paths(
    paths: Sequence[str | os.PathLike], chain: str | None = None, progress: bool = True
) -> list[dict[str, Any]]:
    """Check every file in ``paths``; raise :class:`InputError` for a file that can't be read.

    Parameters
    ----------
    paths : sequence of paths
        PDB/mmCIF (``.pdb``, ``.ent``, ``.cif``, ``.mmcif``, each optionally ``.gz``) or SDF.
    chain : str, optional
        Only this chain of each protein file.
    progress : bool
        Show a progress bar over files.
    """
    files = [Path(p) for p in paths]
    for path in files:
        if not path.exists():
            raise InputError("no such file", path)
        if path.is_dir():
            raise InputError("is a directory; pass the structure files inside it", path)
    records: list[dict[str, Any]] = []
    from rich.progress import track

    for path in track(files, description="checking", disable=not progress or len(files) < 2):
        if _is_molecule_file(path):
            records.extend(check_molecule_file(path))
        else:
            records.extend(check_protein_file(path, chain=chain))
    return records


def summary_table(records: Sequence[dict[str, Any]]):
    """A rich table with the headline columns of each record."""
    from rich.table import Table

    table = Table(title=f"molgen check: {len(records)} record(s)")
    protein = any("chain" in r for r in records)
    columns = ["path", "chain" if protein else "record", "checks_passed", "failed_checks"]
    if protein:
        columns[2:2] = [
            "n_residues",
            "ca_break_fraction",
            "ca_clash_fraction",
            "rama_favoured_fraction",
            "helix_fraction",
            "strand_fraction",
            "rg_ratio",
        ]
    for column in columns:
        table.add_column(column)
    for record in records:
        cells = []
        for column in columns:
            value = record.get(column, record.get("record", ""))
            if column == "chain" and "chain" not in record:
                value = f"#{record.get('record')}:{record.get('conformer_id', '')}"
            if isinstance(value, float):
                value = f"{value:.3f}"
            elif isinstance(value, list):
                value = ", ".join(value) or "-"
            cells.append(str(value))
        table.add_row(*cells)
    return table
