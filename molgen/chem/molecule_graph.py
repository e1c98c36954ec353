r"""Atom graphs of RDKit molecules for the torsion score network (torch-geometric ``Data``).

A molecule becomes a :class:`MoleculeGraph` holding every atom of the RDKit molecule
(hydrogens included when they are explicit) with invariant atom and bond features, the bonds
in both directions and the rotatable torsions of :func:`molgen.geometry.torsions.rotatable_bonds`.
``torch_geometric.data.Batch.from_data_list`` concatenates such graphs: ``bond_index`` and
``torsion_index`` are offset by the number of atoms before them, ``torsion_index`` is stacked
along its first dimension. Positions are in Angstrom.
"""

from __future__ import annotations

import numpy as np
import torch
from rdkit import Chem
from torch_geometric.data import Data

from molgen.errors import InputError
from molgen.geometry.torsions import rotatable_bonds

__all__ = ["ATOM_FEATURES", "BOND_FEATURES", "HYDROGEN_FEATURE", "MoleculeGraph", "molecule_graph"]

_ELEMENTS = ("H", "C", "N", "O", "F", "S", "Cl", "Br", "I", "P")
_HYBRIDISATIONS = (
    Chem.HybridizationType.SP,
    Chem.HybridizationType.SP2,
    Chem.HybridizationType.SP3,
    Chem.HybridizationType.SP3D,
    Chem.HybridizationType.SP3D2,
)
_BOND_TYPES = (
    Chem.BondType.SINGLE,
    Chem.BondType.DOUBLE,
    Chem.BondType.TRIPLE,
    Chem.BondType.AROMATIC,
)
_MAX_DEGREE = 5  # one-hot 0..4 and "5 or more"
_MAX_HS = 4  # one-hot 0..3 and "4 or more"

#: Size of the atom feature vector ``x``: element (10 + other), total degree (6), formal
#: charge, aromatic, hybridisation (5 + other), in ring, total hydrogens (5).
ATOM_FEATURES = len(_ELEMENTS) + 1 + (_MAX_DEGREE + 1) + 1 + 1 + len(_HYBRIDISATIONS) + 1 + 1 + 5
#: Column of ``x`` that is 1 for hydrogen atoms (the first slot of the element one-hot).
HYDROGEN_FEATURE = _ELEMENTS.index("H")
#: Size of ``bond_attr``: bond type (single, double, triple, aromatic), conjugated, in ring.
BOND_FEATURES = len(_BOND_TYPES) + 2


def _one_hot(value: object, choices: tuple) -> list[float]:
    """One-hot over ``choices`` plus a last "other" slot."""
    out = [0.0] * (len(choices) + 1)
    out[choices.index(value) if value in choices else len(choices)] = 1.0
    return out


def _atom_features(atom: Chem.Atom) -> list[float]:
    return [
        *_one_hot(atom.GetSymbol(), _ELEMENTS),
        *_one_hot(min(atom.GetTotalDegree(), _MAX_DEGREE), tuple(range(_MAX_DEGREE))),
        float(atom.GetFormalCharge()),
        float(atom.GetIsAromatic()),
        *_one_hot(atom.GetHybridization(), _HYBRIDISATIONS),
        float(atom.IsInRing()),
        # includeNeighbors: explicit hydrogens count too, so AddHs leaves heavy atoms unchanged.
        *_one_hot(min(atom.GetTotalNumHs(includeNeighbors=True), _MAX_HS), tuple(range(_MAX_HS))),
    ]


def _bond_features(bond: Chem.Bond) -> list[float]:
    kind = [float(bond.GetBondType() == t) for t in _BOND_TYPES]
    return [*kind, float(bond.GetIsConjugated()), float(bond.IsInRing())]


class MoleculeGraph(Data):
    """A torch-geometric ``Data`` whose ``torsion_index [T, 4]`` batches along dim 0.

    ``bond_index`` and ``torsion_index`` hold atom indices, so torch-geometric's default
    ``__inc__`` (any key containing "index") offsets both by ``num_nodes`` when batching.
    """

    def __cat_dim__(self, key: str, value: object, *args, **kwargs) -> int:
        if key == "torsion_index":
            return 0
        return super().__cat_dim__(key, value, *args, **kwargs)


def molecule_graph(mol: Chem.Mol, conf_id: int = -1) -> MoleculeGraph:
    r"""Atom graph of one conformer of ``mol``.

    Parameters
    ----------
    mol : rdkit.Chem.Mol
        A sanitized molecule with at least one conformer (coordinates in Angstrom). All its
        atoms become nodes, hydrogens included when they are explicit.
    conf_id : int
        RDKit conformer id; -1 is the default conformer.

    Returns
    -------
    MoleculeGraph
        Floating tensors in torch's default dtype: ``pos`` ``[N, 3]`` (Angstrom); ``x``
        ``[N, ATOM_FEATURES]``;
        ``bond_index`` long ``[2, 2 B]`` with bond ``k`` as columns ``2k`` (begin -> end) and
        ``2k + 1`` (end -> begin); ``bond_attr`` ``[2 B, BOND_FEATURES]``;
        ``torsion_index`` long ``[T, 4]`` (a, b, c, d) from
        :func:`~molgen.geometry.torsions.rotatable_bonds`; ``num_nodes`` N.

    Raises
    ------
    InputError
        The molecule has no conformer with id ``conf_id`` or non-finite coordinates.
    """
    name = mol.GetProp("_Name") if mol.HasProp("_Name") else "molecule"
    ids = [conf.GetId() for conf in mol.GetConformers()]
    if not ids or (conf_id != -1 and conf_id not in ids):
        raise InputError(f"{name}: no conformer with id {conf_id} (embed 3D coordinates first)")
    pos = np.asarray(mol.GetConformer(conf_id).GetPositions(), dtype=np.float64)
    if not np.isfinite(pos).all():
        raise InputError(f"{name}: conformer {conf_id} has non-finite coordinates")
    x = [_atom_features(atom) for atom in mol.GetAtoms()]
    ends, attrs = [], []
    for bond in mol.GetBonds():
        b, c = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        ends += [(b, c), (c, b)]
        attrs += [_bond_features(bond)] * 2
    dtype = torch.get_default_dtype()
    return MoleculeGraph(
        pos=torch.tensor(pos, dtype=dtype),
        x=torch.tensor(x, dtype=dtype).reshape(-1, ATOM_FEATURES),
        bond_index=torch.tensor(ends, dtype=torch.long).reshape(-1, 2).T.contiguous(),
        bond_attr=torch.tensor(attrs, dtype=dtype).reshape(-1, BOND_FEATURES),
        torsion_index=rotatable_bonds(mol),
        num_nodes=mol.GetNumAtoms(),
    )
