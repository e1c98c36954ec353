"""Tests for molgen.geometry.superposition (Kabsch, RMSD) on real chains."""

from __future__ import annotations

import torch

from molgen.geometry import kabsch, random_rotation, rmsd, superimpose


def test_kabsch_recovers_a_known_motion(val_backbones):
    """For target = R p + t, Kabsch returns R and t and the RMSD after alignment is 0."""
    ca = torch.tensor(val_backbones[0][:, 1])
    g = torch.Generator().manual_seed(0)
    rot = random_rotation(dtype=torch.float64, generator=g)
    shift = torch.randn(3, dtype=torch.float64, generator=g) * 5
    target = ca @ rot.T + shift
    r, t = kabsch(ca, target)
    assert torch.allclose(r, rot, atol=1e-10) and torch.allclose(t, shift, atol=1e-9)
    assert rmsd(ca, target) < 1e-9
    assert rmsd(ca, target, align=False) > 1.0


def test_kabsch_never_reflects(val_backbones):
    """Against a mirror image the optimal *rotation* has det +1 and leaves a large RMSD."""
    ca = torch.tensor(val_backbones[1][:, 1])
    mirror = ca * torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64)
    r, _ = kabsch(ca, mirror)
    assert torch.isclose(torch.linalg.det(r), torch.tensor(1.0, dtype=torch.float64))
    assert rmsd(ca, mirror) > 1.0


def test_rmsd_matches_brute_force_and_mask(val_backbones):
    """Masked, batched RMSD equals the RMSD of the selected points computed alone."""
    a = torch.tensor(val_backbones[2][:50, 1])
    b = a + torch.randn(50, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    mask = torch.zeros(50, dtype=torch.bool)
    mask[:35] = True
    alone = rmsd(a[:35], b[:35])
    batched = rmsd(torch.stack([a, a]), torch.stack([b, b]), torch.stack([mask, mask]))
    assert torch.allclose(batched, alone.expand(2), atol=1e-10)
    moved = superimpose(a[:35], b[:35])
    direct = ((moved - b[:35]) ** 2).sum(-1).mean().sqrt()
    assert torch.isclose(direct, alone, atol=1e-12)
