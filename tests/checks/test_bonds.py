"""Tests for molgen.checks.bonds: Engh & Huber z-scores and consecutive CA-CA distances."""

from __future__ import annotations

import math

import numpy as np
import torch

from molgen.checks.bonds import (
    ENGH_HUBER_ANGLES,
    ENGH_HUBER_LENGTHS,
    bond_angles,
    bond_lengths,
    bond_z_scores,
    consecutive_ca_distances,
)
from molgen.geometry import backbone_dihedrals, backbone_from_frames, frames_from_backbone


def _full(atoms: np.ndarray) -> np.ndarray:
    return np.ones(atoms.shape[:2], dtype=bool)


def _ideal_from_real(atoms: np.ndarray) -> np.ndarray:
    """Rebuild a real chain from its residue frames with ideal local geometry."""
    x = torch.from_numpy(atoms)
    rot, trans = frames_from_backbone(x[:, 0], x[:, 1], x[:, 2])
    _, psi, _ = backbone_dihedrals(x)
    return backbone_from_frames(rot, trans, psi=torch.nan_to_num(psi)).numpy()


def test_lengths_and_angles_of_a_hand_built_residue_pair():
    """Known geometry: unit-step right angles give lengths 1 and angles pi/2."""
    atoms = np.array(
        [
            [[0, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 1]],  # N, CA, C, O
            [[2, 1, 0], [2, 2, 0], [3, 2, 0], [3, 2, 1]],
        ],
        dtype=np.float64,
    )
    lengths = bond_lengths(atoms, _full(atoms))
    np.testing.assert_allclose(lengths[0], [1, 1, 1, 1])
    assert np.isnan(lengths[1, 3])  # no peptide bond after the last residue
    angles = bond_angles(atoms, _full(atoms))
    # N-CA-C, CA-C-N', C-N'-CA', CA-C-O, O-C-N'
    np.testing.assert_allclose(angles[0], [math.pi / 2] * 5)


def test_ideal_backbone_has_small_z_scores(val_chain):
    """Intra-residue terms of an ideal rebuild match Engh & Huber within 0.25 sigma.

    backbone_from_frames uses N-CA 1.458, CA-C 1.525, C=O 1.231 A, N-CA-C 111.2 and CA-C-O
    120.5 degrees, so |z| = 0.05, 0, 0.11, 0.07, 0.19; inter-residue terms follow the real
    frames and stay within 4 sigma for almost every residue.
    """
    ideal = _ideal_from_real(val_chain.atoms)
    length_z, angle_z = bond_z_scores(ideal, _full(ideal))
    assert np.abs(length_z[:, :3]).max() < 0.25
    assert np.abs(angle_z[:, [0, 3]]).max() < 0.25
    inter = np.concatenate([length_z[:-1, 3], angle_z[:-1, [1, 2, 4]].ravel()])
    assert np.mean(np.abs(inter) > 4) < 0.01


def test_stretched_n_ca_bond_is_a_four_sigma_outlier(val_chain):
    """Moving one N 0.2 A away from its CA gives z = +0.2/0.020 + z0 > 4 in that column only."""
    atoms = _ideal_from_real(val_chain.atoms)
    k = 40
    n, ca = atoms[k, 0], atoms[k, 1]
    atoms[k, 0] = n + 0.2 * (n - ca) / np.linalg.norm(n - ca)
    length_z, _ = bond_z_scores(atoms, _full(atoms))
    assert length_z[k, 0] > 4.0
    np.testing.assert_allclose(length_z[k, 0], (1.458 + 0.2 - 1.459) / 0.020, atol=1e-6)
    others = np.delete(np.abs(length_z[:, 0]), k)
    assert others.max() < 0.25


def test_real_chains_have_small_z_scores(val_chains):
    """On val chains the z-scores are centred near 0 with spread <= 1 and < 0.5% beyond 4."""
    z = [bond_z_scores(c.atoms, _full(c.atoms)) for c in val_chains]
    length_z = np.concatenate([a for a, _ in z])
    angle_z = np.concatenate([b for _, b in z])
    for values in (length_z, angle_z):
        assert np.all(np.abs(np.nanmean(values, 0)) < 0.5)
        assert np.all(np.nanstd(values, 0) < 1.2)
        assert np.nanmean(np.abs(values) > 4) < 0.005


def test_masked_neighbour_removes_inter_residue_terms(val_chain):
    """With residue k masked, peptide terms k-1 -> k and k -> k+1 are NaN, others finite."""
    atoms = val_chain.atoms.copy()
    mask = _full(atoms)
    k = 30
    mask[k] = False
    atoms[k] = np.nan
    length_z, angle_z = bond_z_scores(atoms, mask)
    assert np.isnan(length_z[[k - 1, k], 3]).all()
    assert np.isnan(angle_z[[k - 1, k]][:, [1, 2, 4]]).all()
    assert np.isnan(length_z[k, :3]).all()
    assert np.isfinite(np.delete(length_z[:-1], [k - 1, k], axis=0)).all()


def test_consecutive_ca_distances_of_real_chain(val_chain):
    """Trans peptides put consecutive CAs 3.80 +- 0.05 A apart; a masked residue gives NaN."""
    ca = val_chain.atoms[:, 1]
    present = np.ones(len(ca), dtype=bool)
    d = consecutive_ca_distances(ca, present)
    assert d.shape == (len(ca) - 1,)
    assert abs(np.median(d) - 3.80) < 0.05
    present[5] = False
    d = consecutive_ca_distances(ca, present)
    assert np.isnan(d[[4, 5]]).all() and np.isfinite(np.delete(d, [4, 5])).all()


def test_engh_huber_table_values():
    """Spot-check the table against the publication: N-CA 1.459(20) A, N-CA-C 111.0(2.7) deg."""
    np.testing.assert_allclose(ENGH_HUBER_LENGTHS[0], [1.459, 0.020])
    np.testing.assert_allclose(np.degrees(ENGH_HUBER_ANGLES[0]), [111.0, 2.7])
