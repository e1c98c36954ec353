"""Molecule decoys change what they claim; conformer features are invariant and see strain."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rdkit import Chem
from rdkit.Chem import AllChem, rdForceFieldHelpers

from molgen.datasets.qm9 import QM9Molecules
from molgen.errors import InputError
from molgen.geometry.so3 import random_rotation
from molgen.geometry.torsions import rotatable_bonds
from molgen.models import PlausibilityClassifier, PlausibilityClassifierConfig
from molgen.scoring.molecule_decoys import etkdg_raw, random_torsions, wrong_stereo
from molgen.scoring.molecule_features import FEATURE_NAMES, conformer_features
from molgen.scoring.plausibility import conformer_plausibility_scores
from tests.conftest import DATA_DIR


@pytest.fixture(scope="module")
def molecules() -> list[Chem.Mol]:
    """Three QM9 val molecules (DFT geometries) with a rotatable bond and a stereocentre."""
    data = QM9Molecules(DATA_DIR / "qm9_split.npz", "val", limit=200, seed=0)
    out = []
    for i in range(len(data)):
        mol = data[i]
        Chem.AssignStereochemistryFrom3D(mol)
        if len(rotatable_bonds(mol)) and Chem.FindMolChiralCenters(mol):
            out.append(mol)
        if len(out) == 3:
            break
    return out


def _bond_lengths(mol: Chem.Mol) -> np.ndarray:
    pos = mol.GetConformer().GetPositions()
    return np.array(
        [np.linalg.norm(pos[b.GetBeginAtomIdx()] - pos[b.GetEndAtomIdx()]) for b in mol.GetBonds()]
    )


def test_decoys_change_only_what_they_claim(molecules):
    """random_torsions keeps every bond length and moves some atom;
    wrong_stereo inverts the first centre's CIP label; all keep the atom order and count."""
    for mol in molecules:
        turned = random_torsions(mol, np.random.default_rng(0))
        np.testing.assert_allclose(_bond_lengths(turned), _bond_lengths(mol), atol=1e-6)
        moved = turned.GetConformer().GetPositions() - mol.GetConformer().GetPositions()
        assert np.abs(moved).max() > 0.1
        wrong = wrong_stereo(mol, 0)
        assert wrong is not None and wrong.GetNumAtoms() == mol.GetNumAtoms()
        centre, label = Chem.FindMolChiralCenters(mol, useLegacyImplementation=False)[0]
        Chem.AssignStereochemistryFrom3D(wrong)
        flipped = dict(Chem.FindMolChiralCenters(wrong, useLegacyImplementation=False))
        assert flipped[centre] != label
        assert etkdg_raw(mol, 0).GetNumAtoms() == mol.GetNumAtoms()


def _rotated_and_renumbered(mol: Chem.Mol, seed: int) -> Chem.Mol:
    order = np.random.default_rng(seed).permutation(mol.GetNumAtoms()).tolist()
    out = Chem.RenumberAtoms(mol, order)
    rotation = random_rotation(generator=torch.Generator().manual_seed(seed)).double().numpy()
    conf = out.GetConformer()
    for i, xyz in enumerate((conf.GetPositions() @ rotation.T + [3.0, -1.0, 2.0]).tolist()):
        conf.SetAtomPosition(i, xyz)
    return out


def test_features_invariant_to_rotation_translation_and_atom_order(molecules):
    """The same conformer rotated, translated and renumbered has the same features (< 1e-4)."""
    mol = molecules[0]
    base = conformer_features(mol, 0, -0.4)
    moved = conformer_features(_rotated_and_renumbered(mol, 3), 0, -0.4)
    assert base.shape == (len(FEATURE_NAMES),)
    np.testing.assert_allclose(moved, base, atol=1e-4)


