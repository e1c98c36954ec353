"""Rotatable-bond rule (hand-checked, RDKit SMARTS agreement) and torsion read-out/updates."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rdkit import Chem
from rdkit.Chem import AllChem, Lipinski, rdDistGeom, rdMolTransforms
from torch_geometric.data import Batch

from molgen.chem.molecule_graph import molecule_graph
from molgen.datasets.qm9 import QM9Molecules
from molgen.geometry.dihedrals import dihedral
from molgen.geometry.torsions import (
    apply_torsion_changes,
    rotatable_bonds,
    rotating_side,
    set_torsions,
    torsion_angles,
)
from tests.conftest import DATA_DIR

# Drug-like and QM9-like molecules: amides, esters, sulfonamides, alkynes, nitriles, rings.
AGREEMENT_SMILES = [
    "CC(C)Cc1ccc(cc1)C(C)C(=O)O",  # ibuprofen
    "CC(=O)Oc1ccccc1C(=O)O",  # aspirin
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",  # caffeine
    "CCN(CC)CCOC(=O)c1ccc(N)cc1",  # procaine
    "COc1ccc2[nH]cc(CCN(C)C)c2c1",  # 5-MeO-DMT
    "CCCCO",  # butanol
    "CCOCC",  # diethyl ether
    "OCC(O)CO",  # glycerol
    "c1ccc(cc1)-c1ccccc1",  # biphenyl
    "CC(C)(C)c1ccccc1",  # tert-butylbenzene
    "CN(C)C(=O)c1ccccc1",  # tertiary amide
    "OC(=O)CCC(=O)O",  # succinic acid
    "CCS(=O)(=O)N(C)C",  # sulfonamide
    "NCCc1ccc(O)c(O)c1",  # dopamine
    "CC#CCC",  # 2-pentyne: bonds at the sp centres are not rotatable
    "N#CCCC(C)C",  # nitrile
    "CC1CCCCC1CCO",  # ring substituent
    "O=C(OC)C=CC",  # methyl crotonate
    "CCCCCCCC",  # octane
    "COC(=O)C(C)(C)OC",  # ester and ether
    "c1ccccc1Oc1ccccc1",  # diphenyl ether
    "CC(C)NCC(O)COc1cccc2ccccc12",  # propranolol
    "CC(=O)Nc1ccc(O)cc1",  # paracetamol: secondary amide
    "CC(=O)NC",  # N-methylacetamide
]


def _rdkit_count(smiles: str) -> int:
    return len(Chem.MolFromSmiles(smiles).GetSubstructMatches(Lipinski.RotatableBondSmarts))


@pytest.mark.parametrize(
    ("smiles", "expected"),
    [
        ("CC", []),  # ethane: both carbons terminal among heavy atoms
        ("CCCC", [[0, 1, 2, 3]]),  # butane
        ("c1ccccc1", []),  # benzene: aromatic ring bonds
        ("C1CCCCC1", []),  # cyclohexane: ring bonds
        ("c1ccc(cc1)-c1ccccc1", [[2, 3, 6, 7]]),  # biphenyl: ring atoms 3-6; a = 2 < 4, d = 7 < 11
        ("CC(=O)NC", [[0, 1, 3, 4]]),  # N-methylacetamide: the amide C-N counts
        ("CC(C)C(C)C", [[0, 1, 3, 4]]),  # 2,3-dimethylbutane: a = 0 not 2, d = 4 not 5
        ("CC#CC", []),  # 2-butyne
        ("C=CC=C", [[0, 1, 2, 3]]),  # butadiene: the central single bond
    ],
)
def test_rotatable_bonds_hand_checked(smiles: str, expected: list[list[int]]) -> None:
    """Quadruples (a, b, c, d) follow the stated rule on small molecules checked by hand."""
    assert rotatable_bonds(Chem.MolFromSmiles(smiles)).tolist() == expected


@pytest.mark.parametrize("smiles", AGREEMENT_SMILES)
def test_count_matches_rdkit_smarts(smiles: str) -> None:
    """Number of rotatable bonds == matches of RDKit's Lipinski.RotatableBondSmarts."""
    assert len(rotatable_bonds(Chem.MolFromSmiles(smiles))) == _rdkit_count(smiles)


def test_quadruples_are_bonded_heavy_paths() -> None:
    """Each (a, b, c, d) is a path of bonds a-b, b-c, c-d of four distinct heavy atoms."""
    for smiles in AGREEMENT_SMILES:
        mol = Chem.MolFromSmiles(smiles)
        for a, b, c, d in rotatable_bonds(mol).tolist():
            assert len({a, b, c, d}) == 4
            assert all(mol.GetAtomWithIdx(i).GetAtomicNum() > 1 for i in (a, b, c, d))
            assert all(mol.GetBondBetweenAtoms(i, j) for i, j in [(a, b), (b, c), (c, d)])


