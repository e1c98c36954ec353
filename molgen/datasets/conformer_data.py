r"""Training items for the torsion score network: molecules as graphs with rotating sides.

A :class:`TorsionGraph` is a :class:`~molgen.models.molecule_graph.MoleculeGraph` that also
carries ``side_index`` ``[2, S]``: the pairs (torsion :math:`t`, atom :math:`i`) of the atoms
turned by torsion :math:`t` (:func:`molgen.geometry.torsions.rotating_side`). Batching offsets
row 0 by the torsions and row 1 by the atoms before each graph, so :func:`batch_side_mask`
rebuilds a block-diagonal ``[T, N]`` mask of the whole batch, and
:func:`~molgen.geometry.torsions.apply_torsion_changes` turns every torsion of every
molecule of a batch in one call (the cut bonds of different molecules share no atoms).

:class:`ConformerDataset` (Torsional Diffusion, Jing et al. 2022, Sec. 4): item :math:`i` is
molecule :math:`i` with the *local* structure (bond lengths, angles, rings) of an ETKDG seed
conformer (:func:`molgen.chem.seed_conformers`, seed ``seed + i``) and the *torsions* of its
reference geometry (the DFT conformer for QM9), set with
:func:`~molgen.geometry.torsions.set_torsions`. The network thus learns torsions on the
ETKDG local geometry it meets at sampling time. Molecules without a rotatable bond are
dropped. Seeding costs about 10-50 ms per molecule, so it is done lazily and cached.
Positions in Angstrom.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from rdkit import Chem
from torch_geometric.data import Batch

from molgen.chem.conformers import seed_conformers
from molgen.errors import InputError
from molgen.geometry.torsions import rotatable_bonds, rotating_side, set_torsions, torsion_angles
from molgen.models.molecule_graph import MoleculeGraph, molecule_graph

__all__ = [
    "ConformerDataset",
    "TorsionGraph",
    "batch_side_mask",
    "collate_conformers",
    "torsion_graph",
]


class TorsionGraph(MoleculeGraph):
    """A :class:`MoleculeGraph` with ``side_index`` ``[2, S]`` (torsion, atom) pairs."""

    def __inc__(self, key: str, value: object, *args, **kwargs) -> object:
        if key == "side_index":
            return torch.tensor([[len(self.torsion_index)], [self.num_nodes]])
        return super().__inc__(key, value, *args, **kwargs)


def torsion_graph(
    mol: Chem.Mol, conf_id: int = -1, side_mask: torch.Tensor | None = None
) -> TorsionGraph:
    """:func:`~molgen.models.molecule_graph.molecule_graph` of ``mol`` plus its rotating sides.

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


def collate_conformers(items: Sequence[TorsionGraph]) -> Batch:
    """A torch-geometric ``Batch`` of training items (indices offset per graph)."""
    return Batch.from_data_list(list(items))


class ConformerDataset(torch.utils.data.Dataset):
    """Molecules with reference torsions on seed-conformer local structure (module docstring).

    Parameters
    ----------
    molecules : sequence of rdkit.Chem.Mol
        Sanitized molecules with explicit hydrogens and one reference conformer each (e.g.
        :class:`molgen.datasets.QM9Molecules`); indexed lazily.
    seed : int
        Item ``i`` embeds its seed conformer with seed ``seed + i`` (deterministic).
    local_structure : {"seed", "reference"}
        ``"reference"`` skips the seed conformer and uses the reference geometry as it is
        (cheaper; the network then sees DFT bond lengths and angles in training only).

    Notes
    -----
    When no seed conformer can be embedded (ETKDG and its fallbacks fail) the reference
    geometry is used for that item. ``len`` counts molecules with a rotatable bond only;
    ``source_index[k]`` is the position in ``molecules`` of item ``k``.
    """

    def __init__(
        self, molecules: Sequence[Chem.Mol], *, seed: int = 0, local_structure: str = "seed"
    ) -> None:
        if local_structure not in ("seed", "reference"):
            raise ValueError(f"local_structure must be 'seed' or 'reference': {local_structure!r}")
        self.molecules, self.seed, self.local_structure = molecules, seed, local_structure
        self.source_index = [
            i for i in range(len(molecules)) if len(rotatable_bonds(molecules[i])) > 0
        ]
        self._cache: dict[int, TorsionGraph] = {}

    def __len__(self) -> int:
        return len(self.source_index)

    def __getitem__(self, k: int) -> TorsionGraph:
        if k not in self._cache:
            self._cache[k] = self._build(self.source_index[k])
        return self._cache[k]

    def _build(self, i: int) -> TorsionGraph:
        reference = self.molecules[i]
        graph = torsion_graph(reference)
        if self.local_structure == "reference":
            return graph
        try:
            seeded = seed_conformers(reference, 1, seed=self.seed + i)
        except InputError:
            return graph
        if seeded.GetNumAtoms() != reference.GetNumAtoms():
            return graph  # hydrogens were implicit: atom orders differ
        seed_pos = torch.as_tensor(seeded.GetConformer(0).GetPositions(), dtype=graph.pos.dtype)
        side_mask = torch.zeros(len(graph.torsion_index), graph.num_nodes, dtype=torch.bool)
        side_mask[graph.side_index[0], graph.side_index[1]] = True
        target = torsion_angles(graph.pos, graph.torsion_index)
        graph.pos = set_torsions(seed_pos, graph.torsion_index, side_mask, target)
        return graph
