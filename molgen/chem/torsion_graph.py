r"""Molecules as graphs with rotating sides, for turning torsions of whole batches at once.

A :class:`TorsionGraph` is a :class:`~molgen.chem.molecule_graph.MoleculeGraph` that also
carries ``side_index`` ``[2, S]``: the pairs (torsion :math:`t`, atom :math:`i`) of the atoms
turned by torsion :math:`t` (:func:`molgen.geometry.torsions.rotating_side`). Batching offsets
row 0 by the torsions and row 1 by the atoms before each graph, so :func:`batch_side_mask`
rebuilds a block-diagonal ``[T, N]`` mask of the whole batch, and
:func:`~molgen.geometry.torsions.apply_torsion_changes` turns every torsion of every
molecule of a batch in one call (the cut bonds of different molecules share no atoms).
"""

from __future__ import annotations

import torch
from rdkit import Chem
from torch_geometric.data import Batch

from molgen.chem.molecule_graph import MoleculeGraph, molecule_graph
from molgen.geometry.torsions import rotating_side

__all__ = ["TorsionGraph", "batch_side_mask", "torsion_graph"]


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


def batch_side_mask(batch: Batch) -> torch.Tensor:
    """Block-diagonal rotating-side mask, bool ``[T, N]``, of a batch of :class:`TorsionGraph`."""
    mask = torch.zeros(
        len(batch.torsion_index), batch.num_nodes, dtype=torch.bool, device=batch.pos.device
    )
    mask[batch.side_index[0], batch.side_index[1]] = True
    return mask
