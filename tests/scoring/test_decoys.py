"""Decoy backbones: the ideal helix's geometry, noise RMS, segment swap and mirror identities."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from molgen.checks import check_backbone
from molgen.geometry import backbone_dihedrals
from molgen.scoring import ideal_helix, mirror_decoy, noise_decoy, swap_decoy


def test_helix_dihedrals_and_rise():
    """phi = -57, psi = -47, omega = 180 deg; CA(i)-CA(i+1) 3.80 A; rise 1.5 A per residue."""
    atoms = ideal_helix(40)
    phi, psi, omega = (np.degrees(a.numpy()) for a in backbone_dihedrals(torch.from_numpy(atoms)))
    np.testing.assert_allclose(phi[1:], -57.0, atol=1e-6)
    np.testing.assert_allclose(psi[:-1], -47.0, atol=1e-6)
    np.testing.assert_allclose(np.abs(omega[:-1]), 180.0, atol=1e-6)
    ca = atoms[:, 1]
    np.testing.assert_allclose(np.linalg.norm(np.diff(ca, axis=0), axis=-1), 3.80, atol=0.01)
    # Helix axis = principal axis of the CAs; 36 residues are 10 turns of 3.6, so CA 0 and CA 36
    # sit at the same angle about the axis and their separation is 36 rises (1.5 A each).
    axis = np.linalg.svd(ca - ca.mean(0))[2][0]
    rise = abs((ca[36] - ca[0]) @ axis) / 36
    assert rise == pytest.approx(1.5, abs=0.08)  # textbook 1.5 A; these angles give 1.56 A
    assert check_backbone(atoms)["helix_fraction"] > 0.9


def test_noise_rms_per_atom(val_backbones):
    """Mean squared displacement per atom equals rms^2 (within 3% for ~800 atoms x 3)."""
    atoms = val_backbones[0]
    noisy = noise_decoy(atoms, 2.0, np.random.default_rng(0))
    msd = ((noisy - atoms) ** 2).sum(-1).mean()
    assert msd == pytest.approx(4.0, rel=0.08)


def test_swap_moves_two_stretches(val_backbones):
    """Exactly two equal stretches of 10-20 residues change; they keep their internal shape."""
    atoms = val_backbones[1]
    out = swap_decoy(atoms, np.random.default_rng(3))
    changed = np.flatnonzero(np.abs(out - atoms).max(axis=(1, 2)) > 1e-9)
    runs = np.split(changed, np.flatnonzero(np.diff(changed) > 1) + 1)
    assert len(runs) == 2 and len(runs[0]) == len(runs[1]) and 10 <= len(runs[0]) <= 20
    a, b = runs
    shift = out[a][:, 1].mean(0) - atoms[b][:, 1].mean(0)
    np.testing.assert_allclose(out[a], atoms[b] + shift, atol=1e-12)
    np.testing.assert_allclose(out[a][:, 1].mean(0), atoms[a][:, 1].mean(0), atol=1e-12)


def test_mirror_flips_handedness(val_backbones):
    """Mirroring negates every dihedral (phi -> -phi) and fails the checks."""
    atoms = val_backbones[2]
    phi = backbone_dihedrals(torch.from_numpy(atoms))[0].numpy()
    phi_m = backbone_dihedrals(torch.from_numpy(mirror_decoy(atoms)))[0].numpy()
    np.testing.assert_allclose(phi_m[1:], -phi[1:], atol=1e-9)
    assert not check_backbone(mirror_decoy(atoms))["checks_passed"]
    assert math.isclose(float(np.abs(mirror_decoy(atoms)).sum()), float(np.abs(atoms).sum()))


def test_torsion_rebuild_keeps_torsions_and_ideal_bonds(val_backbones):
    """sigma = 0: the rebuilt chain has the input's phi, psi, omega and Engh-Huber bonds;
    sigma = 25 deg moves phi/psi by about that much and the fold far away (CA RMSD > 3 A)."""
    from molgen.checks.bonds import bond_z_scores
    from molgen.scoring import torsion_noise_decoy

    atoms = val_backbones[1]
    torsions = [a.numpy() for a in backbone_dihedrals(torch.from_numpy(atoms))]
    same = torsion_noise_decoy(atoms, 0.0, np.random.default_rng(0))
    rebuilt = [a.numpy() for a in backbone_dihedrals(torch.from_numpy(same))]
    for a, b in zip(torsions, rebuilt, strict=True):
        ok = np.isfinite(a) & np.isfinite(b)
        np.testing.assert_allclose(np.cos(a[ok] - b[ok]), 1.0, atol=1e-9)
    length_z, _ = bond_z_scores(same, np.ones(same.shape[:2], dtype=bool))
    assert np.nanmax(np.abs(length_z[:, [0, 1, 3]])) < 0.5  # N-CA, CA-C, C-N: ideal values
    noisy = torsion_noise_decoy(atoms, math.radians(25.0), np.random.default_rng(0))
    phi_noisy = backbone_dihedrals(torch.from_numpy(noisy))[0].numpy()
    moved = np.degrees(np.abs(np.angle(np.exp(1j * (phi_noisy[1:] - torsions[0][1:])))))
    assert 15.0 < np.median(moved) < 30.0
    ca_a, ca_b = atoms[:, 1] - atoms[:, 1].mean(0), noisy[:, 1] - noisy[:, 1].mean(0)
    u, _, vt = np.linalg.svd(ca_b.T @ ca_a)
    d = np.sign(np.linalg.det(u @ vt))
    rot = u @ np.diag([1.0, 1.0, d]) @ vt
    assert np.sqrt(((ca_b @ rot - ca_a) ** 2).sum(-1).mean()) > 3.0
