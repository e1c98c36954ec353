"""Seed conformers: ETKDG for drug-like molecules, fallbacks for QM9 cages, stereo kept."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rdkit import Chem
from rdkit.Chem import rdDistGeom

from molgen.checks.molecule import check_conformers
from molgen.chem import conformers
from molgen.chem.conformers import seed_conformers, stereo_labels
from molgen.datasets.qm9 import QM9Molecules
from molgen.errors import InputError

# QM9 train molecules on which default ETKDGv3 gives no conformer (found by a scan of 300).
ETKDG_FAILURES = ["N#CC1(C#N)C[C@H]2O[C@H]21", "C[C@H]1[C@H]2C[C@]1(O)[C@H]2C"]
# QM9 val cage on which every ETKDG attempt fails, with or without chirality enforcement.
KNOWLEDGE_FAILURE = "[H]/N=C1\\N2[C@@H]3[C@H](C)[C@@]1(O)[C@@H]32"  # qm9_78790
# QM9 cage whose distance bounds RDKit cannot make consistent: no embedding at all (qm9_50168).
UNEMBEDDABLE = "O=C[C@H]1CC23CN(C2)[C@@H]13"
# A trans-bridged bicyclo[1.1.0]butane: no 3D geometry has this stereo.
IMPOSSIBLE = "OC1[C@H]2C[C@H]12"


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


def _check_stereo(out: Chem.Mol, mol: Chem.Mol) -> None:
    want = stereo_labels(Chem.AddHs(mol))
    assert want  # the molecule has stereocentres to check
    for conf in out.GetConformers():
        assert _stereo_smiles(out, conf.GetId()) == Chem.MolToSmiles(Chem.RemoveHs(mol))
        assert stereo_labels(out, from_3d=True, conf_id=conf.GetId()) == want


def _default_etkdg(mol: Chem.Mol, num: int) -> int:
    params = rdDistGeom.ETKDGv3()
    params.randomSeed = 0
    return len(rdDistGeom.EmbedMultipleConfs(Chem.AddHs(mol), num, params))


@pytest.mark.parametrize("smiles", ETKDG_FAILURES)
def test_etkdg_without_chirality_enforcement_embeds_cages_and_keeps_stereo(smiles: str) -> None:
    """QM9 cages where default ETKDGv3 (chirality enforced) gives nothing get 3 ETKDG
    conformers with chirality checked afterwards; the stereo read from
    every conformer's 3D equals the input's (SMILES and CIP labels)."""
    mol = Chem.MolFromSmiles(smiles)
    assert _default_etkdg(mol, 1) == 0
    out = seed_conformers(mol, 3, seed=0)
    assert out.GetProp("molgen_embed_method") == "etkdg"
    assert out.GetNumConformers() == 3
    _check_stereo(out, mol)


def test_cage_failing_etkdg_knowledge_terms_uses_plain_distance_geometry() -> None:
    """qm9_78790 as a graph: every ETKDG attempt fails, plain distance geometry gives 4
    conformers with the input's stereo that pass molgen's molecule checks."""
    mol = Chem.MolFromSmiles(KNOWLEDGE_FAILURE)
    out = seed_conformers(mol, 4, seed=0)
    assert out.GetProp("molgen_embed_method") == "distance_geometry"
    _check_stereo(out, mol)
    assert all(r["checks_passed"] for r in check_conformers(out, reference=mol))


def test_unembeddable_cage_uses_force_field_from_2d() -> None:
    """qm9_50168 as a graph: no distance-geometry embedding exists, so 3 conformers come from
    force-field minimised 2D depictions; stereo kept, all molecule checks pass."""
    mol = Chem.MolFromSmiles(UNEMBEDDABLE)
    out = seed_conformers(mol, 3, seed=0)
    assert out.GetProp("molgen_embed_method") == "force_field"
    _check_stereo(out, mol)
    assert all(r["checks_passed"] for r in check_conformers(out, reference=mol))


def test_unembeddable_cage_with_coordinates_starts_from_its_dft_geometry(tmp_path) -> None:
    """qm9_50168 with its DFT conformer: that conformer comes first (1e-12 A), the rest from
    the force field, all with the input's stereo."""
    np.savez(tmp_path / "split.npz", train_index=np.array([50168]), val_index=np.array([1]))
    mol = QM9Molecules(tmp_path / "split.npz", "train")[0]
    out = seed_conformers(mol, 3, seed=0)
    assert out.GetProp("molgen_embed_method") == "input_conformer+force_field"
    np.testing.assert_allclose(
        out.GetConformer(0).GetPositions(), mol.GetConformer().GetPositions(), atol=1e-12
    )
    for conf in out.GetConformers():
        assert _stereo_smiles(out, conf.GetId()) == Chem.MolToSmiles(Chem.RemoveHs(mol))


def test_random_torsions_fill_up_to_num(monkeypatch) -> None:
    """When the paths find fewer than ``num``, random-torsion copies fill up: same bond
    lengths (1e-6 A) and stereo, different coordinates."""
    mol = Chem.MolFromSmiles("CC(=O)N[C@@H](C)C(=O)NC")
    original, calls = conformers._embed, []

    def one_conformer_in_all(m, n, params, wanted):  # the first embedding call gives one
        calls.append(n)
        return original(m, 1, params, wanted) if len(calls) == 1 else []

    monkeypatch.setattr(conformers, "_embed", one_conformer_in_all)
    monkeypatch.setattr(conformers, "_force_field", lambda *args: [])
    out = seed_conformers(mol, 3, seed=0)
    assert out.GetProp("molgen_embed_method") == "etkdg+torsions"
    for conf in out.GetConformers():
        np.testing.assert_allclose(
            _bond_lengths(out, conf.GetId()), _bond_lengths(out, 0), atol=1e-6
        )
        assert _stereo_smiles(out, conf.GetId()) == Chem.MolToSmiles(mol)
    assert (
        np.abs(out.GetConformer(2).GetPositions() - out.GetConformer(0).GetPositions()).max() > 0.1
    )


def test_impossible_stereo_raises() -> None:
    """A trans-bridged bicyclobutane (no geometry has that stereo): InputError naming it."""
    mol = Chem.MolFromSmiles(IMPOSSIBLE)
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
