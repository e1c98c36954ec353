"""Protein chains as arrays, read from PDB and mmCIF files (plain or gzip-compressed).

A :class:`Protein` is one polymer chain: its one-letter sequence and the backbone atoms
N, CA, C, O of every residue as a float64 array ``[L, 4, 3]`` in Angstrom, NaN where an atom
is missing (``atom_mask`` False). Parsing is Bio.PDB's (``PDBParser`` / ``MMCIFParser``);
this module only picks residues, alternate locations and chains, and checks the input.

Rules applied by :func:`read_structure`:

- one model (``model``, 0-based, in file order); one Protein per chain that has at least one
  residue with a CA atom;
- a residue is kept when it has a CA atom and is either a polymer residue (``ATOM`` record;
  letter from Bio's extended 3-to-1 table, ``X`` when unknown) or a modified amino acid
  written as ``HETATM`` (MSE -> M, SEP -> S, ...; any name in that table). Waters and other
  hetero groups (ligands, ions) are ignored;
- alternate locations: the highest-occupancy altloc of each atom (Bio.PDB's choice, first
  altloc on ties); for residues with alternative residue names (point mutations) the one with
  the highest mean occupancy. A blank PDB occupancy is read as 1.0; one that is not a finite
  number >= 0 is refused, naming the line.

Size limits (:func:`read_text`, also used for SDF): at most ``MOLGEN_MAX_INPUT_MB`` MiB of
text (default 64, after gunzipping; a gzip bomb stops there) and at most
:data:`MAX_ATOMS` atom records per structure file; only regular files are read (not
``/dev/zero`` or a pipe).
"""

from __future__ import annotations

import gzip
import io
import os
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from Bio.Data.PDBData import protein_letters_3to1_extended
from Bio.PDB import MMCIFParser, PDBParser

from molgen.errors import InputError

__all__ = [
    "BACKBONE_ATOMS",
    "MAX_ATOMS",
    "Protein",
    "max_input_bytes",
    "read_structure",
    "read_text",
    "structure_format",
]

BACKBONE_ATOMS = ("N", "CA", "C", "O")
_FORMATS = {".pdb": "pdb", ".ent": "pdb", ".cif": "mmcif", ".mmcif": "mmcif"}
#: Default input size limit (MiB of text after decompression); ``MOLGEN_MAX_INPUT_MB`` wins.
DEFAULT_MAX_INPUT_MB = 64
#: Most ATOM/HETATM records read from one structure file (a 64 MiB PDB holds about 800,000;
#: Bio.PDB needs about 1 kB of memory per atom).
MAX_ATOMS = 500_000


@dataclass(eq=False)
class Protein:
    """One protein chain: sequence and backbone atoms N, CA, C, O.

    Parameters
    ----------
    sequence : str
        One-letter codes, ``X`` for unknown residues; length ``L``.
    atoms : np.ndarray, float64, shape ``(L, 4, 3)``
        Coordinates of N, CA, C, O in Angstrom; NaN where ``atom_mask`` is False.
    atom_mask : np.ndarray, bool, shape ``(L, 4)``, optional
        True where the atom was observed. Default: the atoms that are finite.
    residue_numbers : np.ndarray, int64, shape ``(L,)``, optional
        Author residue numbers. Default ``1..L``.
    insertion_codes : np.ndarray, str, shape ``(L,)``, optional
        Insertion codes, ``""`` when none. Default all ``""``.
    chain_id : str
        Author chain identifier. Default ``"A"``.
    name : str
        Entry name (the file stem when read from a file).
    """

    sequence: str
    atoms: np.ndarray
    atom_mask: np.ndarray | None = None
    residue_numbers: np.ndarray | None = None
    insertion_codes: np.ndarray | None = None
    chain_id: str = "A"
    name: str = ""

    def __post_init__(self) -> None:
        atoms = np.array(self.atoms, dtype=np.float64)
        if atoms.ndim != 3 or atoms.shape[1:] != (4, 3):
            raise ValueError(f"atoms must have shape (L, 4, 3), got {atoms.shape}")
        n = atoms.shape[0]
        if len(self.sequence) != n:
            raise ValueError(f"sequence has {len(self.sequence)} residues, atoms have {n}")
        if self.atom_mask is None:
            mask = np.isfinite(atoms).all(-1)
        else:
            mask = np.array(self.atom_mask, dtype=bool)
            if mask.shape != (n, 4):
                raise ValueError(f"atom_mask must have shape ({n}, 4), got {mask.shape}")
        atoms[~mask] = np.nan
        if not np.isfinite(atoms[mask]).all():
            raise ValueError("atoms marked present in atom_mask must be finite")
        numbers = np.arange(1, n + 1) if self.residue_numbers is None else self.residue_numbers
        codes = [""] * n if self.insertion_codes is None else self.insertion_codes
        self.atoms = atoms
        self.atom_mask = mask
        self.residue_numbers = np.asarray(numbers, dtype=np.int64).reshape(n)
        self.insertion_codes = np.asarray([str(c).strip() for c in codes], dtype="<U1").reshape(n)

    def __len__(self) -> int:
        return len(self.sequence)

    @property
    def ca(self) -> np.ndarray:
        """CA coordinates, float64 ``(L, 3)`` in Angstrom (NaN where missing)."""
        return self.atoms[:, 1]


