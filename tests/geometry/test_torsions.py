"""Rotatable-bond rule: hand-checked molecules and agreement with RDKit's rotatable-bond SMARTS."""

from __future__ import annotations

import pytest
import torch
from rdkit import Chem
from rdkit.Chem import AllChem, Lipinski

from molgen.geometry.dihedrals import dihedral
from molgen.geometry.torsions import rotatable_bonds

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
