r"""Training items for the torsion score network: molecules as graphs with rotating sides
(:class:`molgen.chem.torsion_graph.TorsionGraph`).

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
from molgen.chem.torsion_graph import TorsionGraph, torsion_graph
from molgen.errors import InputError
from molgen.geometry.torsions import rotatable_bonds, set_torsions, torsion_angles

__all__ = ["ConformerDataset", "collate_conformers"]


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