def test_dft_geometry_is_less_strained_than_its_decoys(molecules):
    """A DFT geometry is close to its MMFF94 minimum; random torsions and raw ETKDG are not:
    total strain and relaxation RMSD both larger for every molecule."""
    strain = FEATURE_NAMES.index("strain_per_heavy_atom")
    rmsd = FEATURE_NAMES.index("relaxation_rmsd")
    for k, mol in enumerate(molecules):
        real = conformer_features(mol, 0, 0.0)
        for decoy in (random_torsions(mol, np.random.default_rng(k)), etkdg_raw(mol, k)):
            fake = conformer_features(decoy, 0, 0.0)
            assert fake[strain] > real[strain] and fake[rmsd] > real[rmsd]


def test_minimised_conformer_has_no_strain(molecules):
    """After MMFF94 minimisation to convergence the strain and torsion shifts are ~0."""
    mol = Chem.Mol(molecules[1])
    rdForceFieldHelpers.MMFFOptimizeMolecule(mol, maxIters=5000)
    features = dict(zip(FEATURE_NAMES, conformer_features(mol, 0, 0.0), strict=True))
    assert abs(features["strain_per_heavy_atom"]) < 1e-3
    assert features["torsion_shift_max"] < 1e-2 and features["relaxation_rmsd"] < 1e-2


def test_conformer_plausibility_rejects_the_wrong_classifier(molecules):
    """A classifier trained on other features is one InputError; MMFF-less molecules: None."""
    other = PlausibilityClassifier(PlausibilityClassifierConfig(feature_names=["a", "b"]))
    with pytest.raises(InputError, match="other features"):
        conformer_plausibility_scores(other, molecules[0], [0], [0.0])
    right = PlausibilityClassifier(PlausibilityClassifierConfig(feature_names=list(FEATURE_NAMES)))
    boron = Chem.AddHs(Chem.MolFromSmiles("[B-](F)(F)(F)F"))  # no MMFF94 parameters for B
    AllChem.EmbedMolecule(boron, randomSeed=0)
    assert conformer_plausibility_scores(right.eval(), boron, [0], [None]) == [None]


def test_bundled_classifier_ranks_dft_geometries_above_decoys(molecules):
    """The bundled molecule classifier with the bundled torsion model: on 12 QM9 val molecules
    with a rotatable bond, the DFT geometries outrank their random-torsion and raw-ETKDG
    decoys (AUC >= 0.8 each) and most of them score above 0 (log-odds of real-like)."""
    from molgen.models import load
    from molgen.scoring import conformer_model_scores, roc_auc

    network, classifier = load("conformer"), load("molecule_plausibility")
    data = QM9Molecules(DATA_DIR / "qm9_split.npz", "val", limit=60, seed=0)
    picked = [data[i] for i in range(len(data)) if len(rotatable_bonds(data[i]))][:12]

    def score(mol: Chem.Mol) -> float:
        [denoising] = conformer_model_scores(network, mol, [0], seed=0)
        return conformer_plausibility_scores(classifier, mol, [0], [denoising])[0]

    real = np.array([score(mol) for mol in picked])
    rng = np.random.default_rng(0)
    turned = np.array([score(random_torsions(mol, rng)) for mol in picked])
    embedded = np.array([score(d) for k, mol in enumerate(picked) if (d := etkdg_raw(mol, k))])
    assert roc_auc(real, turned) >= 0.8 and roc_auc(real, embedded) >= 0.8
    assert (real > 0).mean() >= 0.75


def test_molecule_without_hydrogen_records_gets_them_placed(molecules):
    """An SDF-like input without H atoms: hydrogens are placed, the DFT heavy atoms stay near
    their MMFF94 minimum (relaxation RMSD < 0.2 A) and the strain stays that of a real
    geometry (below its random-torsion decoy's)."""
    rmsd = FEATURE_NAMES.index("relaxation_rmsd")
    strain = FEATURE_NAMES.index("strain_per_heavy_atom")
    bare = Chem.RemoveHs(molecules[0])
    features = conformer_features(bare, 0, 0.0)
    decoy = conformer_features(
        Chem.RemoveHs(random_torsions(molecules[0], np.random.default_rng(1))), 0, 0.0
    )
    assert np.isfinite(features).all() and features[rmsd] < 0.2
    assert features[strain] < decoy[strain]
