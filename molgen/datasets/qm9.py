"""QM9 molecules with their DFT geometries, bonds perceived from the 3D coordinates.

The molecules come from the CSV files shipped in the PyPI package ``qm9pack``
(``qm9pack/data/qm9_part{1,2,3}.csv``, 130,831 molecules, B3LYP/6-31G(2df,p) geometries in
Angstrom). The files are located with :func:`importlib.util.find_spec`, which does not run
``qm9pack/__init__.py``: that module imports ``pkg_resources``, which recent setuptools no
longer ship. Each CSV record is one line; the columns read are ``Index`` (int), ``SMILES``,
``Elements`` (``"['C','H',...]"``) and ``XYZ_Ang`` (``"[[x,y,z],...]"``, in ``Elements``
order, which is not the SMILES atom order).

Only the QM9 ``Index`` values of one list of the split file (``train_index`` or
``val_index``) are ever parsed; every other record is skipped by its index before its fields
are read, so the held-out test molecules (in neither list) never reach Python objects.

Bonds are perceived with RDKit's ``rdDetermineBonds``: ``DetermineConnectivity`` (covalent
radii, "connect the dots") then ``DetermineBondOrders`` with total charge 0 (the xyz2mol
algorithm), then sanitisation. In strained bicyclic cages (about 6% of QM9) the distance rule
bonds atoms across small rings and bond orders then fail; those are retried with connectivity
from extended Hueckel theory (``useHueckel=True``), which recovers them (on 2,000 val
molecules every retried one then matched its QM9 SMILES). A molecule where both fail is
skipped and counted under its reason in :attr:`QM9Molecules.skipped`.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import os
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from rdkit import Chem
from rdkit.Chem import rdDetermineBonds
from rdkit.Geometry import Point3D
from rdkit.rdBase import BlockLogs
from rich.progress import track

from molgen.errors import InputError

__all__ = ["QM9Molecules", "qm9_csv_files", "molecule_from_xyz"]

_SPLITS = ("train", "val")
_COLUMNS = ("Index", "SMILES", "Elements", "XYZ_Ang")


def qm9_csv_files() -> list[Path]:
    """Paths of ``qm9_part1.csv`` .. ``qm9_part3.csv`` inside the installed ``qm9pack``.

    Raises
    ------
    InputError
        ``qm9pack`` is not installed or its data files are missing.
    """
    spec = importlib.util.find_spec("qm9pack")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise InputError("the QM9 data package 'qm9pack' is not installed (pip install qm9pack)")
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    files = [data / f"qm9_part{i}.csv" for i in (1, 2, 3)]
    for path in files:
        if not path.is_file():
            raise InputError("QM9 CSV file missing from the qm9pack installation", path)
    return files


def molecule_from_xyz(elements: list[str], xyz: np.ndarray, name: str) -> Chem.Mol:
    """A sanitized RDKit molecule (explicit Hs, one conformer) with bonds from its geometry.

    Parameters
    ----------
    elements : list of str
        Element symbols, one per atom.
    xyz : numpy.ndarray, shape ``(N, 3)``
        Coordinates in Angstrom, in ``elements`` order (kept as the atom order).
    name : str
        Stored as ``_Name``.

    Raises
    ------
    ValueError
        Bond perception or sanitisation failed with both connectivity methods; the message
        starts with the stage that failed in the Hueckel retry (``"connectivity"``,
        ``"fragments"``, ``"bond orders"``, ``"sanitize"``).
    """
    rw = Chem.RWMol()
    conf = Chem.Conformer(len(elements))
    for i, (symbol, (x, y, z)) in enumerate(zip(elements, xyz.tolist(), strict=True)):
        rw.AddAtom(Chem.Atom(symbol))
        conf.SetAtomPosition(i, Point3D(x, y, z))
    rw.AddConformer(conf, assignId=True)
    try:
        mol = _perceive(rw.GetMol(), use_hueckel=False)
    except ValueError:
        with _silenced_stdio():  # the Hueckel code prints distance warnings from C++
            mol = _perceive(rw.GetMol(), use_hueckel=True)
    mol.SetProp("_Name", name)
    return mol


def _perceive(mol: Chem.Mol, use_hueckel: bool) -> Chem.Mol:
    """Bonds and bond orders of an atoms-only molecule, sanitized; ValueError names the stage."""
    mol = Chem.Mol(mol)
    stage = "connectivity"
    try:
        with BlockLogs():
            rdDetermineBonds.DetermineConnectivity(mol, useHueckel=use_hueckel, charge=0)
            if len(Chem.GetMolFrags(mol)) != 1:
                stage = "fragments"
                raise ValueError("bonds split the molecule into several fragments")
            stage = "bond orders"
            rdDetermineBonds.DetermineBondOrders(mol, charge=0)
            stage = "sanitize"
            Chem.SanitizeMol(mol)
    except Exception as exc:  # RDKit raises ValueError and its own valence exceptions
        raise ValueError(f"{stage}: {type(exc).__name__}") from exc
    return mol


@contextlib.contextmanager
def _silenced_stdio():
    """Point file descriptors 1 and 2 at /dev/null (C++ code writes there directly)."""
    saved = [os.dup(1), os.dup(2)]
    with open(os.devnull, "w") as null:
        try:
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def _read_records(files: list[Path], wanted: set[int]) -> dict[int, list[str]]:
    """CSV fields of the records whose ``Index`` is in ``wanted`` (others are never split)."""
    records: dict[int, list[str]] = {}
    for path in files:
        with open(path, newline="") as handle:
            header = next(csv.reader([handle.readline()]))
            if header[1] != "Index":
                raise InputError(f"unexpected QM9 CSV header {header[:3]}", path)
            columns = [header.index(c) for c in _COLUMNS]
            for line in handle:
                # Each record starts '"dsgdb9nsd_NNNNNN.xyz",Index,...': read the index only.
                index = int(line.split(",", 2)[1])
                if index in wanted:
                    fields = next(csv.reader([line]))
                    records[index] = [fields[c] for c in columns]
    return records


class QM9Molecules(torch.utils.data.Dataset):
    """QM9 molecules of one split as RDKit molecules with their DFT conformer.

    Parameters
    ----------
    split_file : str or Path
        ``qm9_split.npz`` with integer arrays ``train_index`` and ``val_index`` (QM9 ``Index``
        values).
    split : {"train", "val"}
        Which list to read. There is deliberately no way to read indices outside both lists.
    limit : int or None
        Parse only a random subset of this many indices of the split (drawn with ``seed``);
        ``None`` parses all of them.
    seed : int
        Seed of the ``limit`` subset.
    progress : bool
        Show a progress bar while parsing.

    Attributes
    ----------
    indices : numpy.ndarray
        QM9 ``Index`` of each item, ascending.
    smiles : list of str
        The QM9 SMILES of each item (for reference; atom order differs from the molecule's).
    skipped : collections.Counter
        Number of split indices dropped, by reason: ``"not in qm9pack"``, ``"connectivity:
        ..."``, ``"fragments: ..."``, ``"bond orders: ..."``, ``"sanitize: ..."``.

    Notes
    -----
    Item ``i`` is a fresh ``Chem.Mol`` with explicit hydrogens in the CSV atom order, one
    conformer (the DFT geometry, Angstrom), ``_Name`` ``"qm9_<Index>"`` and the properties
    ``qm9_index`` (int) and ``qm9_smiles``. Parsing takes about 0.5 ms per molecule; the
    molecules are kept as RDKit binary blobs (no pickles).
    """

    def __init__(
        self,
        split_file: str | Path,
        split: str = "train",
        *,
        limit: int | None = None,
        seed: int = 0,
        progress: bool = False,
    ) -> None:
        if split not in _SPLITS:
            raise ValueError(f"split must be one of {_SPLITS}, got {split!r}")
        split_file = Path(split_file)
        if not split_file.is_file():
            raise InputError("QM9 split file not found", split_file)
        with np.load(split_file, allow_pickle=False) as data:
            if f"{split}_index" not in data:
                raise InputError(f"no array '{split}_index' in the split file", split_file)
            wanted = np.unique(data[f"{split}_index"].astype(np.int64))
        if limit is not None and limit < len(wanted):
            rng = np.random.default_rng(seed)
            wanted = np.sort(rng.choice(wanted, size=limit, replace=False))
        records = _read_records(qm9_csv_files(), set(wanted.tolist()))
        self.skipped: Counter[str] = Counter()
        self.skipped["not in qm9pack"] = len(wanted) - len(records)
        indices, smiles, blobs = [], [], []
        for index in track(sorted(records), description="Parsing QM9", disable=not progress):
            _, smi, elements, xyz = records[index]
            symbols = [s.strip(" '\"") for s in elements.strip("[]").split(",")]
            coords = np.array(xyz.replace("[", "").replace("]", "").split(","), dtype=np.float64)
            try:
                mol = molecule_from_xyz(symbols, coords.reshape(-1, 3), f"qm9_{index}")
            except ValueError as exc:
                self.skipped[str(exc)] += 1
                continue
            indices.append(index)
            smiles.append(smi)
            blobs.append(mol.ToBinary())
        self.skipped = +self.skipped  # drop zero counts
        self.indices = np.asarray(indices, dtype=np.int64)
        self.smiles = smiles
        self._blobs = blobs

    def __len__(self) -> int:
        return len(self._blobs)

    def __getitem__(self, i: int) -> Chem.Mol:
        mol = Chem.Mol(self._blobs[i])
        index = int(self.indices[i])
        mol.SetProp("_Name", f"qm9_{index}")
        mol.SetIntProp("qm9_index", index)
        mol.SetProp("qm9_smiles", self.smiles[i])
        return mol
