"""Write generated backbones to a folder: one PDB per sample, ``report.csv``, ``config.json``.

Each sample is a poly-glycine chain A with N, CA, C, O atoms, named
``sample_L{length}_{index:03d}.pdb`` (``sample_ss{k:02d}_L{length}_{index:03d}.pdb`` for the
``k``-th blueprint). ``report.csv`` holds one row per sample with its file name, the
:func:`molgen.checks.check_backbone` record and, for a blueprint, the blueprint and
``ss_agreement`` (fraction of its specified residues whose DSSP state matches), and
``sheet_positions``, the residues built as an ideal sheet in sheet-first sampling (1-based,
e.g. ``12-17;22-27``; empty when none were). A motif
sample keeps the motif residues' names (glycine elsewhere), lists in ``REMARK 950`` records
which output positions hold which motif residues, and adds ``motif_ca_rmsd`` (Angstrom),
``motif_positions`` (1-based, contig order, e.g. ``9-25;40-47``) and ``scaffold_lengths``
(the drawn scaffold segment lengths, e.g. ``12;7;20``) to its report row.
``config.json`` records how the samples were made (model, steps, seed, ...). An output folder
that already holds files is refused unless ``overwrite`` is set, so earlier results are
never clobbered by accident.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from molgen.checks import check_backbone
from molgen.checks.report import HEADLINE_COLUMNS, format_cell
from molgen.checks.secondary import blueprint_agreement
from molgen.errors import InputError
from molgen.io.structure import Protein
from molgen.io.tables import atomic_write_text, write_records
from molgen.io.writers import write_pdb
from molgen.sample.backbone import SampledBackbone
from molgen.sample.motif import MotifPlacement, position_spans

__all__ = [
    "motif_remarks",
    "prepare_output_dir",
    "sample_file_name",
    "summarise_records",
    "summary_table",
    "write_report",
    "write_samples",
]


def prepare_output_dir(path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Create ``path`` (and parents); a non-empty folder needs ``overwrite``."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError("exists and is not a folder", path)
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        raise InputError("output folder is not empty (pass --overwrite to write into it)", path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot create the output folder ({err.strerror})", path) from err
    if not os.access(path, os.W_OK):
        raise InputError("output folder is not writable", path)
    return path


def sample_file_name(sample: SampledBackbone) -> str:
    """``sample_L{length}_{index:03d}.pdb``, or ``sample_ss{k:02d}_L...`` for blueprint k."""
    design = "" if sample.blueprint_index is None else f"ss{sample.blueprint_index:02d}_"
    return f"sample_{design}L{sample.length}_{sample.index:03d}.pdb"


def write_samples(
    samples: Sequence[SampledBackbone], out_dir: str | os.PathLike, overwrite: bool = False
) -> list[dict[str, Any]]:
    """Write each sample as a PDB into ``out_dir`` and return its check records."""
    out_dir = Path(out_dir)
    records = []
    for sample in samples:
        name = sample_file_name(sample)
        record: dict[str, Any] = {"path": name, "length": sample.length, "index": sample.index}
        placement = sample.motif
        if placement is None:
            write_pdb(sample.atoms, out_dir / name, overwrite=overwrite)
        else:
            protein = Protein(_motif_sequence(sample.length, placement), sample.atoms)
            remarks = motif_remarks(placement)
            write_pdb(protein, out_dir / name, overwrite=overwrite, remarks=remarks)
            record["motif_ca_rmsd"] = placement.ca_rmsd
            record["motif_positions"] = position_spans(placement.positions)
            lengths = placement.scaffold_lengths
            record["scaffold_lengths"] = None if lengths is None else ";".join(map(str, lengths))
        record.update(check_backbone(sample.atoms))
        if sample.blueprint is not None:
            record["blueprint_index"] = sample.blueprint_index
            record["blueprint"] = sample.blueprint
            record["ss_agreement"] = blueprint_agreement(sample.atoms, sample.blueprint)
            sheet = sample.sheet_positions
            record["sheet_positions"] = (
                None if sheet is None else position_spans([p + 1 for p in sheet])
            )
        records.append(record)
    return records


def _motif_sequence(length: int, placement: MotifPlacement) -> str:
    """Glycine everywhere but at the motif positions, which keep their residue letters."""
    letters = ["G"] * length
    for position, letter in zip(placement.positions, placement.letters, strict=True):
        letters[position - 1] = letter
    return "".join(letters)


def motif_remarks(placement: MotifPlacement) -> list[str]:
    """REMARK text: a summary line, then ``MOTIF {position} {residue}`` per motif residue.

    >>> for line in motif_remarks(MotifPlacement((3, 4), ("A24", "A25"), "DK", (2, 0), 0.4)):
    ...     print(line)
    MOTIF POSITIONS 3-4 HOLD A24-A25 (CA RMSD 0.40 A)
    MOTIF    3 A24 ASP
    MOTIF    4 A25 LYS
    """
    from Bio.Data.PDBData import protein_letters_1to3

    rms = "" if placement.ca_rmsd is None else f" (CA RMSD {placement.ca_rmsd:.2f} A)"
    first, last = placement.residues[0], placement.residues[-1]
    lines = [f"MOTIF POSITIONS {position_spans(placement.positions)} HOLD {first}-{last}{rms}"]
    for position, residue, letter in zip(
        placement.positions, placement.residues, placement.letters, strict=True
    ):
        name = protein_letters_1to3.get(letter.upper(), "UNK").upper()
        lines.append(f"MOTIF {position:4d} {residue} {name}")
    return lines


def write_report(
    records: Sequence[dict[str, Any]],
    settings: Mapping[str, Any],
    out_dir: str | os.PathLike,
    overwrite: bool = False,
) -> None:
    """``report.csv`` (one row per sample) and ``config.json`` (the settings) in ``out_dir``."""
    out_dir = Path(out_dir)
    write_records(records, out_dir / "report.csv", fmt="csv", overwrite=overwrite)
    text = json.dumps(dict(settings), indent=2, sort_keys=True, default=str, allow_nan=False)
    text += "\n"  # allow_nan=False: config.json is always valid JSON
    atomic_write_text(out_dir / "config.json", text, overwrite=overwrite)


_SUMMARY_KEYS = (
    "ca_break_fraction",
    "ca_clash_fraction",
    "rama_favoured_fraction",
    "helix_fraction",
    "strand_fraction",
    "coil_fraction",
    "rg_ratio",
)


def summarise_records(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-length means of the headline check values and the fraction passing all checks."""
    by_length: dict[int, list[dict[str, Any]]] = {}
    for record in records:
        by_length.setdefault(int(record["length"]), []).append(record)
    rows = []
    for length, group in sorted(by_length.items()):
        row: dict[str, Any] = {"length": length, "samples": len(group)}
        for key in _SUMMARY_KEYS:
            values = [r[key] for r in group if r.get(key) is not None]
            row[key] = sum(values) / len(values) if values else None
        row["checks_passed"] = sum(bool(r["checks_passed"]) for r in group) / len(group)
        rows.append(row)
    return rows


_TABLE_HEADERS = {"length": "L", "samples": "n", **HEADLINE_COLUMNS, "checks_passed": "pass"}


def summary_table(rows: Sequence[dict[str, Any]], title: str):
    """A rich table of :func:`summarise_records` rows (fractions to two decimals)."""
    from rich.table import Table

    table = Table(title=title)
    for header in _TABLE_HEADERS.values():
        table.add_column(header, justify="right")
    for row in rows:
        table.add_row(*(format_cell(row[key], "-") for key in _TABLE_HEADERS))
    return table
