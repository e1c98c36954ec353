"""Stereo preservation (molgen.checks.molecule_stereo) on enantiomers, E/Z flips, renumbering."""

from __future__ import annotations

import numpy as np
import pytest
from molecule_fixtures import distortions as dist
from rdkit import Chem

from molgen.checks.molecule import check_molecule
from molgen.checks.molecule_stereo import specified_stereo, stereo_preserved

S_IBUPROFEN = "CC(C)Cc1ccc(cc1)[C@@H](C)C(=O)O"
R_IBUPROFEN = "CC(C)Cc1ccc(cc1)[C@H](C)C(=O)O"
E_BUTENE = "C/C=C/C"


def _stereo(mol: Chem.Mol, reference: Chem.Mol) -> bool | None:
    return check_molecule(mol, reference=reference)["stereo_preserved"]


def test_specified_stereo_of_alanine_fumaric_acid_and_racemate():
    """L-alanine specifies its CA; fumaric acid its C=C; untagged alanine nothing."""
    assert specified_stereo(Chem.MolFromSmiles("C[C@H](N)C(=O)O")) == ({1}, set())
    assert specified_stereo(Chem.MolFromSmiles("OC(=O)/C=C/C(=O)O")) == (set(), {(3, 4)})
    assert specified_stereo(Chem.MolFromSmiles("CC(N)C(=O)O")) == (set(), set())


def test_enantiomer_conformer_fails():
    """A conformer of R-ibuprofen fails against S-ibuprofen, passes against R."""
    conformer = dist.embed(R_IBUPROFEN)
    assert _stereo(conformer, Chem.MolFromSmiles(S_IBUPROFEN)) is False
    assert _stereo(conformer, Chem.MolFromSmiles(R_IBUPROFEN)) is True


def test_mirror_image_fails_but_meso_mirror_passes():
    """Mirroring inverts a lone stereocentre (fail); a meso compound is its own mirror image."""
    ibuprofen = dist.embed(S_IBUPROFEN)
    assert _stereo(dist.mirror(ibuprofen), ibuprofen) is False
    meso = "C[C@@H](O)[C@H](C)O"  # (2R,3S)-butane-2,3-diol
    assert _stereo(dist.mirror(dist.embed(meso)), Chem.MolFromSmiles(meso)) is True
    chiral = "C[C@@H](O)[C@@H](C)O"  # (2R,3R): the mirror is (2S,3S)
    assert _stereo(dist.mirror(dist.embed(chiral)), Chem.MolFromSmiles(chiral)) is False


def test_flipped_double_bond_fails():
    """Rotating one end of E-2-butene's C=C by 180 deg gives flat Z-2-butene: stereo fails
    alone, and the flipped conformer matches the Z reference."""
    flipped = dist.twist_double_bond(dist.embed(E_BUTENE), np.pi)
    record = check_molecule(flipped, reference=Chem.MolFromSmiles(E_BUTENE))
    assert record["failed_checks"] == ["stereo_preserved"]
    assert _stereo(flipped, Chem.MolFromSmiles("C/C=C\\C")) is True


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_renumbered_atoms_still_pass(seed):
    """Chem.RenumberAtoms with a random permutation keeps the stereo of the reference."""
    smiles = "C[C@@H]1CC[C@H](C(C)C)[C@@H](O)C1"  # menthol, three stereocentres
    mol = dist.embed(smiles)
    order = np.random.default_rng(seed).permutation(mol.GetNumAtoms()).tolist()
    renumbered = Chem.RenumberAtoms(mol, order)
    assert _stereo(renumbered, mol) is True
    assert _stereo(renumbered, Chem.MolFromSmiles(smiles)) is True
    assert _stereo(dist.mirror(renumbered), mol) is False


def test_reference_without_stereo_or_other_molecule():
    """Nothing specified in the reference: True. A different molecule: False."""
    conformer = dist.embed(S_IBUPROFEN)
    sanitized = Chem.Mol(conformer)
    assert stereo_preserved(sanitized, 0, Chem.MolFromSmiles("CC(C)Cc1ccc(cc1)C(C)C(=O)O"))
    assert not stereo_preserved(sanitized, 0, Chem.MolFromSmiles("CC(C)Cc1ccc(cc1)C(C)C(=O)N"))


def test_agrees_with_inchi_stereo_layers():
    """On the fixture molecules with fully specified stereo (clean, mirrored, first acyclic
    C=C turned 180 deg), stereo_preserved equals "standard InChI of the 3D conformer ==
    InChI of the SMILES" (InChI: an independent stereo perception)."""
    verdicts, inchi_verdicts = [], []
    for smiles, _ in dist.read_smiles():
        reference = Chem.MolFromSmiles(smiles)
        if any(not el.specified for el in Chem.FindPotentialStereo(reference)):
            continue  # InChI would compare elements the reference leaves open
        mol = dist.embed(smiles)
        variants = [mol, dist.mirror(mol), dist.twist_double_bond(mol, np.pi)]
        for variant in [v for v in variants if v is not None]:
            verdicts.append(_stereo(variant, reference))
            probe = Chem.Mol(variant)
            Chem.AssignStereochemistryFrom3D(probe)
            inchi_verdicts.append(Chem.MolToInchi(probe) == Chem.MolToInchi(reference))
    print(f"stereo vs InChI: {len(verdicts)} conformers, {verdicts.count(False)} not preserved")
    assert verdicts == inchi_verdicts
    assert 20 <= verdicts.count(False) <= len(verdicts) - 20
