r"""Rotatable bonds of a molecule as torsion quadruples :math:`(a, b, c, d)`.

A torsion about the bond :math:`b - c` is the dihedral angle
:math:`\theta = \angle(a, b, c, d)` of :func:`molgen.geometry.dihedrals.dihedral` (radians);
it is the same for the reversed quadruple, :math:`\angle(d, c, b, a) = \angle(a, b, c, d)`.
"""

from __future__ import annotations

import torch
from rdkit import Chem

__all__ = ["is_rotatable_bond", "rotatable_bonds"]


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
