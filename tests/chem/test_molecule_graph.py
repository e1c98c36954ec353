"""molecule_graph: RDKit features, bonds, torsions and batching on real molecules."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rdkit import Chem
from rdkit.Chem import AllChem
from torch_geometric.data import Batch

from molgen.chem.molecule_graph import ATOM_FEATURES, BOND_FEATURES, molecule_graph
from molgen.errors import InputError
from molgen.geometry.torsions import rotatable_bonds

IBUPROFEN = "CC(C)Cc1ccc(cc1)C(C)C(=O)O"


def _embed(smiles: str, seed: int = 5) -> Chem.Mol:
    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    assert AllChem.EmbedMolecule(mol, randomSeed=seed) == 0
    return mol


def test_positions_and_bonds_follow_rdkit() -> None:
    """pos == conformer positions (Angstrom); bond k is columns 2k (begin->end), 2k+1 (back)."""
    mol = _embed(IBUPROFEN)
    graph = molecule_graph(mol)
    np.testing.assert_allclose(graph.pos.numpy(), mol.GetConformer().GetPositions(), atol=1e-5)
    assert graph.num_nodes == mol.GetNumAtoms() == 33
    assert graph.bond_index.shape == (2, 2 * mol.GetNumBonds())
    assert graph.bond_attr.shape == (2 * mol.GetNumBonds(), BOND_FEATURES)
    for k, bond in enumerate(mol.GetBonds()):
        b, c = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        assert graph.bond_index[:, 2 * k].tolist() == [b, c]
        assert graph.bond_index[:, 2 * k + 1].tolist() == [c, b]
    assert torch.equal(graph.torsion_index, rotatable_bonds(mol))


def test_atom_features_count_elements_and_aromatic_atoms() -> None:
    """Ibuprofen C13H18O2: element one-hot columns sum to 13 C, 18 H, 2 O; 6 aromatic atoms;
    each one-hot block has exactly one 1 per atom."""
    graph = molecule_graph(_embed(IBUPROFEN))
    x = graph.x
    assert x.shape == (33, ATOM_FEATURES)
    h, c, o = x[:, 0].sum(), x[:, 1].sum(), x[:, 3].sum()
    assert (h, c, o) == (18, 13, 2)
    assert x[:, :11].sum(1).eq(1).all()  # element block
    aromatic = x[:, 11 + 6 + 1]  # after element (11), degree (6), formal charge (1)
    assert aromatic.sum() == 6


def test_bond_features() -> None:
    """Ibuprofen: 6 aromatic ring bonds, one C=O double bond, the rest single (each counted
    twice); ring flag on exactly the aromatic bonds."""
    graph = molecule_graph(_embed(IBUPROFEN))
    kinds = graph.bond_attr[:, :4].sum(0).tolist()
    assert kinds == [2 * 26, 2 * 1, 0, 2 * 6]  # 33 bonds: 15 heavy (one ring), 18 to H
    assert torch.equal(graph.bond_attr[:, 5], graph.bond_attr[:, 3])


def test_heavy_atom_features_do_not_depend_on_explicit_hydrogens() -> None:
    """x of heavy atoms is the same after Chem.RemoveHs (hydrogen counts include explicit H)."""
    mol = _embed(IBUPROFEN)
    heavy = molecule_graph(Chem.RemoveHs(mol))
    full = molecule_graph(mol)
    assert torch.equal(full.x[: heavy.num_nodes], heavy.x)
    assert torch.equal(full.torsion_index, heavy.torsion_index)


def test_batch_offsets_indices() -> None:
    """Batch.from_data_list: bond_index and torsion_index of the second graph are offset by
    the first graph's atom count, torsion_index is stacked to [T1 + T2, 4]."""
    first, second = molecule_graph(_embed(IBUPROFEN)), molecule_graph(_embed("CCOCCO"))
    batch = Batch.from_data_list([first, second])
    n1, t1 = first.num_nodes, len(first.torsion_index)
    assert batch.torsion_index.shape == (t1 + len(second.torsion_index), 4)
    assert torch.equal(batch.torsion_index[t1:], second.torsion_index + n1)
    assert torch.equal(batch.bond_index[:, first.bond_index.shape[1] :], second.bond_index + n1)
    assert torch.equal(batch.batch[batch.torsion_index].unique(dim=0)[:, 0], torch.tensor([0, 1]))


def test_float64_under_default_dtype() -> None:
    """Floating tensors follow torch's default dtype (float64 tests build graphs in float64)."""
    from equivariant.dtype import default_dtype

    with default_dtype(torch.float64):
        graph = molecule_graph(_embed("CCCO"))
    assert graph.pos.dtype == graph.x.dtype == graph.bond_attr.dtype == torch.float64


@pytest.mark.parametrize("conf_id", [-1, 3])
def test_missing_conformer_raises_input_error(conf_id: int) -> None:
    """A molecule without (that) conformer raises InputError naming the molecule."""
    mol = Chem.MolFromSmiles("CCO")
    mol.SetProp("_Name", "ethanol")
    if conf_id != -1:
        mol = _embed("CCO")
        mol.SetProp("_Name", "ethanol")
    with pytest.raises(InputError, match="ethanol"):
        molecule_graph(mol, conf_id)
