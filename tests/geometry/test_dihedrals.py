"""Tests for molgen.geometry.dihedrals against mdtraj on real chains."""

from __future__ import annotations

import math

import mdtraj
import numpy as np
import torch

from molgen.geometry import backbone_dihedrals, dihedral


def _mdtraj_backbone(coords: np.ndarray) -> mdtraj.Trajectory:
    """An mdtraj trajectory (nm) of a glycine backbone N, CA, C, O."""
    top = mdtraj.Topology()
    chain = top.add_chain()
    for _ in range(len(coords)):
        res = top.add_residue("GLY", chain)
        for name, element in (("N", "N"), ("CA", "C"), ("C", "C"), ("O", "O")):
            top.add_atom(name, mdtraj.element.get_by_symbol(element), res)
    atoms = list(top.atoms)
    for i in range(len(coords)):
        top.add_bond(atoms[4 * i], atoms[4 * i + 1])
        top.add_bond(atoms[4 * i + 1], atoms[4 * i + 2])
        top.add_bond(atoms[4 * i + 2], atoms[4 * i + 3])
        if i + 1 < len(coords):
            top.add_bond(atoms[4 * i + 2], atoms[4 * i + 4])
    return mdtraj.Trajectory(coords.reshape(1, -1, 3) / 10.0, top)


def test_quarter_turn_sign_convention():
    """The IUPAC sign: a right-handed quarter turn about p1->p2 is +90 degrees."""
    p = torch.tensor([[1.0, 0, 0], [0, 0, 0], [0, 0, 1], [0, 1, 1]], dtype=torch.float64)
    assert math.isclose(dihedral(*p).item(), math.pi / 2, abs_tol=1e-12)
    mirrored = p * torch.tensor([1.0, -1.0, 1.0], dtype=torch.float64)
    assert math.isclose(dihedral(*mirrored).item(), -math.pi / 2, abs_tol=1e-12)


def test_phi_psi_omega_match_mdtraj_on_real_chains(val_backbones):
    """phi, psi, omega equal mdtraj's compute_phi/psi/omega on 20 val chains (1e-5 rad)."""
    for coords in val_backbones[:20]:
        traj = _mdtraj_backbone(coords.astype(np.float32))
        phi, psi, omega = backbone_dihedrals(torch.tensor(coords))
        _, ref_phi = mdtraj.compute_phi(traj)
        _, ref_psi = mdtraj.compute_psi(traj)
        _, ref_omega = mdtraj.compute_omega(traj)
        np.testing.assert_allclose(phi[1:].numpy(), ref_phi[0], atol=1e-5)
        np.testing.assert_allclose(psi[:-1].numpy(), ref_psi[0], atol=1e-5)
        # mdtraj's omega is CA(i)-C(i)-N(i+1)-CA(i+1), wrapped: compare on the circle.
        diff = np.angle(np.exp(1j * (omega[:-1].numpy() - ref_omega[0])))
        assert np.abs(diff).max() < 1e-5
        assert math.isnan(phi[0]) and math.isnan(psi[-1]) and math.isnan(omega[-1])


def test_mask_makes_angles_across_gaps_nan(val_backbones):
    """A missing residue k makes psi/omega of k-1 and phi of k+1 NaN."""
    atoms = torch.tensor(val_backbones[0][:30])
    mask = torch.ones(30, dtype=torch.bool)
    mask[10] = False
    phi, psi, omega = backbone_dihedrals(atoms, mask)
    assert torch.isnan(psi[9]) and torch.isnan(omega[9]) and torch.isnan(phi[11])
    assert torch.isfinite(phi[12]) and torch.isfinite(psi[8])
