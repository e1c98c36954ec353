"""Tests for molgen.geometry.frames on real chains from the val split."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from molgen.geometry import (
    backbone_dihedrals,
    backbone_from_frames,
    frames_from_backbone,
    oxygen_from_psi,
    rmsd,
)


def _frames(atoms: torch.Tensor):
    return frames_from_backbone(atoms[..., 0, :], atoms[..., 1, :], atoms[..., 2, :])


def test_frame_convention_on_real_chain(val_backbones):
    """Origin at CA, x along CA->C, N in the xy-plane with y > 0, R orthonormal, det +1."""
    atoms = torch.tensor(val_backbones[0])
    r, x = _frames(atoms)
    local = (atoms[:, :3] - x[:, None]) @ r  # world -> local: R^T (p - x)
    assert torch.allclose(x, atoms[:, 1])
    assert local[:, 2, 1].abs().max() < 1e-10 and local[:, 2, 2].abs().max() < 1e-10
    assert (local[:, 2, 0] > 0).all()
    assert local[:, 0, 2].abs().max() < 1e-10 and (local[:, 0, 1] > 0).all()
    assert torch.allclose(torch.linalg.det(r), torch.ones(len(r), dtype=r.dtype))


def test_frames_round_trip_on_200_val_chains(val_backbones):
    """N/CA/C rebuilt from frames within 0.1 A RMSD of the real atoms; O within 0.25 A.

    The terminal O (no next N) is placed from the measured psi of the last residue's frame
    neighbourhood, i.e. psi taken from the real chain where defined.
    """
    assert len(val_backbones) >= 200
    worst_nca_c, worst_o = 0.0, 0.0
    for coords in val_backbones:
        atoms = torch.tensor(coords)
        r, x = _frames(atoms)
        _, psi, _ = backbone_dihedrals(atoms)
        psi = torch.nan_to_num(psi, nan=math.pi)
        rebuilt = backbone_from_frames(r, x, psi=psi)
        worst_nca_c = max(
            worst_nca_c,
            rmsd(rebuilt[:, :3].reshape(-1, 3), atoms[:, :3].reshape(-1, 3), align=False).item(),
        )
        worst_o = max(worst_o, rmsd(rebuilt[:-1, 3], atoms[:-1, 3], align=False).item())
    assert worst_nca_c < 0.1
    assert worst_o < 0.25


def test_oxygen_from_psi_matches_real_oxygens(val_backbones):
    """O placed from the real N, CA, C and real psi lies within 0.25 A RMSD of the real O."""
    for coords in val_backbones[:50]:
        atoms = torch.tensor(coords)
        _, psi, _ = backbone_dihedrals(atoms)
        o = oxygen_from_psi(atoms[:-1, 0], atoms[:-1, 1], atoms[:-1, 2], psi[:-1])
        assert rmsd(o, atoms[:-1, 3], align=False) < 0.25


def test_frames_are_equivariant_under_rigid_motion(val_backbones):
    """Frames of g.atoms are g composed with the frames; rebuilt atoms move with g."""
    atoms = torch.tensor(val_backbones[1])
    g = torch.Generator().manual_seed(0)
    from molgen.geometry import random_rotation

    rot = random_rotation(dtype=torch.float64, generator=g)
    shift = torch.randn(3, dtype=torch.float64, generator=g) * 20
    moved = atoms @ rot.T + shift
    r, x = _frames(atoms)
    r2, x2 = _frames(moved)
    assert torch.allclose(r2, rot @ r, atol=1e-10)
    assert torch.allclose(x2, x @ rot.T + shift, atol=1e-10)
    assert torch.allclose(
        backbone_from_frames(r2, x2), backbone_from_frames(r, x) @ rot.T + shift, atol=1e-9
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_mask_breaks_oxygen_placement_and_batches(val_backbones, dtype):
    """A masked successor makes O come from psi; a batch [B, L] equals per-chain results."""
    a = torch.tensor(val_backbones[2][:40], dtype=dtype)
    b = torch.tensor(val_backbones[3][:40], dtype=dtype)
    atoms = torch.stack([a, b])
    r, x = _frames(atoms)
    batched = backbone_from_frames(r, x)
    single = backbone_from_frames(*_frames(b))
    assert torch.allclose(batched[1], single, atol=1e-5)
    mask = torch.ones(2, 40, dtype=torch.bool)
    mask[0, 20] = False
    psi = torch.zeros(2, 40, dtype=dtype)
    masked = backbone_from_frames(r, x, psi=psi, mask=mask)
    from_psi = oxygen_from_psi(masked[0, 19, 0], masked[0, 19, 1], masked[0, 19, 2], psi[0, 19])
    assert torch.allclose(masked[0, 19, 3], from_psi)
    assert torch.allclose(masked[0, 18, 3], batched[0, 18, 3])
    assert masked.dtype == dtype and np.isfinite(masked.numpy()).all()


def test_frames_gradients_finite(val_backbones):
    """Gradients flow through frames -> atoms without NaN."""
    atoms = torch.tensor(val_backbones[4][:30]).requires_grad_(True)
    r, x = _frames(atoms)
    backbone_from_frames(r, x).pow(2).sum().backward()
    assert torch.isfinite(atoms.grad).all()
