r"""Rotatable bonds of a molecule as torsion quadruples :math:`(a, b, c, d)`, and torsion updates.

A torsion about the bond :math:`b - c` is the dihedral angle
:math:`\theta = \angle(a, b, c, d)` of :func:`molgen.geometry.dihedrals.dihedral` (radians);
it is the same for the reversed quadruple, :math:`\angle(d, c, b, a) = \angle(a, b, c, d)`.

Changing a torsion by :math:`\delta` turns one side of the cut bond rigidly about the
:math:`b \to c` axis (:func:`rotating_side`, :func:`apply_torsion_changes`); bond lengths,
bond angles, rings and every other torsion are left as they are. Lengths in Angstrom.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from rdkit import Chem
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from molgen.geometry.dihedrals import dihedral
from molgen.geometry.so3 import rotvec_to_matrix

__all__ = [
    "apply_torsion_changes",
    "is_rotatable_bond",
    "rotatable_bonds",
    "rotating_side",
    "set_torsions",
    "torsion_angles",
]


def _heavy_neighbours(atom: Chem.Atom) -> list[int]:
    return sorted(n.GetIdx() for n in atom.GetNeighbors() if n.GetAtomicNum() > 1)


def _in_triple_bond(atom: Chem.Atom) -> bool:
    return any(bond.GetBondType() == Chem.BondType.TRIPLE for bond in atom.GetBonds())


def is_rotatable_bond(bond: Chem.Bond) -> bool:
    """Whether ``bond`` is rotatable under the rule of :func:`rotatable_bonds`."""
    b, c = bond.GetBeginAtom(), bond.GetEndAtom()
    return (
        bond.GetBondType() == Chem.BondType.SINGLE
        and not bond.IsInRing()
        and b.GetAtomicNum() > 1
        and c.GetAtomicNum() > 1
        and len(_heavy_neighbours(b)) >= 2
        and len(_heavy_neighbours(c)) >= 2
        and not _in_triple_bond(b)
        and not _in_triple_bond(c)
    )


def rotatable_bonds(mol: Chem.Mol) -> torch.Tensor:
    r"""Torsion quadruples :math:`(a, b, c, d)` of the rotatable bonds of ``mol``.

    Rule: a bond :math:`b - c` is rotatable when it is a single bond (RDKit bond type
    ``SINGLE``, so not aromatic) outside every ring, between two heavy atoms that each have at
    least two heavy-atom neighbours (turning about a bond to a terminal heavy atom such as a
    methyl or a hydroxyl moves only hydrogens), and neither end is part of a triple bond (an
    sp centre puts :math:`b, c, d` on a line, where the dihedral is undefined). Amide C-N
    bonds count as rotatable (their cis/trans isomers are torsional states). On the heavy-atom
    graph this is RDKit's ``Lipinski.RotatableBondSmarts``,
    ``[!$(*#*)&!D1]-&!@[!$(*#*)&!D1]`` (not the stricter ``NumRotatableBonds``); written out
    here to return the quadruples and to ignore explicit hydrogens.

    :math:`b` and :math:`c` are the bond's begin and end atoms in RDKit order; :math:`a` is
    the lowest-index heavy neighbour of :math:`b` other than :math:`c`, and :math:`d` the
    lowest-index heavy neighbour of :math:`c` other than :math:`b`. Hydrogens, explicit or
    not, never count, so the result is the same with or without ``Chem.AddHs``.

    Parameters
    ----------
    mol : rdkit.Chem.Mol
        A sanitized molecule (ring information is needed).

    Returns
    -------
    torch.Tensor
        Long ``[T, 4]`` atom indices, one row per rotatable bond in RDKit bond order
        (``[0, 4]`` when there is none).

    Examples
    --------
    >>> rotatable_bonds(Chem.MolFromSmiles("CCCC")).tolist()  # butane: one torsion
    [[0, 1, 2, 3]]
    """
    rows = []
    for bond in mol.GetBonds():
        if not is_rotatable_bond(bond):
            continue
        b, c = bond.GetBeginAtom(), bond.GetEndAtom()
        a = next(i for i in _heavy_neighbours(b) if i != c.GetIdx())
        d = next(i for i in _heavy_neighbours(c) if i != b.GetIdx())
        rows.append([a, b.GetIdx(), c.GetIdx(), d])
    return torch.tensor(rows, dtype=torch.long).reshape(-1, 4)


def torsion_angles(pos: torch.Tensor, torsion_index: torch.Tensor) -> torch.Tensor:
    r"""Dihedral angles :math:`\angle(a, b, c, d)` in :math:`(-\pi, \pi]` (radians).

    Parameters
    ----------
    pos : torch.Tensor, shape ``(..., N, 3)``
        Atom positions in Angstrom (any leading batch dimensions, e.g. conformers ``B``).
    torsion_index : torch.Tensor, long, shape ``(T, 4)``
        Quadruples :math:`(a, b, c, d)`, e.g. from :func:`rotatable_bonds`.

    Returns
    -------
    torch.Tensor, shape ``(..., T)``
    """
    quads = pos[..., torsion_index, :]  # [..., T, 4, 3]
    return dihedral(*quads.unbind(-2))


def _edges(graph: Chem.Mol | torch.Tensor, num_atoms: int | None) -> tuple[np.ndarray, int]:
    if isinstance(graph, Chem.Mol):
        pairs = [(b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in graph.GetBonds()]
        return np.asarray(pairs, dtype=np.int64).reshape(-1, 2).T, graph.GetNumAtoms()
    if num_atoms is None:
        raise ValueError("num_atoms is needed when the graph is given as an edge index")
    edges = np.asarray(torch.as_tensor(graph).detach().cpu(), dtype=np.int64).reshape(2, -1)
    return edges, int(num_atoms)


def rotating_side(
    graph: Chem.Mol | torch.Tensor, torsion_index: torch.Tensor, num_atoms: int | None = None
) -> torch.Tensor:
    r"""Atoms turned by each torsion: the smaller side of the molecule cut at bond :math:`b - c`.

    Removing the bond :math:`b - c` splits its connected component in two; the mask holds
    the side containing :math:`c`, unless the side containing :math:`b` has fewer atoms
    (ties keep the :math:`c` side). Hydrogens count like any other atom. Which side was kept
    is read back from ``mask[t, c]``; :func:`apply_torsion_changes` turns a :math:`b`-side
    mask the other way so the dihedral still changes by :math:`+\delta`.

    Parameters
    ----------
    graph : rdkit.Chem.Mol or torch.Tensor
        A molecule (its bonds), or an edge index long ``(2, E)`` in either or both directions
        (e.g. ``MoleculeGraph.bond_index``; a batch of several molecules works too).
    torsion_index : torch.Tensor, long, shape ``(T, 4)``
        Quadruples :math:`(a, b, c, d)` whose bonds :math:`b - c` are in no ring.
    num_atoms : int, optional
        Number of atoms N; required with an edge index.

    Returns
    -------
    torch.Tensor, bool, shape ``(T, N)``

    Raises
    ------
    ValueError
        A bond :math:`b - c` is missing or lies in a ring (cutting it leaves one piece).
    """
    edges, n = _edges(graph, num_atoms)
    torsion_index = torch.as_tensor(torsion_index).reshape(-1, 4)
    masks = np.zeros((len(torsion_index), n), dtype=bool)
    for t, (_, b, c, _) in enumerate(torsion_index.tolist()):
        cut = ((edges[0] == b) & (edges[1] == c)) | ((edges[0] == c) & (edges[1] == b))
        if not cut.any():
            raise ValueError(f"torsion {t}: atoms {b} and {c} are not bonded")
        keep = edges[:, ~cut]
        adjacency = coo_matrix((np.ones(keep.shape[1]), (keep[0], keep[1])), shape=(n, n))
        _, label = connected_components(adjacency, directed=False)
        if label[b] == label[c]:
            raise ValueError(f"torsion {t}: bond {b}-{c} is in a ring and cannot be turned")
        c_side, b_side = label == label[c], label == label[b]
        masks[t] = b_side if b_side.sum() < c_side.sum() else c_side
    return torch.from_numpy(masks)


def apply_torsion_changes(
    pos: torch.Tensor, torsion_index: torch.Tensor, side_mask: torch.Tensor, delta: torch.Tensor
) -> torch.Tensor:
    r"""Change every torsion :math:`t` by :math:`\delta_t` by turning its side of the molecule.

    For each torsion in turn, about the current axis :math:`u = (x_c - x_b)/\|x_c - x_b\|`,
    the atoms :math:`i` of ``side_mask[t]`` move to

    .. math:: x_i \leftarrow x_b + R(s\,\delta_t\,u)\,(x_i - x_b),\qquad
        s = +1 \text{ if } c \in \text{side},\; -1 \text{ if } b \in \text{side},

    with :math:`R` Rodrigues' rotation (:func:`molgen.geometry.so3.rotvec_to_matrix`). A
    right-handed turn of the :math:`c` side about :math:`b \to c` raises
    :math:`\angle(a, b, c, d)` by its angle; turning the :math:`b` side instead must go the
    other way. Since each cut bond is a bridge, a rigid turn of one side leaves every other
    torsion's four atoms rigid relative to each other (or on the axis), so the result does
    not depend on the order and afterwards :math:`\theta_t' = \theta_t + \delta_t`
    (mod :math:`2\pi`) exactly, with bond lengths, angles and rings unchanged.

    Parameters
    ----------
    pos : torch.Tensor, shape ``(..., N, 3)``
        Positions in Angstrom; leading dimensions are independent conformers of the molecule.
    torsion_index : torch.Tensor, long, shape ``(T, 4)``
    side_mask : torch.Tensor, bool, shape ``(T, N)``
        From :func:`rotating_side`.
    delta : torch.Tensor, shape ``(..., T)``
        Torsion changes in radians, broadcastable against ``pos``'s batch dimensions.

    Returns
    -------
    torch.Tensor, shape ``(..., N, 3)``
        New positions (``pos`` itself is not modified); differentiable in ``pos`` and
        ``delta``.
    """
    torsion_index = torch.as_tensor(torsion_index, device=pos.device).reshape(-1, 4)
    side_mask = torch.as_tensor(side_mask, device=pos.device).bool()
    if delta.shape[-1] != len(torsion_index) or side_mask.shape != (
        len(torsion_index),
        pos.shape[-2],
    ):
        raise ValueError(
            f"shapes disagree: pos {tuple(pos.shape)}, torsion_index {tuple(torsion_index.shape)}"
            f", side_mask {tuple(side_mask.shape)}, delta {tuple(delta.shape)}"
        )
    b_idx, c_idx = torsion_index[:, 1], torsion_index[:, 2]
    sign = torch.where(side_mask[torch.arange(len(c_idx)), c_idx], 1.0, -1.0).to(delta)
    delta = delta * sign
    for t in range(len(torsion_index)):
        origin = pos[..., b_idx[t], :]  # [..., 3]
        axis = pos[..., c_idx[t], :] - origin
        axis = axis / torch.linalg.vector_norm(axis, dim=-1, keepdim=True)
        rot = rotvec_to_matrix(axis * delta[..., t, None])  # [..., 3, 3]
        moved = (pos - origin[..., None, :]) @ rot.transpose(-1, -2) + origin[..., None, :]
        pos = torch.where(side_mask[t, :, None], moved, pos)
    return pos


def set_torsions(
    pos: torch.Tensor, torsion_index: torch.Tensor, side_mask: torch.Tensor, target: torch.Tensor
) -> torch.Tensor:
    r"""Positions with torsion :math:`t` set to ``target[..., t]`` (radians).

    :func:`apply_torsion_changes` with :math:`\delta = \mathrm{wrap}(\theta^* - \theta)`;
    shapes as there.
    """
    # wrapped to (-pi, pi] as in molgen.diffusion.torus.wrap_angle (geometry sits below it)
    delta = math.pi - torch.remainder(
        math.pi - (target - torsion_angles(pos, torsion_index)), 2 * math.pi
    )
    return apply_torsion_changes(pos, torsion_index, side_mask, delta)
