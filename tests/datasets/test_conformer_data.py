"""Conformer training items: DFT torsions on seed local structure; batched torsion turns."""

from __future__ import annotations

import torch

from molgen.chem.torsion_graph import torsion_graph, turn_batch_torsions
from molgen.datasets.conformer_data import ConformerDataset, collate_conformers
from molgen.datasets.qm9 import QM9Molecules
from molgen.geometry.torsions import apply_torsion_changes, rotating_side, torsion_angles
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


def test_batch_turn_equals_each_molecule_turned_alone():
    """turn_batch_torsions of a batch moves every molecule as apply_torsion_changes does on
    that molecule alone (its own side mask), and changes each torsion by its delta."""
    mols = _molecules()
    dataset = ConformerDataset(mols, local_structure="reference")
    items = [dataset[k] for k in range(6)]
    batch = collate_conformers(items)
    pos = batch.pos.double()
    delta = torch.linspace(-3.0, 3.0, len(batch.torsion_index), dtype=torch.float64)
    turned = turn_batch_torsions(batch, pos, delta)
    start_atom = start_torsion = 0
    for k, item in enumerate(items):
        n, t = item.num_nodes, len(item.torsion_index)
        mask = rotating_side(mols[dataset.source_index[k]], item.torsion_index)
        alone = apply_torsion_changes(
            item.pos.double(), item.torsion_index, mask, delta[start_torsion : start_torsion + t]
        )
        assert torch.allclose(turned[start_atom : start_atom + n], alone, atol=1e-9)
        start_atom, start_torsion = start_atom + n, start_torsion + t
    change = torsion_angles(turned, batch.torsion_index) - torsion_angles(pos, batch.torsion_index)
    wrapped = torch.remainder(change - delta + torch.pi, 2 * torch.pi) - torch.pi
    assert wrapped.abs().max() < 1e-9
    assert (turned - pos).abs().max() > 0.5  # the turns moved atoms
