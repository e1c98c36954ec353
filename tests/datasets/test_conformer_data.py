"""Conformer training items: DFT torsions on seed local structure; batched side masks."""

from __future__ import annotations

import torch

from molgen.chem.torsion_graph import batch_side_mask, torsion_graph
from molgen.datasets.conformer_data import ConformerDataset, collate_conformers
from molgen.datasets.qm9 import QM9Molecules
from molgen.geometry.torsions import rotating_side, torsion_angles
from tests.conftest import DATA_DIR


def _molecules():
    return QM9Molecules(DATA_DIR / "qm9_split.npz", "val", limit=20, seed=3)


def test_item_has_dft_torsions_on_seed_bond_lengths():
    """Item torsions equal the DFT ones; its bond lengths are the seed's, not the DFT's."""
    mols = _molecules()
    dataset = ConformerDataset(mols, seed=0)
    assert 0 < len(dataset) < len(mols)  # rigid molecules are dropped
    for k in range(3):
        item, dft = dataset[k], torsion_graph(mols[dataset.source_index[k]])
        theta, theta_dft = (torsion_angles(g.pos, g.torsion_index) for g in (item, dft))
        assert torch.allclose(
            torch.remainder(theta - theta_dft + 1, 2 * torch.pi), torch.ones_like(theta), atol=1e-4
        )
        i, j = item.bond_index
        gap = (item.pos[i] - item.pos[j]).norm(dim=-1) - (dft.pos[i] - dft.pos[j]).norm(dim=-1)
        assert gap.abs().max() > 1e-3  # ETKDG local geometry, not the DFT one


def test_batched_side_mask_is_block_diagonal_of_the_molecule_masks():
    """batch_side_mask of a batch equals the per-molecule rotating_side masks on the diagonal."""
    mols = _molecules()
    dataset = ConformerDataset(mols, local_structure="reference")
    batch = collate_conformers([dataset[k] for k in range(4)])
    expected = torch.block_diag(
        *[rotating_side(mols[dataset.source_index[k]], dataset[k].torsion_index) for k in range(4)]
    )
    assert torch.equal(batch_side_mask(batch), expected.bool())