def test_hydrogens_do_not_change_the_result() -> None:
    """rotatable_bonds(AddHs(mol)) == rotatable_bonds(mol) (hydrogens are appended last)."""
    for smiles in AGREEMENT_SMILES:
        mol = Chem.MolFromSmiles(smiles)
        assert torch.equal(rotatable_bonds(Chem.AddHs(mol)), rotatable_bonds(mol))


def test_reversed_quadruple_has_the_same_dihedral() -> None:
    """On an ETKDG conformer of ibuprofen, angle(a, b, c, d) == angle(d, c, b, a) != 0."""
    mol = Chem.AddHs(Chem.MolFromSmiles(AGREEMENT_SMILES[0]))
    AllChem.EmbedMolecule(mol, randomSeed=7)
    pos = torch.tensor(mol.GetConformer().GetPositions(), dtype=torch.float64)
    quads = rotatable_bonds(mol)
    forward = dihedral(*pos[quads].unbind(1))
    backward = dihedral(*pos[quads.flip(1)].unbind(1))
    assert len(quads) == 4
    torch.testing.assert_close(forward, backward, atol=1e-12, rtol=0)
    assert forward.abs().min() > 1e-3


# ---------------------------------------------------------------------------------------------
# Torsion read-out and updates on real conformers.


DRUG_LIKE = {
    "ibuprofen": "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
    "peptide": "CC(=O)N[C@@H](C)C(=O)N[C@@H](CC(C)C)C(=O)NC",  # Ac-Ala-Leu-NHMe
    "propranolol": "CC(C)NCC(O)COc1cccc2ccccc12",  # naphthalene ring + rotatable chain
}


def _wrap(x: torch.Tensor) -> torch.Tensor:
    return torch.remainder(x + torch.pi, 2 * torch.pi) - torch.pi


@pytest.fixture(scope="module")
def conformers() -> list[Chem.Mol]:
    """Three drug-like molecules (ETKDG, explicit Hs) and QM9 val molecules (DFT geometry)
    with at least two rotatable bonds."""
    mols = []
    for name, smiles in DRUG_LIKE.items():
        mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
        params = rdDistGeom.ETKDGv3()
        params.randomSeed = 11
        assert rdDistGeom.EmbedMolecule(mol, params) == 0
        mol.SetProp("_Name", name)
        mols.append(mol)
    qm9 = QM9Molecules(DATA_DIR / "qm9_split.npz", "val", limit=150, seed=3)
    mols += [m for m in qm9 if len(rotatable_bonds(m)) >= 2][:6]
    assert len(mols) == 9
    return mols


def _pos(mol: Chem.Mol) -> torch.Tensor:
    return torch.tensor(mol.GetConformer().GetPositions(), dtype=torch.float64)


