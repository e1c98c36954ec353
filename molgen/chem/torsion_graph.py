r"""Molecules as graphs with rotating sides, for turning torsions of whole batches at once.

A :class:`TorsionGraph` is a :class:`~molgen.chem.molecule_graph.MoleculeGraph` that also
carries ``side_index`` ``[2, S]``: the pairs (torsion :math:`t`, atom :math:`i`) of the atoms
turned by torsion :math:`t` (:func:`molgen.geometry.torsions.rotating_side`). Batching offsets
row 0 by the torsions and row 1 by the atoms before each graph, and
:func:`turn_batch_torsions` turns every torsion of every molecule of a batch: the torsions of
different molecules move disjoint atoms, so the :math:`k`-th torsion of every molecule turns
in the same round, and a batch takes as many rounds as its most flexible molecule has
torsions, each touching only the atoms that move (work linear in the batch).
"""

from __future__ import annotations

import torch
from rdkit import Chem
from torch_geometric.data import Batch

from molgen.chem.molecule_graph import MoleculeGraph, molecule_graph
from molgen.geometry.so3 import rotvec_to_matrix
from molgen.geometry.torsions import rotating_side

__all__ = ["TorsionGraph", "torsion_graph", "turn_batch_torsions"]


class TorsionGraph(MoleculeGraph):
    """A :class:`MoleculeGraph` with ``side_index`` ``[2, S]`` (torsion, atom) pairs."""

    def __inc__(self, key: str, value: object, *args, **kwargs) -> object:
        if key == "side_index":
            return torch.tensor([[len(self.torsion_index)], [self.num_nodes]])
        return super().__inc__(key, value, *args, **kwargs)


def torsion_graph(
    mol: Chem.Mol, conf_id: int = -1, side_mask: torch.Tensor | None = None
) -> TorsionGraph:
    """:func:`~molgen.chem.molecule_graph.molecule_graph` of ``mol`` plus its rotating sides.

    ``side_mask`` (bool ``[T, N]`` of :func:`~molgen.geometry.torsions.rotating_side`) may be
    passed to avoid recomputing it for every conformer of one molecule.
    """
    graph = TorsionGraph(**molecule_graph(mol, conf_id).to_dict())
    if side_mask is None:
        side_mask = rotating_side(mol, graph.torsion_index)
    graph.side_index = side_mask.nonzero().T.contiguous()  # [2, S]
    return graph


def turn_batch_torsions(batch: Batch, pos: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
    r"""Positions ``[N, 3]`` (Angstrom) of a batch of :class:`TorsionGraph` after changing
    torsion :math:`t` of ``batch.torsion_index`` by ``delta[t]`` (radians, ``[T]``).

    The same turn as :func:`~molgen.geometry.torsions.apply_torsion_changes` (the side atoms
    :math:`i` move to :math:`x_b + R(s\,\delta_t\,u)(x_i - x_b)` about the current axis
    :math:`u`, :math:`s = +1` when :math:`c` turns with the side): torsion :math:`k` of every
    molecule turns in round :math:`k`. Differentiable in ``pos`` and ``delta``.
    """
    quads = batch.torsion_index
    if len(quads) == 0:
        return pos
    b, c = quads[:, 1], quads[:, 2]
    owner, atom = batch.side_index  # [S] each
    molecule = batch.batch[b]  # [T], sorted: torsions are stacked molecule by molecule
    counts = torch.bincount(molecule, minlength=batch.num_graphs)
    first = torch.cumsum(counts, 0) - counts  # first torsion of each molecule
    rank = torch.arange(len(quads), device=pos.device) - first[molecule]  # [T]
    c_turns = torch.zeros(len(quads), dtype=torch.bool, device=pos.device)
    c_turns[owner[atom == c[owner]]] = True
    signed = delta * torch.where(c_turns, 1.0, -1.0).to(delta)
    pair_rank = rank[owner]
    for k in range(int(rank.max()) + 1):
        in_round = pair_rank == k
        t, i = owner[in_round], atom[in_round]  # [P] each
        origin = pos[b]  # [T, 3]
        axis = pos[c] - origin
        axis = axis / torch.linalg.vector_norm(axis, dim=-1, keepdim=True)
        rot = rotvec_to_matrix(axis * signed[:, None])  # [T, 3, 3]; rows of round k used
        moved = ((pos[i] - origin[t])[:, None, :] @ rot[t].transpose(-1, -2))[:, 0] + origin[t]
        pos = pos.index_put((i,), moved)
    return pos
