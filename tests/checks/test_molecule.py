"""Records of molgen.checks.molecule: clean conformers pass, each distortion fails its check."""

from __future__ import annotations

import json

import numpy as np
import pytest
from molecule_fixtures import distortions as dist
from rdkit import Chem

from molgen.checks.molecule import CHECK_NAMES, check_conformers, check_molecule
from molgen.errors import InputError

IBUPROFEN = "CC(C)Cc1ccc(cc1)[C@@H](C)C(=O)O"  # aromatic ring, stereocentre
OCTADECENE = "CCCCCCCC/C=C/CCCCCCCC"  # long chain (foldable), E double bond


@pytest.fixture(scope="module")
def ibuprofen() -> Chem.Mol:
    return dist.embed(IBUPROFEN)


@pytest.fixture(scope="module")
def octadecene() -> Chem.Mol:
    return dist.embed(OCTADECENE)


@pytest.mark.parametrize("smiles", [IBUPROFEN, OCTADECENE, "CN1C=NC2=C1C(=O)N(C(=O)N2C)C"])
def test_clean_conformer_passes_every_check(smiles):
    """An ETKDG conformer passes all checks, stereo included, against its own SMILES."""
    record = check_molecule(dist.embed(smiles), reference=Chem.MolFromSmiles(smiles))
    assert record["checks_passed"] is True
    assert record["failed_checks"] == []
    assert all(record[name] is True for name in CHECK_NAMES)


def test_record_is_flat_and_json_serialisable(ibuprofen):
    """Every value is a Python scalar, None, or (failed_checks) a list of str."""
    record = check_molecule(ibuprofen)
    assert json.loads(json.dumps(record)) == record
    for key, value in record.items():
        allowed = (list,) if key == "failed_checks" else (bool, int, float, type(None))
        assert isinstance(value, allowed), key
    assert record["stereo_preserved"] is None  # no reference given


@pytest.mark.parametrize(
    ("smiles", "distort", "check"),
    [
        (IBUPROFEN, lambda m: dist.stretch_bond(m, 1.4), "bond_lengths"),
        (IBUPROFEN, lambda m: dist.bend_angle(m, 0.9), "bond_angles"),
        (OCTADECENE, dist.fold_to_clash, "internal_clash"),
        (IBUPROFEN, lambda m: dist.pucker_ring(m, 0.4), "aromatic_ring_flatness"),
        (IBUPROFEN, dist.break_valence, "sanitization"),
    ],
)
def test_distortion_fails_only_its_check(smiles, distort, check):
    """Stretch a bond 40 %, close an angle by 52 deg, fold torsions into a clash, pucker the
    ring +-0.4 A, put + on a tetravalent C: exactly the intended check fails."""
    record = check_molecule(distort(dist.embed(smiles)), reference=Chem.MolFromSmiles(smiles))
    assert record["failed_checks"] == [check]
    assert record["checks_passed"] is False


def test_twisted_double_bond_fails_flatness_and_stereo(octadecene):
    """A C=C twisted by 90 deg is not flat, and its E/Z is no longer that of the SMILES."""
    record = check_molecule(dist.twist_double_bond(octadecene), reference=octadecene)
    assert record["failed_checks"] == ["double_bond_flatness", "stereo_preserved"]
    assert record["double_bond_max_deviation"] > 0.25


def test_two_fragments_fail_single_fragment():
    """A salt is two fragments, far apart: only single_fragment fails."""
    mol = dist.embed("[Na+].CC(=O)[O-]")
    x = mol.GetConformer().GetPositions()
    x[0] += 10.0  # sodium away from acetate: no clash
    record = check_molecule(dist.with_positions(mol, x))
    assert record["num_fragments"] == 2
    assert record["failed_checks"] == ["single_fragment"]


def test_unsanitisable_molecule_gives_record_not_error(ibuprofen):
    """Sanitisation failure: sanitization False, geometry checks None (not evaluated)."""
    record = check_molecule(dist.break_valence(ibuprofen), reference=ibuprofen)
    assert record["sanitization"] is False
    for name in CHECK_NAMES[3:]:  # after atoms_present, sanitization, single_fragment
        assert record[name] is None, name


def test_molecule_without_conformer_raises_input_error():
    """No coordinates: InputError naming the molecule."""
    mol = Chem.MolFromSmiles("CCO")
    mol.SetProp("_Name", "ethanol")
    with pytest.raises(InputError, match="ethanol has no conformer"):
        check_molecule(mol)
    with pytest.raises(InputError):
        check_conformers(mol)


def test_missing_conformer_id_and_nan_coordinates_raise(ibuprofen):
    """A conformer id that does not exist, or NaN coordinates, raise InputError."""
    with pytest.raises(InputError, match="no conformer 7"):
        check_molecule(ibuprofen, conf_id=7)
    x = ibuprofen.GetConformer().GetPositions()
    x[3, 1] = np.nan
    with pytest.raises(InputError, match="non-finite"):
        check_molecule(dist.with_positions(ibuprofen, x))


def test_unsanitisable_reference_raises_input_error(ibuprofen):
    """A reference that RDKit cannot sanitise is bad input, not a failed check."""
    broken = Chem.MolFromSmiles("C(C)(C)(C)(C)C", sanitize=False)  # pentavalent carbon
    with pytest.raises(InputError, match="reference"):
        check_molecule(ibuprofen, reference=broken)


def test_check_conformers_gives_one_record_per_conformer():
    """Records follow the conformers; a distorted conformer fails alone and records equal
    check_molecule on that conformer."""
    mol = dist.embed(IBUPROFEN, num_confs=3)
    stretched = dist.stretch_bond(mol, 1.4)  # positions of conformer 0, stretched
    mol.GetConformer(1).SetPositions(stretched.GetConformer().GetPositions())
    records = check_conformers(mol, reference=Chem.MolFromSmiles(IBUPROFEN))
    assert [r["conformer_id"] for r in records] == [0, 1, 2]
    assert [r["checks_passed"] for r in records] == [True, False, True]
    assert records[1]["failed_checks"] == ["bond_lengths"]
    assert records[1] == check_molecule(mol, 1, reference=Chem.MolFromSmiles(IBUPROFEN))


def test_record_without_atoms_never_passes():
    """A 0-atom SDF record (counts line 0 0) with its empty conformer fails "atoms_present"."""
    from rdkit import Chem

    block = "empty\n     RDKit          3D\n\n  0  0  0  0  0  0  0  0  0  0999 V2000\nM  END\n"
    mol = Chem.MolFromMolBlock(block)
    assert mol is not None and mol.GetNumAtoms() == 0 and mol.GetNumConformers() == 1
    record = check_molecule(mol)
    assert not record["checks_passed"] and "atoms_present" in record["failed_checks"]
