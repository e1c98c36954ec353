"""The protein chain set: many backbone chains in one ``.npz`` file (``data/pdb_chains.npz``).

Format (see ``data/README.md``; read with ``np.load``, no pickles): per chain ``pdb_id``,
``chain``, ``seq`` (one-letter), ``dssp`` (8-state string, ``C`` for coil), ``length``,
``split`` (``train``/``val``/...), ``cluster30`` (cluster representative ``PDBID_CHAIN``);
``offsets`` (``N + 1`` ints: chain ``i`` is rows ``offsets[i]:offsets[i+1]``) and
``coords_centi_A`` (int16 ``[total_residues, 4, 3]``, N/CA/C/O in units of 0.01 Angstrom,
each chain centred on its CA mean). Chains are gap-free, so every atom is present.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import mdtraj
import numpy as np

from molgen.errors import InputError
from molgen.io.structure import BACKBONE_ATOMS, Protein
from molgen.io.tables import ensure_writable

__all__ = ["ChainSet", "backbone_dssp", "load_chain_set", "write_chain_set"]

KEYS = ("pdb_id", "chain", "seq", "dssp", "length", "offsets", "coords_centi_A", "split")
_PER_CHAIN = ("pdb_id", "chain", "seq", "dssp", "length", "split", "cluster30")


class ChainSet:
    """Chains of a chain-set ``.npz`` file, optionally only those of one split.

    Parameters
    ----------
    path : str or Path
        The ``.npz`` file.
    split : str, optional
        Keep only chains whose ``split`` equals this (``"train"``, ``"val"``); default all.

    Attributes
    ----------
    names, pdb_ids, chains, sequences, dssp, splits, clusters : np.ndarray of str, ``(N,)``
    lengths : np.ndarray of int64, ``(N,)``
        Per selected chain; ``names`` are ``PDBID_CHAIN``.
    """

    def __init__(self, path: str | Path, split: str | None = None) -> None:
        self.path = Path(path)
        data = _load(self.path)
        rows = np.arange(len(data["length"]))
        if split is not None:
            rows = np.flatnonzero(data["split"] == split)
            if rows.size == 0:
                present = ", ".join(sorted(set(data["split"].tolist())))
                raise InputError(f"no chains with split {split!r}; splits: {present}", self.path)
        self.pdb_ids = data["pdb_id"][rows]
        self.chains = data["chain"][rows]
        self.sequences = data["seq"][rows]
        self.dssp = data["dssp"][rows]
        self.lengths = data["length"][rows].astype(np.int64)
        self.splits = data["split"][rows]
        self.clusters = data["cluster30"][rows]
        self.names = np.char.add(np.char.add(self.pdb_ids, "_"), self.chains)
        self._starts = data["offsets"][rows]
        self._coords = data["coords_centi_A"]

    def __len__(self) -> int:
        return len(self.lengths)

    def atoms(self, i: int) -> np.ndarray:
        """Backbone atoms N, CA, C, O of chain ``i``, float64 ``(L, 4, 3)`` in Angstrom."""
        start = self._starts[i]
        return self._coords[start : start + self.lengths[i]].astype(np.float64) / 100.0

    def __getitem__(self, i: int) -> Protein:
        """Chain ``i`` as a :class:`Protein` (residues numbered from 1)."""
        if not -len(self) <= i < len(self):
            raise IndexError(f"chain index {i} out of range for {len(self)} chains")
        return Protein(
            sequence=str(self.sequences[i]),
            atoms=self.atoms(i),
            chain_id=str(self.chains[i]),
            name=str(self.pdb_ids[i]),
        )

    def __iter__(self) -> Iterator[Protein]:
        return (self[i] for i in range(len(self)))


def _load(path: Path) -> dict[str, np.ndarray]:
    """All arrays of a chain-set file, checked for the keys and shapes of the format."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in KEYS if k not in npz.files]
            if missing:
                raise InputError(f"not a chain set: missing keys {', '.join(missing)}", path)
            data = {k: npz[k] for k in npz.files if k in KEYS or k == "cluster30"}
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError("file not found", path) from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(f"cannot read chain set ({' '.join(str(exc).split())})", path) from None
    n = len(data["length"])
    if "cluster30" not in data:
        data["cluster30"] = np.char.add(np.char.add(data["pdb_id"], "_"), data["chain"])
    offsets, coords = data["offsets"], data["coords_centi_A"]
    if any(len(data[k]) != n for k in _PER_CHAIN) or offsets.shape != (n + 1,):
        raise InputError("per-chain arrays and offsets disagree in length", path)
    if coords.ndim != 3 or coords.shape[1:] != (4, 3) or offsets[-1] != len(coords):
        raise InputError(f"coords_centi_A has shape {coords.shape}, offsets disagree", path)
    if not np.array_equal(np.diff(offsets), data["length"]):
        raise InputError("offsets do not match the chain lengths", path)
    return data


