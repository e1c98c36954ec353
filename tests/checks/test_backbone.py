"""Tests for molgen.checks.backbone: the assembled validity record on real and broken chains."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from molgen.checks.backbone import (
    CHECK_NAMES,
    MIN_RAMA_FAVOURED_FRACTION,
    check_backbone,
    radius_of_gyration,
)
from molgen.errors import InputError
from molgen.geometry import backbone_dihedrals

REQUIRED_KEYS = {
    "n_residues",
    "ca_break_fraction",
    "ca_clash_fraction",
    "rama_favoured_fraction",
    "helix_fraction",
    "strand_fraction",
    "coil_fraction",
    "rg_ratio",
    "checks_passed",
    "failed_checks",
}
MIRROR = np.array([-1.0, 1.0, 1.0])


@pytest.fixture(scope="module")
def val_records(val_chains):
    return [check_backbone(c.atoms, sequence=c.sequence) for c in val_chains]


def test_record_is_flat_json_of_python_scalars(val_chain):
    """Every value is a Python bool/int/float/None or a list of str; json round-trips it."""
    record = check_backbone(val_chain.atoms)
    assert REQUIRED_KEYS <= record.keys()
    for key, value in record.items():
        if key == "failed_checks":
            assert isinstance(value, list) and all(isinstance(v, str) for v in value)
        else:
            assert value is None or type(value) in (bool, int, float), key
    assert json.loads(json.dumps(record, allow_nan=False)) == record


def test_real_val_chains_pass(val_records):
    """>= 100 val chains: no breaks, no CA clashes, >= 95% favoured on average, >= 95% pass."""
    assert len(val_records) >= 100
    assert all(r["ca_break_fraction"] == 0.0 for r in val_records)
    assert all(r["ca_clash_fraction"] == 0.0 for r in val_records)
    assert np.mean([r["rama_favoured_fraction"] for r in val_records]) >= 0.95
    assert np.mean([r["checks_passed"] for r in val_records]) >= 0.95
    assert np.median([r["max_bond_length_z"] for r in val_records]) < 4.0
    assert np.mean([r["bond_length_outlier_fraction"] for r in val_records]) < 0.005


def test_secondary_fractions_partition_and_match_pdb(val_records):
    """helix + strand + coil = 1 per chain; averages near the PDB's ~40/20/40%."""
    total = [r["helix_fraction"] + r["strand_fraction"] + r["coil_fraction"] for r in val_records]
    np.testing.assert_allclose(total, 1.0, atol=1e-12)
    assert 0.3 < np.mean([r["helix_fraction"] for r in val_records]) < 0.5
    assert 0.15 < np.mean([r["strand_fraction"] for r in val_records]) < 0.3


def test_mirror_images_fail_ramachandran(val_chains):
    """For >= 95% of 100 val chains the mirror image falls below the favoured threshold,
    and checks_passed is False for >= 95% of them."""
    records = [check_backbone(c.atoms * MIRROR) for c in val_chains[:100]]
    favoured = np.array([r["rama_favoured_fraction"] for r in records])
    assert np.mean(favoured < MIN_RAMA_FAVOURED_FRACTION) >= 0.95
    assert np.mean(["ramachandran" in r["failed_checks"] for r in records]) >= 0.95
    assert np.mean([not r["checks_passed"] for r in records]) >= 0.95


def test_pulled_apart_chain_is_a_break(val_chain):
    """Translating residues k.. by 3 A breaks exactly one CA-CA pair: 'ca_breaks' fails."""
    atoms = val_chain.atoms.copy()
    k = len(atoms) // 2
    atoms[k:] += np.array([3.0, 0.0, 0.0])
    record = check_backbone(atoms)
    assert record["n_ca_breaks"] == 1
    assert record["ca_break_fraction"] == pytest.approx(1 / (len(atoms) - 1))
    assert "ca_breaks" in record["failed_checks"] and not record["checks_passed"]
    assert "ca_breaks" not in check_backbone(val_chain.atoms)["failed_checks"]


def test_overlapping_segment_is_a_ca_clash(val_chain):
    """Moving residues j..j+10 onto residues i..i+10 (+0.5 A) makes 22 residues clash."""
    atoms = val_chain.atoms.copy()
    i, j = 10, 60
    atoms[j : j + 11] = atoms[i : i + 11] + 0.5
    record = check_backbone(atoms)
    assert record["ca_clash_fraction"] >= 22 / len(atoms)
    assert {"ca_clashes", "heavy_atom_clashes"} <= set(record["failed_checks"])


def test_masked_gap_is_not_a_break(val_chain):
    """Removing residues 40-49 breaks the chain; declaring the gap with a masked residue
    (NaN coordinates) removes the break and leaves every fraction finite."""
    atoms = np.delete(val_chain.atoms, np.s_[40:50], axis=0)
    assert check_backbone(atoms)["n_ca_breaks"] == 1
    gapped = np.insert(atoms, 40, np.nan, axis=0)
    mask = np.ones(len(gapped), dtype=bool)
    mask[40] = False
    record = check_backbone(gapped, mask)
    assert record["n_ca_breaks"] == 0 and record["n_missing"] == 1
    assert "ca_breaks" not in record["failed_checks"]
    assert "bond_lengths" not in record["failed_checks"]
    for key, value in record.items():
        assert not (isinstance(value, float) and np.isnan(value)), key
    # the same gap declared through an atom mask [L, 4] and NaN coordinates alone
    atom_mask = np.repeat(mask[:, None], 4, axis=1)
    assert check_backbone(gapped, atom_mask)["n_ca_breaks"] == 0
    assert check_backbone(gapped)["n_ca_breaks"] == 0


