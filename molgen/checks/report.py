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
from molgen.io.files import structure_kind

__all__ = [
    "HEADLINE_COLUMNS",
    "check_file",
    "check_molecule_file",
    "check_paths",
    "check_protein_file",
    "format_cell",
    "run_checks",
    "summary_tables",
]


def check_protein_file(path: Path, chain: str | None = None) -> list[dict[str, Any]]:
    """Backbone-check every chain (or the one named) of a PDB/mmCIF file."""
    return [record for record, _ in check_file(path, chain)]


def check_molecule_file(path: Path) -> list[dict[str, Any]]:
    """Molecule-check every conformer of every record of an SDF file."""
    return [record for record, _ in check_file(path)]


def check_file(path: str | os.PathLike, chain: str | None = None) -> list[tuple[dict, Any]]:
    """Check records of one structure file with what was checked (for a model to score).

    A protein file (:func:`molgen.io.files.structure_kind`) gives, per chain (or the one
    named), ``({"path", "chain", ...check_backbone}, atoms [L, 4, 3])``; an SDF file, per
    conformer of every record, ``({"path", "record", "name", ...check_conformers}, (mol,
    conformer_id))``. Unreadable input raises :class:`InputError`.
    """
    path = Path(path)
    out: list[tuple[dict, Any]] = []
    if structure_kind(path) == "protein":
        from molgen.checks.backbone import check_backbone
        from molgen.io import read_structure

        for protein in read_structure(path, chain=chain):
            record: dict[str, Any] = {"path": str(path), "chain": protein.chain_id}
            record.update(check_backbone(protein.atoms, protein.atom_mask, protein.sequence))
            out.append((record, protein.atoms))
        return out
    from molgen.checks.molecule import check_conformers
    from molgen.io import read_sdf

    for index, mol in enumerate(read_sdf(path)):
        name = mol.GetProp("_Name") if mol.HasProp("_Name") else ""
        for result in check_conformers(mol):
            record = {"path": str(path), "record": index, "name": name, **result}
            out.append((record, (mol, result["conformer_id"])))
    return out


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
        records.extend(record for record, _ in check_file(path, chain))
    return records


def run_checks(
    paths: Sequence[str | os.PathLike],
    *,
    chain: str | None = None,
    json_out: str | os.PathLike | None = None,
    csv_out: str | os.PathLike | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """What ``molgen check`` does: :func:`check_paths`, then the records as JSON and/or CSV.

    Output files are checked for writability before any work (an existing one needs
    ``overwrite``). Returns the records.
    """
    from molgen.io.tables import ensure_writable, write_records

    outputs = {"json": json_out, "csv": csv_out}
    if json_out is not None and csv_out is not None:
        if Path(json_out).resolve() == Path(csv_out).resolve():
            raise InputError("--json and --csv name the same file", json_out)
    for out in outputs.values():
        if out is not None:
            ensure_writable(out, overwrite=overwrite)
    records = check_paths(paths, chain=chain, progress=progress)
    for fmt, out in outputs.items():
        if out is not None:
            write_records(records, out, fmt=fmt, overwrite=overwrite)
    return records


#: Headline backbone check columns and their short table headers.
HEADLINE_COLUMNS = {
    "ca_break_fraction": "break",
    "ca_clash_fraction": "clash",
    "rama_favoured_fraction": "rama",
    "helix_fraction": "H",
    "strand_fraction": "E",
    "rg_ratio": "Rg",
}
_PROTEIN_COLUMNS = {"n_residues": "L", **HEADLINE_COLUMNS}


def format_cell(value: Any, missing: str = "") -> str:
    """A table cell: floats to two decimals, ``missing`` for None."""
    if isinstance(value, float):
        return f"{value:.2f}"
    return missing if value is None else str(value)


def _verdict(record: dict[str, Any]) -> str:
    if record.get("checks_passed"):
        return "[green]pass[/green]"
    return "[red]fail[/red]: " + ", ".join(record.get("failed_checks") or [])


def summary_tables(records: Sequence[dict[str, Any]]) -> list:
    """Rich tables of the headline columns: one for protein chains, one for molecules."""
    from rich.table import Table

    proteins = [r for r in records if "chain" in r]
    molecules = [r for r in records if "chain" not in r]
    tables = []
    for kind, rows in (("protein chains", proteins), ("molecule conformers", molecules)):
        if not rows:
            continue
        columns = {"path": "file"}
        if kind == "protein chains":
            columns.update({"chain": "ch", **_PROTEIN_COLUMNS})
        else:
            columns.update({"record": "record", "conformer_id": "conf"})
        passed = sum(bool(r.get("checks_passed")) for r in rows)
        table = Table(title=f"{len(rows)} {kind}, {passed} pass all checks", padding=(0, 1))
        for header in columns.values():
            table.add_column(header, no_wrap=header != "file", overflow="fold")
        table.add_column("checks", overflow="fold")
        for record in rows:
            cells = [format_cell(record.get(key)) for key in columns]
            cells[0] = Path(cells[0]).name
            table.add_row(*cells, _verdict(record))
        tables.append(table)
    return tables