def _internal_geometry(mol: Chem.Mol, pos: torch.Tensor) -> torch.Tensor:
    """Bond lengths, every 1-3 distance (bond angles) and all distances within each ring."""
    pairs = [(b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in mol.GetBonds()]
    for atom in mol.GetAtoms():
        nbrs = [n.GetIdx() for n in atom.GetNeighbors()]
        pairs += [(i, j) for k, i in enumerate(nbrs) for j in nbrs[k + 1 :]]
    for ring in mol.GetRingInfo().AtomRings():
        pairs += [(i, j) for k, i in enumerate(ring) for j in ring[k + 1 :]]
    i, j = torch.tensor(pairs).T
    return torch.linalg.vector_norm(pos[..., i, :] - pos[..., j, :], dim=-1)


def test_torsion_angles_match_rdkit(conformers: list[Chem.Mol]) -> None:
    """torsion_angles == rdMolTransforms.GetDihedralRad for every rotatable bond."""
    for mol in conformers:
        quads = rotatable_bonds(mol)
        ours = torsion_angles(_pos(mol), quads)
        ref = [rdMolTransforms.GetDihedralRad(mol.GetConformer(), *q) for q in quads.tolist()]
        torch.testing.assert_close(ours, torch.tensor(ref, dtype=torch.float64), atol=1e-9, rtol=0)


def test_rotating_side_is_the_smaller_piece_cut_at_b_c(conformers: list[Chem.Mol]) -> None:
    """Each mask holds exactly one of b, c; only the bond b-c crosses it; it is the smaller
    of the two pieces; the edge-index form gives the same masks as the molecule form."""
    for mol in conformers:
        quads = rotatable_bonds(mol)
        masks = rotating_side(mol, quads)
        n = mol.GetNumAtoms()
        for (_, b, c, _), mask in zip(quads.tolist(), masks, strict=True):
            assert bool(mask[b]) != bool(mask[c])
            crossing = [
                {x.GetBeginAtomIdx(), x.GetEndAtomIdx()}
                for x in mol.GetBonds()
                if mask[x.GetBeginAtomIdx()] != mask[x.GetEndAtomIdx()]
            ]
            assert crossing == [{b, c}]
            assert int(mask.sum()) <= n - int(mask.sum())
        graph = molecule_graph(mol)
        assert torch.equal(rotating_side(graph.bond_index, quads, graph.num_nodes), masks)


def test_ring_bond_raises() -> None:
    """A quadruple whose central bond lies in a ring cannot be turned: ValueError."""
    mol = Chem.MolFromSmiles("C1CCCCC1")
    with pytest.raises(ValueError, match="ring"):
        rotating_side(mol, torch.tensor([[0, 1, 2, 3]]))


def test_changes_are_exact_and_geometry_is_kept(conformers: list[Chem.Mol]) -> None:
    """After apply_torsion_changes(delta): wrap(theta' - theta) == delta (< 1e-5, float64),
    for b-side (flipped) masks too; bond lengths, bond angles and ring geometry unchanged
    (< 1e-6 A)."""
    gen = torch.Generator().manual_seed(0)
    flipped = 0
    for mol in conformers:
        pos, quads = _pos(mol), rotatable_bonds(mol)
        masks = rotating_side(mol, quads)
        flipped += int(masks[torch.arange(len(quads)), quads[:, 1]].sum())
        delta = (torch.rand(len(quads), generator=gen, dtype=torch.float64) * 2 - 1) * torch.pi
        new = apply_torsion_changes(pos, quads, masks, delta)
        change = _wrap(torsion_angles(new, quads) - torsion_angles(pos, quads))
        assert (change - delta).abs().max() < 1e-5, mol.GetProp("_Name")
        geometry = _internal_geometry(mol, new) - _internal_geometry(mol, pos)
        assert geometry.abs().max() < 1e-6
        assert (new - pos).abs().max() > 0.1  # something did move
    assert flipped > 0  # the b-side branch was exercised


def test_only_the_moved_side_moves(conformers: list[Chem.Mol]) -> None:
    """Changing one torsion moves exactly the atoms of its mask that are off the b-c axis."""
    for mol in conformers:
        pos, quads = _pos(mol), rotatable_bonds(mol)
        masks = rotating_side(mol, quads)
        for t in range(len(quads)):
            delta = torch.zeros(len(quads), dtype=torch.float64)
            delta[t] = 1.0
            moved = (apply_torsion_changes(pos, quads, masks, delta) - pos).norm(dim=-1) > 1e-9
            b, c = quads[t, 1:3].tolist()
            expected = masks[t].clone()
            expected[[b, c]] = False  # the axis atoms stay put
            assert torch.equal(moved, expected)


def test_batched_conformers_equal_one_at_a_time(conformers: list[Chem.Mol]) -> None:
    """pos [B, N, 3] with delta [B, T] gives, conformer by conformer, the unbatched result."""
    mol = conformers[1]  # the peptide
    quads = rotatable_bonds(mol)
    masks = rotating_side(mol, quads)
    params = rdDistGeom.ETKDGv3()
    params.randomSeed = 5
    rdDistGeom.EmbedMultipleConfs(mol, 3, params)
    pos = torch.tensor(np.stack([c.GetPositions() for c in mol.GetConformers()]))
    delta = torch.linspace(-3.0, 3.0, 3 * len(quads), dtype=torch.float64).reshape(3, -1)
    batched = apply_torsion_changes(pos, quads, masks, delta)
    for k in range(3):
        torch.testing.assert_close(
            batched[k], apply_torsion_changes(pos[k], quads, masks, delta[k]), atol=1e-12, rtol=0
        )
    change = _wrap(torsion_angles(batched, quads) - torsion_angles(pos, quads))
    assert (change - delta).abs().max() < 1e-5


def test_set_torsions_reaches_target_on_a_graph_batch(conformers: list[Chem.Mol]) -> None:
    """On a torch-geometric batch of several molecules (edge-index masks), set_torsions(target)
    gives torsion_angles == target; float32 within 1e-4 rad."""
    graphs = [molecule_graph(m) for m in conformers[:5]]
    batch = Batch.from_data_list(graphs)
    masks = rotating_side(batch.bond_index, batch.torsion_index, batch.num_nodes)
    target = torch.linspace(-3.1, 3.1, len(batch.torsion_index))
    new = set_torsions(batch.pos, batch.torsion_index, masks, target)
    assert new.dtype == torch.float32
    assert _wrap(torsion_angles(new, batch.torsion_index) - target).abs().max() < 1e-4
