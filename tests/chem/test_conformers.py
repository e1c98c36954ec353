"""Seed conformers: ETKDG for drug-like molecules, fallbacks for QM9 cages, stereo kept."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rdkit import Chem

from molgen.chem.conformers import seed_conformers, stereo_labels
from molgen.datasets.qm9 import QM9Molecules
from molgen.errors import InputError

# QM9 train molecules on which default ETKDGv3 gives no conformer (found by a scan of 300).
ETKDG_FAILURES = ["N#CC1(C#N)C[C@H]2O[C@H]21", "C[C@H]1[C@H]2C[C@]1(O)[C@H]2C"]
# A QM9 cage that no RDKit embedding settings we tried can embed (qm9_50168).
UNEMBEDDABLE = "O=C[C@H]1CC23CN(C2)[C@@H]13"


def _stereo_smiles(mol: Chem.Mol, conf_id: int) -> str:
    copy = Chem.Mol(mol)
    Chem.AssignStereochemistryFrom3D(copy, confId=conf_id)
    return Chem.MolToSmiles(Chem.RemoveHs(copy))


def _bond_lengths(mol: Chem.Mol, conf_id: int) -> np.ndarray:
    pos = mol.GetConformer(conf_id).GetPositions()
    ends = np.array([(b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in mol.GetBonds()])
    return np.linalg.norm(pos[ends[:, 0]] - pos[ends[:, 1]], axis=1)


def test_drug_like_molecule_uses_etkdg() -> None:
    """(S)-ibuprofen: 5 ETKDG conformers with hydrogens, each with the input's stereo, C-C
    bonds 1.45-1.56 A, and not all identical."""
    mol = Chem.MolFromSmiles("CC(C)Cc1ccc(cc1)[C@H](C)C(=O)O")
    out = seed_conformers(mol, 5, seed=1)
    assert out.GetProp("molgen_embed_method") == "etkdg"
    assert out.GetNumConformers() == 5 and out.GetNumAtoms() == Chem.AddHs(mol).GetNumAtoms()
    ref = Chem.MolToSmiles(mol)
    assert all(_stereo_smiles(out, c.GetId()) == ref for c in out.GetConformers())
    single = [
        b.GetIdx()
        for b in out.GetBonds()
        if b.GetBondType() == Chem.BondType.SINGLE
        and b.GetBeginAtom().GetSymbol() == "C"
        and b.GetEndAtom().GetSymbol() == "C"
        and not b.GetIsAromatic()
    ]
    lengths = _bond_lengths(out, 0)[single]
    assert lengths.min() > 1.45 and lengths.max() < 1.56
    pos = np.stack([c.GetPositions() for c in out.GetConformers()])
    assert np.abs(pos[1:] - pos[0]).max() > 0.5


@pytest.mark.parametrize("smiles", ETKDG_FAILURES)
def test_etkdg_failures_use_a_fallback_and_keep_stereo(smiles: str) -> None:
    """QM9 cages where default ETKDG fails still get 3 conformers through a fallback, and the
    stereo read from every conformer's 3D equals the input's (SMILES and CIP labels)."""
    mol = Chem.MolFromSmiles(smiles)
    out = seed_conformers(mol, 3, seed=0)
    assert out.GetProp("molgen_embed_method") != "etkdg"
    assert out.GetNumConformers() == 3
    want = stereo_labels(Chem.AddHs(mol))
    assert want  # the molecule has stereocentres to check
    for conf in out.GetConformers():
        assert _stereo_smiles(out, conf.GetId()) == Chem.MolToSmiles(mol)
        assert stereo_labels(out, from_3d=True, conf_id=conf.GetId()) == want


def test_unembeddable_cage_falls_back_to_its_dft_geometry(tmp_path) -> None:
    """qm9_50168: every embedding fails, so its DFT conformer is used and the other
    conformers are random-torsion copies: same bond lengths (1e-6 A) and stereo."""
    np.savez(tmp_path / "split.npz", train_index=np.array([50168]), val_index=np.array([1]))
    mol = QM9Molecules(tmp_path / "split.npz", "train")[0]
    out = seed_conformers(mol, 3, seed=0)
    assert out.GetProp("molgen_embed_method") == "input_conformer+torsions"
    np.testing.assert_allclose(
        out.GetConformer(0).GetPositions(), mol.GetConformer().GetPositions(), atol=1e-12
    )
    for conf in out.GetConformers():
        np.testing.assert_allclose(
            _bond_lengths(out, conf.GetId()), _bond_lengths(out, 0), atol=1e-6
        )
        assert _stereo_smiles(out, conf.GetId()) == Chem.MolToSmiles(Chem.RemoveHs(mol))
    assert (
        np.abs(out.GetConformer(2).GetPositions() - out.GetConformer(0).GetPositions()).max() > 0.1
    )


def test_unembeddable_without_coordinates_raises() -> None:
    """The same cage given as SMILES (no conformer of its own): InputError naming it."""
    mol = Chem.MolFromSmiles(UNEMBEDDABLE)
    mol.SetProp("_Name", "cage")
    with pytest.raises(InputError, match="cage"):
        seed_conformers(mol, 2, seed=0, max_attempts=20)


def test_same_seed_same_conformers() -> None:
    """Two calls with the same seed give identical coordinates."""
    mol = Chem.MolFromSmiles("CC(=O)N[C@@H](C)C(=O)NC")
    a, b = seed_conformers(mol, 2, seed=3), seed_conformers(mol, 2, seed=3)
    pa = torch.tensor(np.stack([c.GetPositions() for c in a.GetConformers()]))
    pb = torch.tensor(np.stack([c.GetPositions() for c in b.GetConformers()]))
    assert torch.equal(pa, pb)