def structure_format(path: str | Path) -> str:
    """Format of a structure file from its extension: ``"pdb"`` or ``"mmcif"``.

    ``.pdb``/``.ent`` are PDB, ``.cif``/``.mmcif`` mmCIF, each optionally followed by ``.gz``.
    Anything else raises :class:`~molgen.errors.InputError`.
    """
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    if not suffixes or suffixes[-1] not in _FORMATS:
        raise InputError(
            "unknown structure format; expected .pdb, .ent, .cif or .mmcif (optionally .gz)", path
        )
    return _FORMATS[suffixes[-1]]


def max_input_bytes() -> int:
    """The input size limit in bytes: ``$MOLGEN_MAX_INPUT_MB`` MiB, default 64."""
    value = os.environ.get("MOLGEN_MAX_INPUT_MB", "")
    try:
        megabytes = float(value) if value else DEFAULT_MAX_INPUT_MB
    except ValueError:
        raise InputError(f"MOLGEN_MAX_INPUT_MB must be a number, got {value!r}") from None
    return int(megabytes * 2**20)


def read_text(path: Path) -> str:
    """File content as text, gunzipped when the name ends in ``.gz``, within the size limit."""
    limit = max_input_bytes()
    if path.exists() and not path.is_file():
        raise InputError("not a regular file", path)
    try:
        with path.open("rb") as raw:
            if path.suffix.lower() == ".gz":
                with gzip.GzipFile(fileobj=raw) as stream:
                    data = stream.read(limit + 1)
            else:
                data = raw.read(limit + 1)
    except FileNotFoundError:
        raise InputError("file not found", path) from None
    except (OSError, EOFError, zlib.error) as exc:  # unreadable, not gzip, corrupt stream
        raise InputError(f"cannot read file ({exc})", path) from None
    if len(data) > limit:
        raise InputError(
            f"larger than the input limit of {limit / 2**20:g} MiB of text (after "
            "decompression); set MOLGEN_MAX_INPUT_MB to read it",
            path,
        )
    if not data.strip():
        raise InputError("file is empty", path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("not a text file (binary content)", path) from None


def _count_atoms(text: str, path: Path) -> None:
    """Refuse files with more than :data:`MAX_ATOMS` ATOM/HETATM records (PDB or mmCIF)."""
    count = text.count("\nATOM") + text.count("\nHETATM") + text.startswith(("ATOM", "HETATM"))
    if count > MAX_ATOMS:
        raise InputError(f"{count} atom records, more than the limit of {MAX_ATOMS}", path)


def _validated_pdb_text(text: str, path: Path) -> str:
    """PDB text with atom records checked: the file does not end inside one (a last line
    without newline that stops before the B-factor, column 66), none is cut
    short before the end of its coordinates (column 54); occupancies (columns 55-60) blank
    (read as 1.00) or finite and >= 0."""
    lines = text.splitlines()
    last = lines[-1] if lines else ""
    if last.startswith(("ATOM  ", "HETATM")) and len(last) < 66 and not text.endswith("\n"):
        where = f"line {len(lines)}"
        raise InputError(f"{where}: the file ends inside an atom record (truncated?)", path)
    for number, line in enumerate(lines, start=1):
        if not line.startswith(("ATOM  ", "HETATM")):
            continue
        if len(line.rstrip()) < 54:
            raise InputError(f"line {number}: truncated atom record {line.strip()!r}", path)
        field = line[54:60]
        if not field.strip():
            lines[number - 1] = line[:54].ljust(54) + "  1.00" + line[60:]
            continue
        try:
            occupancy = float(field)
        except ValueError:
            occupancy = float("nan")
        if not (np.isfinite(occupancy) and occupancy >= 0):
            raise InputError(
                f"line {number}: occupancy {field.strip()!r} is not a number >= 0", path
            )
    return "\n".join(lines) + "\n"


def _selected(residue):
    """The residue to use from a Bio.PDB residue that may be a DisorderedResidue."""
    if residue.is_disordered() != 2:
        return residue
    children = residue.child_dict.values()
    return max(children, key=lambda r: np.mean([a.get_occupancy() or 0.0 for a in r]))


def _chain_to_protein(chain, name: str, path: Path) -> Protein | None:
    """Backbone arrays of one Bio.PDB chain, or None when it has no amino-acid residue."""
    letters, coords, masks, numbers, codes = [], [], [], [], []
    for residue in chain:
        residue = _selected(residue)
        hetflag, number, icode = residue.get_id()
        resname = residue.get_resname().strip().upper()
        letter = protein_letters_3to1_extended.get(resname)
        is_polymer = hetflag == " " or (hetflag.startswith("H_") and letter is not None)
        if not is_polymer or "CA" not in residue:
            continue
        present = np.array([a in residue for a in BACKBONE_ATOMS])
        xyz = np.full((4, 3), np.nan)
        xyz[present] = [residue[a].get_coord() for a in BACKBONE_ATOMS if a in residue]
        letters.append(letter or "X")
        coords.append(xyz)
        masks.append(present)
        numbers.append(number)
        codes.append(icode.strip())
    if not letters:
        return None
    return Protein(
        sequence="".join(letters),
        atoms=np.stack(coords),
        atom_mask=np.stack(masks),
        residue_numbers=np.asarray(numbers),
        insertion_codes=np.asarray(codes, dtype="<U1"),
        chain_id=str(chain.id),
        name=name,
    )


def read_structure(path: str | Path, chain: str | None = None, model: int = 0) -> list[Protein]:
    """Read the protein chains of a PDB or mmCIF file (plain or ``.gz``).

    Parameters
    ----------
    path : str or Path
        ``.pdb``, ``.ent``, ``.cif`` or ``.mmcif``, optionally gzip-compressed (``.gz``).
    chain : str, optional
        Author chain id to read; default all chains with protein residues.
    model : int
        0-based model index in file order (NMR ensembles, multi-model files). Default 0.

    Returns
    -------
    list of Protein
        One per chain, in file order; coordinates in Angstrom. See the module docstring for
        which residues, atoms and altlocs are kept.

    Raises
    ------
    InputError
        Missing, empty, binary or malformed file (with the line where known), unknown
        extension, non-finite coordinates, unknown chain or model (naming the available
        ones), or no chain with protein backbone atoms.
    """
    path = Path(path)
    fmt = structure_format(path)
    text = read_text(path)
    _count_atoms(text, path)
    name = path.name.split(".")[0]
    if fmt == "pdb":
        text = _validated_pdb_text(text, path)
        parser = PDBParser(QUIET=True)
    else:
        parser = MMCIFParser(QUIET=True)
    try:
        with warnings.catch_warnings():  # Bio warns (overflowing floats, ...) on stderr
            warnings.simplefilter("ignore")
            structure = parser.get_structure(name, io.StringIO(text))
    except Exception as exc:  # Bio.PDB raises many types (ValueError, KeyError, ...) on bad input
        message = " ".join(str(exc).split()) or type(exc).__name__
        if isinstance(exc, IndexError):  # a row of the mmCIF atom table is cut short
            message = "incomplete atom table row (truncated file?)"
        raise InputError(f"cannot parse {fmt} file: {message}", path) from None
    models = list(structure)
    if not models:
        raise InputError("no atoms found", path)
    if not -len(models) <= model < len(models):
        raise InputError(f"model {model} not found; the file has models 0..{len(models) - 1}", path)
    for atom in models[model].get_atoms():
        if not np.isfinite(atom.coord).all():
            chain_id, (_, number, icode) = atom.get_parent().get_parent().id, atom.get_parent().id
            where = f"chain {chain_id} residue {number}{icode.strip()} atom {atom.get_id()}"
            raise InputError(f"{where}: non-finite coordinates", path)
    proteins = [_chain_to_protein(c, name, path) for c in models[model]]
    proteins = [p for p in proteins if p is not None]
    if not proteins:
        raise InputError("no chain with protein backbone atoms", path)
    if chain is not None:
        available = [p.chain_id for p in proteins]
        proteins = [p for p in proteins if p.chain_id == chain]
        if not proteins:
            raise InputError(
                f"chain {chain!r} not found; protein chains: {', '.join(available)}", path
            )
    return proteins
