"""Build a chain-set ``.npz`` (the format of ``pdb_chains.npz``) from a folder of PDB/mmCIF files.

Coordinates are in Angstrom. Each file is read with :func:`molgen.io.read_structure` (first
model); each protein chain is cut to its longest gap-free stretch of complete residues and kept
when that stretch passes the filters. Filters, in the order they are applied to a chain:

1. ``duplicate``: the same ``PDBID_CHAIN`` was already kept from an earlier file (the same entry
   as ``.pdb`` and ``.cif``);
2. ``missing_residues``: more than ``max_missing`` residues missing between the first and the
   last observed residue (residues lacking one of N, CA, C, O, plus the residues absent at each
   chain break; see :func:`gap_free_segments`). Unobserved termini are not counted (SEQRES is
   not read);
3. ``too_short`` / ``too_long``: length of the longest gap-free stretch outside
   ``[min_length, max_length]``;
4. ``too_extended``: an atom farther than 327 Angstrom from the CA mean (int16 overflow);
5. ``too_much_coil``: fraction of DSSP coil residues (8-state T, S or blank, i.e. neither
   helix H/G/I nor strand E/B) above ``max_coil_fraction``.

A whole file is skipped when it states a resolution worse than ``max_resolution``; files that
state none (NMR, models, stripped headers) are kept and counted. No sequence clustering is done:
``cluster30`` of each chain is its own ``PDBID_CHAIN``.
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from Bio.PDB import parse_pdb_header
from Bio.PDB.MMCIF2Dict import MMCIF2Dict
from rich.progress import track
from rich.table import Table

from molgen.errors import InputError
from molgen.io.chainset import backbone_dssp, write_chain_set
from molgen.io.structure import Protein, read_structure, read_text, structure_format
from molgen.io.tables import ensure_writable

__all__ = [
    "ChainFilter",
    "PrepareSummary",
    "gap_free_segments",
    "prepare_chain_set",
    "read_resolution",
]

#: A peptide bond C(i)-N(i+1) longer than this (Angstrom) is a chain break; real ones are
#: 1.33 A, and Bio.PDB's PPBuilder uses 1.8 A (2.0 A tolerates poorly refined models).
PEPTIDE_BREAK = 2.0
_INT16_LIMIT = np.iinfo(np.int16).max / 100.0  # Angstrom from the CA mean that int16 can hold
_MIRROR_NAME = re.compile(r"^(?:pdb)?([0-9][a-z0-9]{3})(?=[._-]|$)", re.IGNORECASE)
_COIL = frozenset("TSC ")
_MAX_ERRORS = 5


@dataclass
class PrepareSummary:
    """What :func:`prepare_chain_set` read, kept and skipped (and why).

    Attributes
    ----------
    files_seen : int
        Structure files found (``.pdb``, ``.ent``, ``.cif``, ``.mmcif``, each optionally ``.gz``).
    files_unreadable : int
        Files :func:`~molgen.io.read_structure` rejected; ``errors`` holds the first few messages.
    files_above_resolution : int
        Files skipped whole because they state a resolution worse than ``max_resolution``.
    files_without_resolution : int
        Files stating no resolution (only counted when ``max_resolution`` is set); kept.
    chains_seen, chains_kept : int
        Protein chains read, and chains written.
    chains_trimmed : int
        Kept chains that were cut to their longest gap-free stretch.
    residues_kept : int
        Residues written.
    skipped : Counter
        Chains skipped per reason (see the module docstring).
    out_path : str or None
        The file written.
    """

    files_seen: int = 0
    files_unreadable: int = 0
    files_above_resolution: int = 0
    files_without_resolution: int = 0
    chains_seen: int = 0
    chains_kept: int = 0
    chains_trimmed: int = 0
    residues_kept: int = 0
    skipped: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    out_path: str | None = None

    def as_dict(self) -> dict:
        """Plain dict (JSON-ready): every attribute, ``skipped`` as a dict."""
        out = asdict(self)
        out["skipped"] = dict(self.skipped)
        return out

    def line(self) -> str:
        """One-line account: files, chains and the reasons chains were skipped."""
        reasons = ", ".join(f"{k} {v}" for k, v in self.skipped.most_common()) or "none"
        return (
            f"{self.files_seen} files ({self.files_unreadable} unreadable, "
            f"{self.files_above_resolution} above max resolution), {self.chains_seen} chains, "
            f"{self.chains_kept} kept; skipped: {reasons}"
        )

    def table(self) -> Table:
        """A rich table of the counts, one row each, then one row per skip reason."""
        table = Table(title="prepare-pdb")
        table.add_column("")
        table.add_column("count", justify="right")
        rows = [
            ("files seen", self.files_seen),
            ("files unreadable", self.files_unreadable),
            ("files above max resolution", self.files_above_resolution),
            ("files without resolution (kept)", self.files_without_resolution),
            ("chains seen", self.chains_seen),
            ("chains kept", self.chains_kept),
            ("  trimmed to longest gap-free stretch", self.chains_trimmed),
            ("residues kept", self.residues_kept),
        ]
        rows += [(f"chains skipped: {k}", v) for k, v in self.skipped.most_common()]
        for name, count in rows:
            table.add_row(name, str(count))
        return table


def read_resolution(path: str | Path) -> float | None:
    """Resolution in Angstrom stated in a PDB or mmCIF header, or None when there is none.

    PDB: ``REMARK 2 RESOLUTION`` via :func:`Bio.PDB.parse_pdb_header`. mmCIF: the smallest
    value of the first of ``_refine.ls_d_res_high``, ``_em_3d_reconstruction.resolution``,
    ``_reflns.d_resolution_high`` present (Bio's :class:`MMCIF2Dict`, fed the file without its
    atom rows, which are most of it and hold no header item).
    """
    path = Path(path)
    text = read_text(path)
    if structure_format(path) == "pdb":
        value = parse_pdb_header(io.StringIO(text)).get("resolution")
        return None if value is None else float(value)
    lines = [ln for ln in text.splitlines(True) if not ln.startswith(("ATOM ", "HETATM "))]
    try:
        items = MMCIF2Dict(io.StringIO("".join(lines)))
    except Exception as exc:  # Bio raises ValueError and others on malformed CIF
        raise InputError(f"cannot parse mmCIF header: {exc}", path) from None
    for key in ("_refine.ls_d_res_high", "_em_3d_reconstruction.resolution",
                "_reflns.d_resolution_high"):  # fmt: skip
        values = []
        for value in items.get(key, []):
            try:
                values.append(float(value))
            except ValueError:  # "?" or "." for unknown
                continue
        if values:
            return min(values)
    return None


def gap_free_segments(protein: Protein) -> tuple[list[tuple[int, int]], int]:
    """Maximal runs of complete residues joined by peptide bonds, and the residues missing.

    A run ends at a residue lacking N, CA, C or O and wherever the bond C(i)-N(i+1) is longer
    than :data:`PEPTIDE_BREAK` (residue numbering is not trusted alone: Kabat-numbered
    antibodies skip numbers without a gap). Written here because Bio's ``PPBuilder`` works on
    Bio structures, not on the arrays of a :class:`Protein`.

    Returns
    -------
    segments : list of (start, stop)
        Half-open index ranges into the chain, in chain order.
    missing : int
        Incomplete residues plus, at each break between consecutive residues, the residues
        absent by numbering (at least one).
    """
    complete = protein.atom_mask.all(-1)
    bond = np.linalg.norm(protein.atoms[1:, 0] - protein.atoms[:-1, 2], axis=-1)
    broken = ~(bond <= PEPTIDE_BREAK)  # NaN (atom missing) counts as broken
    jump = np.diff(protein.residue_numbers)
    missing = int((~complete).sum()) + int(np.maximum(jump[broken] - 1, 1).sum())
    cut = broken | ~complete[1:] | ~complete[:-1]
    starts = np.concatenate([[0], np.flatnonzero(cut) + 1])
    stops = np.concatenate([np.flatnonzero(cut) + 1, [len(protein)]])
    segments = [(int(a), int(b)) for a, b in zip(starts, stops, strict=True) if complete[a]]
    return segments, missing


def _pdb_id(path: Path) -> str:
    """Entry id from a file name: ``pdb1abc.ent.gz``/``1abc.cif``/``1abc_x.pdb`` -> ``1ABC``."""
    match = _MIRROR_NAME.match(path.name)
    return match.group(1).upper() if match else path.name.split(".")[0]


def _structure_files(root: Path, recursive: bool) -> list[Path]:
    """Sorted structure files under root (by extension; see :func:`structure_format`)."""
    found = []
    for path in root.rglob("*") if recursive else root.iterdir():
        try:
            if path.is_file() and structure_format(path):
                found.append(path)
        except InputError:
            continue
    return sorted(found)


@dataclass
class ChainFilter:
    """Which chains :func:`prepare_chain_set` keeps (the ``molgen data prepare-pdb`` options).

    Attributes
    ----------
    min_length, max_length : int
        Allowed length of a chain's longest gap-free stretch (residues).
    max_coil_fraction : float
        Largest allowed fraction of DSSP coil residues (T, S, blank).
    max_missing : int or None
        Largest number of residues missing inside a chain; None: no limit (every chain is cut
        to its longest gap-free stretch, as in ``pdb_chains.npz``).
    max_resolution : float or None
        Skip files stating a resolution above this (Angstrom); files stating none are kept.
    split : str
        Value of the ``split`` field of every chain.
    """

    min_length: int = 40
    max_length: int = 300
    max_coil_fraction: float = 0.5
    max_missing: int | None = None
    max_resolution: float | None = None
    split: str = "train"


def prepare_chain_set(
    input_dir: str | Path,
    out_path: str | Path,
    config: ChainFilter | None = None,
    *,
    recursive: bool = True,
    overwrite: bool = False,
    progress: bool = True,
    **filters: Any,
) -> PrepareSummary:
    """Turn a folder of PDB/mmCIF files into a chain-set ``.npz`` (see :mod:`molgen.io.chainset`).

    Parameters
    ----------
    input_dir : str or Path
        Folder of ``.pdb``/``.ent``/``.cif``/``.mmcif`` files, optionally ``.gz`` (a PDB mirror's
        ``pdb1abc.ent.gz`` naming included). Other files are ignored.
    out_path : str or Path
        The ``.npz`` to write; an existing file is refused unless ``overwrite``.
    config : ChainFilter, optional
        The chain filters and split label (defaults: :class:`ChainFilter`).
    recursive : bool
        Walk sub-folders. Default True.
    overwrite, progress : bool
        Replace ``out_path``; show a progress bar over files.
    **filters
        Fields of :class:`ChainFilter` replacing those of ``config``.

    Returns
    -------
    PrepareSummary
        Counts of files and chains read, kept and skipped, with reasons.

    Raises
    ------
    InputError
        Missing input folder, no structure file in it, existing output without ``overwrite``,
        or no chain passing the filters (the message carries :meth:`PrepareSummary.line`).
    """
    cfg = dataclasses.replace(config if config is not None else ChainFilter(), **filters)
    max_resolution = cfg.max_resolution
    root = Path(input_dir)
    if not root.is_dir():
        raise InputError("input folder not found", root)
    ensure_writable(out_path, overwrite)  # refuse before the long work, not after
    files = _structure_files(root, recursive)
    if not files:
        raise InputError("no .pdb, .ent, .cif or .mmcif files (optionally .gz) found", root)
    summary = PrepareSummary(files_seen=len(files))
    kept: list[Protein] = []
    dssp: list[str] = []
    names: set[str] = set()
    for path in track(files, description="Reading structures", disable=not progress):
        try:
            resolution = None if max_resolution is None else read_resolution(path)
            if resolution is not None and resolution > max_resolution:
                summary.files_above_resolution += 1
                continue
            chains = read_structure(path)
        except InputError as exc:
            summary.files_unreadable += 1
            if len(summary.errors) < _MAX_ERRORS:
                summary.errors.append(str(exc))
            continue
        summary.files_without_resolution += max_resolution is not None and resolution is None
        pdb_id = _pdb_id(path)
        for chain in chains:
            summary.chains_seen += 1
            reason, stretch, states = _filter_chain(chain, pdb_id, names, cfg)
            if reason is not None:
                summary.skipped[reason] += 1
                continue
            names.add(f"{pdb_id}_{chain.chain_id}")
            kept.append(stretch)
            dssp.append(states)
            summary.chains_trimmed += len(stretch) < len(chain)
    summary.chains_kept = len(kept)
    summary.residues_kept = sum(len(p) for p in kept)
    if not kept:
        raise InputError(f"no chain passed the filters ({summary.line()})", root)
    written = write_chain_set(kept, out_path, split=cfg.split, dssp=dssp, overwrite=overwrite)
    summary.out_path = str(written)
    return summary


def _filter_chain(
    chain: Protein,
    pdb_id: str,
    names: set[str],
    cfg: ChainFilter,
) -> tuple[str | None, Protein | None, str | None]:
    """(skip reason or None, the kept stretch, its 8-state DSSP) for one chain."""
    min_length, max_length = cfg.min_length, cfg.max_length
    max_coil_fraction, max_missing = cfg.max_coil_fraction, cfg.max_missing
    if f"{pdb_id}_{chain.chain_id}" in names:
        return "duplicate", None, None
    segments, missing = gap_free_segments(chain)
    if max_missing is not None and missing > max_missing:
        return "missing_residues", None, None
    start, stop = max(segments, key=lambda s: s[1] - s[0], default=(0, 0))
    if stop - start < min_length:
        return "too_short", None, None
    if stop - start > max_length:
        return "too_long", None, None
    atoms = chain.atoms[start:stop]
    if np.abs(atoms - atoms[:, 1].mean(0)).max() >= _INT16_LIMIT:
        return "too_extended", None, None
    states = backbone_dssp(atoms)
    if sum(s in _COIL for s in states) > max_coil_fraction * len(states):
        return "too_much_coil", None, None
    stretch = Protein(
        sequence=chain.sequence[start:stop],
        atoms=atoms,
        residue_numbers=chain.residue_numbers[start:stop],
        insertion_codes=chain.insertion_codes[start:stop],
        chain_id=chain.chain_id,
        name=pdb_id,
    )
    return None, stretch, states
