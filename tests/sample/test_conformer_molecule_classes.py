"""Drug-like molecule classes end to end with the bundled torsion model (issue 22, item 2):
salts, macrocycles, charged species, a large flexible molecule with explicit stereo."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import rdMolAlign

from molgen.chem.conformers import stereo_labels
from molgen.geometry.torsions import rotatable_bonds
from molgen.io.molecules import read_sdf, read_smiles
from molgen.models import load
from molgen.sample.conformers import largest_fragment, sample_conformers, write_conformers

NUM = 4


@pytest.fixture(scope="module")
def network():
    return load("conformer")


def _sample(network, smiles: str, name: str):
    [result] = sample_conformers(network, [read_smiles(smiles, name)], NUM, steps=6, progress=False)
    assert result.error is None and result.mol.GetNumConformers() == NUM
    assert all(record["checks_passed"] for record in result.checks)
    return result


def test_salt_keeps_the_largest_fragment_and_names_the_rest(network, tmp_path):
    """A hydrochloride hydrate: the conformers are of the cation alone (one fragment, charge
    kept), the chloride and water are reported and written to the SDF."""
    result = _sample(network, "C[NH+](C)CCc1ccccc1.[Cl-].O", "salt")
    assert len(Chem.GetMolFrags(result.mol)) == 1
    assert sorted(result.dropped_fragments) == ["O", "[Cl-]"]
    assert Chem.GetFormalCharge(result.mol) == 1
    [record] = read_sdf(write_conformers([result], tmp_path / "salt.sdf"))[:1]
    assert record.GetProp("molgen_dropped_fragments") in ("[Cl-].O", "O.[Cl-]")


def test_largest_fragment_leaves_single_and_empty_molecules_alone():
    """A molecule of one fragment, or an empty record, comes back unchanged, nothing dropped;
    of a sodium salt the anion (more atoms) is kept with the input's name and atom order."""
    mol = read_smiles("CCO", "ethanol")
    assert largest_fragment(mol) == (mol, [])
    empty = Chem.Mol()
    assert largest_fragment(empty) == (empty, [])
    kept, dropped = largest_fragment(read_smiles("[Na+].CC(=O)[O-]", "sodium acetate"))
    assert Chem.MolToSmiles(kept) == "CC(=O)[O-]" and dropped == ["[Na+]"]
    assert kept.GetProp("_Name") == "sodium acetate"


def test_macrocycle_ring_shapes_come_from_the_seeds(network):
    """A 14-membered lactone has no rotatable bond by molgen's rule (ring bonds are not
    torsions): its conformers are MMFF-relaxed seed embeddings, and they differ in ring
    shape (some pair more than 0.3 A heavy-atom RMSD apart)."""
    result = _sample(network, "O=C1CCCCCCCCCCCCO1", "macrolactone")
    assert len(rotatable_bonds(result.mol)) == 0 and result.method == "seed"
    heavy = Chem.RemoveHs(result.mol)
    rmsds = [
        rdMolAlign.GetBestRMS(Chem.Mol(heavy, confId=i), Chem.Mol(heavy, confId=j))
        for i in range(NUM)
        for j in range(i)
    ]
    assert max(rmsds) > 0.3


def test_zwitterion_keeps_charges_and_stereo(network):
    """L-alanine as a zwitterion: formal charges and the S centre survive in every conformer."""
    result = _sample(network, "C[C@@H](C(=O)[O-])[NH3+]", "ala")
    charges = sorted(a.GetFormalCharge() for a in result.mol.GetAtoms() if a.GetFormalCharge())
    assert charges == [-1, 1]
    for conf in result.mol.GetConformers():
        assert stereo_labels(result.mol, from_3d=True, conf_id=conf.GetId()) == {("atom", 1): "S"}


def test_large_flexible_peptide_with_five_stereocentres(network):
    """A pentapeptide (Tyr-Leu-Phe-Leu-Lys, 49 heavy atoms, 25 rotatable bonds by molgen's
    rule): every conformer passes the checks with all five centres as written, and the
    conformers differ (torsions were sampled)."""
    smiles = (
        "NCCCC[C@H](NC(=O)[C@H](CC(C)C)NC(=O)[C@H](Cc1ccccc1)NC(=O)[C@H](CC(C)C)NC(=O)"
        "[C@@H](N)Cc1ccc(O)cc1)C(=O)O"
    )
    mol = read_smiles(smiles, "peptide")
    assert mol.GetNumHeavyAtoms() == 49 and len(rotatable_bonds(mol)) == 25
    result = _sample(network, smiles, "peptide")
    wanted = stereo_labels(result.mol)
    assert len(wanted) == 5
    for conf in result.mol.GetConformers():
        assert stereo_labels(result.mol, from_3d=True, conf_id=conf.GetId()) == wanted
    positions = np.stack([c.GetPositions() for c in result.mol.GetConformers()])
    assert np.abs(positions[0] - positions[1]).max() > 1.0