def load_chain_set(path: str | Path, split: str | None = None) -> ChainSet:
    """Open a chain-set ``.npz`` file; see :class:`ChainSet`. Raises InputError if malformed."""
    return ChainSet(path, split)


def backbone_dssp(atoms: np.ndarray) -> str:
    """8-state DSSP string of one complete backbone (mdtraj's DSSP; ``C`` for coil).

    Parameters
    ----------
    atoms : np.ndarray, shape ``(L, 4, 3)``
        N, CA, C, O in Angstrom, all present (backbone amide H is placed by mdtraj).
    """
    top = mdtraj.Topology()
    chain = top.add_chain()
    for _ in range(len(atoms)):
        residue = top.add_residue("GLY", chain)
        for name in BACKBONE_ATOMS:
            top.add_atom(name, mdtraj.element.get_by_symbol(name[0]), residue)
    traj = mdtraj.Trajectory(np.asarray(atoms, dtype=np.float32).reshape(1, -1, 3) / 10.0, top)
    return "".join(mdtraj.compute_dssp(traj, simplified=False)[0]).replace(" ", "C")


def write_chain_set(
    proteins: Sequence[Protein],
    path: str | Path,
    *,
    split: str | Sequence[str] = "train",
    dssp: Sequence[str] | None = None,
    cluster30: Sequence[str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write complete backbone chains as a chain-set ``.npz`` (compressed) file.

    Each chain is centred on its CA mean and stored in 0.01 Angstrom (int16), so a round trip
    changes coordinates by at most 0.005 Angstrom after re-centring.

    Parameters
    ----------
    proteins : sequence of Protein
        Chains without missing atoms; ``pdb_id`` is ``protein.name``, ``chain`` its chain id.
    path : str or Path
        Output file.
    split : str or sequence of str
        One split for all chains, or one per chain. Default ``"train"``.
    dssp : sequence of str, optional
        8-state DSSP per chain; default computed with :func:`backbone_dssp`.
    cluster30 : sequence of str, optional
        Cluster representative per chain; default the chain's own ``PDBID_CHAIN``.
    overwrite : bool
        Replace an existing file. Default False.
    """
    proteins = list(proteins)
    for p in proteins:
        if not p.atom_mask.all():
            raise ValueError(f"chain {p.name}_{p.chain_id} has missing backbone atoms")
    centred = [p.atoms - p.atoms[:, 1].mean(0) for p in proteins]
    coords = np.round(np.concatenate(centred) * 100.0) if centred else np.zeros((0, 4, 3))
    if np.abs(coords).max(initial=0) > np.iinfo(np.int16).max:
        raise ValueError("a chain extends beyond 327 Angstrom from its centre; int16 overflows")
    names = [f"{p.name}_{p.chain_id}" for p in proteins]
    lengths = np.array([len(p) for p in proteins], dtype=np.int64)
    arrays = {
        "pdb_id": np.array([p.name for p in proteins], dtype=str),
        "chain": np.array([p.chain_id for p in proteins], dtype=str),
        "seq": np.array([p.sequence for p in proteins], dtype=str),
        "dssp": np.array(
            [backbone_dssp(p.atoms) for p in proteins] if dssp is None else dssp, dtype=str
        ),
        "length": lengths,
        "offsets": np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        "coords_centi_A": coords.astype(np.int16),
        "split": np.array([split] * len(proteins) if isinstance(split, str) else split, dtype=str),
        "cluster30": np.array(names if cluster30 is None else cluster30, dtype=str),
    }
    if any(len(arrays[k]) != len(proteins) for k in _PER_CHAIN):
        raise ValueError("split, dssp and cluster30 need one entry per chain")
    path = ensure_writable(path, overwrite)
    with open(path, "wb" if overwrite else "xb") as handle:
        np.savez_compressed(handle, **arrays)
    return path