def test_missing_atom_keeps_residue(val_chain):
    """A missing O only drops the terms that need it; the residue still counts."""
    atoms = val_chain.atoms.copy()
    mask = np.ones(atoms.shape[:2], dtype=bool)
    mask[20, 3] = False
    atoms[20, 3] = np.nan
    record = check_backbone(atoms, mask)
    assert record["n_residues"] == len(atoms)
    assert (
        record["rama_favoured_fraction"]
        == check_backbone(val_chain.atoms)["rama_favoured_fraction"]
    )


def test_cis_peptides_precede_proline(val_chains):
    """cis peptides (|omega| < 30 deg) in real chains are mostly X-Pro bonds."""
    before_pro, total = 0, 0
    for chain in val_chains:
        record = check_backbone(chain.atoms)
        _, _, omega = backbone_dihedrals(torch.from_numpy(chain.atoms))
        cis = np.flatnonzero(np.abs(omega.numpy()) < np.radians(30))
        assert record["n_cis_peptides"] == len(cis)
        before_pro += sum(chain.sequence[k + 1] == "P" for k in cis)
        total += len(cis)
    assert total >= 10
    assert before_pro / total > 0.7


def test_radius_of_gyration_ratio(val_chain):
    """rg_ratio = Rg(CA) / (2.2 L^0.38); Rg of a square of side 2 about its centre is sqrt(2)."""
    square = np.array([[1.0, 1, 0], [1, -1, 0], [-1, 1, 0], [-1, -1, 0]])
    assert radius_of_gyration(square) == pytest.approx(np.sqrt(2.0))
    record = check_backbone(val_chain.atoms)
    rg = radius_of_gyration(val_chain.atoms[:, 1])
    assert record["rg_ratio"] == pytest.approx(rg / (2.2 * len(val_chain.atoms) ** 0.38))
    assert 0.8 < record["rg_ratio"] < 1.5


def test_bad_input_raises():
    """Wrong shapes and a sequence of the wrong length raise InputError."""
    with pytest.raises(InputError, match="shape"):
        check_backbone(np.zeros((10, 3, 3)))
    with pytest.raises(InputError, match="sequence"):
        check_backbone(np.zeros((10, 4, 3)), sequence="AAA")
    with pytest.raises(InputError, match="mask"):
        check_backbone(np.zeros((10, 4, 3)), mask=np.ones(9, dtype=bool))


def test_failed_checks_are_named(val_chain):
    """failed_checks only uses CHECK_NAMES; a chain squashed to a point fails compactness."""
    record = check_backbone(val_chain.atoms * 0.3)
    assert set(record["failed_checks"]) <= set(CHECK_NAMES)
    assert "radius_of_gyration" in record["failed_checks"]


def test_rigidly_shifted_half_never_passes(val_chains):
    """A real chain whose part after a random cut is shifted rigidly by 3 A along x (so the
    junction CA-CA may stay below 4.2 A) fails, on 60 val chains x 3 cuts, and always names
    the peptide bond check: the junction C-N is many sigma off."""
    rng = np.random.default_rng(0)
    for chain in val_chains[:60]:
        for cut in rng.integers(5, len(chain.atoms) - 5, size=3):
            atoms = chain.atoms.copy()
            atoms[cut:] += np.array([3.0, 0.0, 0.0])
            record = check_backbone(atoms, sequence=chain.sequence)
            assert not record["checks_passed"]
            assert "peptide_bonds" in record["failed_checks"] and record["n_peptide_breaks"] >= 1


def test_collapsed_junction_fails_ca_contacts(val_chain):
    """Moving the second half so that two consecutive CA atoms sit 0.8 A apart (a trans
    peptide) fails "ca_contacts" (and the peptide bond check), not only the clash check."""
    atoms = val_chain.atoms.copy()
    cut = len(atoms) // 2
    offset = atoms[cut - 1, 1] - atoms[cut, 1]
    direction = offset / np.linalg.norm(offset)
    atoms[cut:] += offset - 0.8 * direction
    record = check_backbone(atoms)
    assert record["n_close_ca_pairs"] >= 1
    assert {"ca_contacts", "peptide_bonds"} <= set(record["failed_checks"])


def test_cis_peptides_are_not_ca_contacts(val_chains):
    """Real chains with cis peptides (CA-CA about 2.9 A): their cis pairs are never close-CA
    pairs. Of the first 10 such val chains, one (3DCM A) has one close pair, a distorted
    peptide with omega 70 degrees and CA-CA 3.3 A, rightly flagged; the rest have none."""
    records = [check_backbone(c.atoms) for c in val_chains]
    with_cis = [r for r in records if r["n_cis_peptides"] > 0][:10]
    assert len(with_cis) == 10
    assert sum(r["n_cis_peptides"] for r in with_cis) >= 10
    assert sum(r["n_close_ca_pairs"] for r in with_cis) <= 1


def test_backbone_without_present_residues_never_passes(val_chain):
    """All coordinates NaN (or every residue masked): n_residues 0 and checks_passed False,
    naming "residues_present"."""
    nan = np.full_like(val_chain.atoms, np.nan)
    for record in (check_backbone(nan), check_backbone(val_chain.atoms, mask=np.zeros(len(nan)))):
        assert record["n_residues"] == 0 and not record["checks_passed"]
        assert "residues_present" in record["failed_checks"]
