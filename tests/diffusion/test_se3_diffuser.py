"""Tests for molgen.diffusion.se3.SE3Diffuser on real residue frames (val chains)."""

from __future__ import annotations

import math

import pytest
import torch

from molgen.diffusion import SE3Diffuser
from molgen.geometry import Frames, frames_from_backbone, matrix_to_rotvec

F64 = torch.float64


@pytest.fixture(scope="module")
def padded_frames(val_backbones):
    """Frames of three val chains, padded: R [3, L, 3, 3], x [3, L, 3] (+25 A), mask [3, L]."""
    chains = [torch.tensor(b, dtype=F64) for b in val_backbones[:3]]
    length = max(len(c) for c in chains)
    rot = torch.eye(3, dtype=F64).repeat(3, length, 1, 1)
    trans = torch.zeros(3, length, 3, dtype=F64)
    mask = torch.zeros(3, length, dtype=torch.bool)
    for i, c in enumerate(chains):
        r, x = frames_from_backbone(c[:, 0], c[:, 1], c[:, 2])
        rot[i, : len(c)], trans[i, : len(c)], mask[i, : len(c)] = r, x + 25.0, True
    return rot, trans, mask


def _centroid(x, mask):
    m = mask.to(x.dtype)[..., None]
    return (m * x).sum(-2) / m.sum(-2)


def test_sample_marginal_targets_and_centring(padded_frames):
    """x_t is centred over present residues; scores equal the SO3/R3 scores of the draw;
    padding keeps its frame and gets zero scores."""
    rot_0, x_0, mask = padded_frames
    se3 = SE3Diffuser()
    t = torch.tensor([0.1, 0.5, 0.9], dtype=F64)
    out = se3.sample_marginal(
        Frames(rot_0, x_0, mask), t, generator=torch.Generator().manual_seed(0)
    )
    assert _centroid(out.trans_t, mask).abs().max() < 1e-9
    x0c = x_0 - _centroid(x_0, mask)[:, None]
    expected_trans = se3.r3.score(out.trans_t, x0c, t)
    assert torch.allclose(out.trans_score[mask], expected_trans[mask], atol=1e-12)
    assert _centroid(out.trans_score, mask).abs().max() < 1e-12
    v = matrix_to_rotvec(rot_0.mT @ out.rot_t)
    sigma = se3.so3.sigma(t)[:, None].expand(mask.shape)
    assert torch.allclose(out.rot_score[mask], se3.so3.kernel_score(v, sigma)[mask], atol=1e-8)
    pad = ~mask
    assert torch.equal(out.rot_t[pad], rot_0[pad]) and torch.equal(out.trans_t[pad], x0c[pad])
    assert (out.rot_score[pad] == 0).all() and (out.trans_score[pad] == 0).all()


def test_translation_noise_is_projected_gaussian(val_backbones):
    """Translation noise ~ N(0, (sigma/c)^2 (I - 11^T/n)): variance (1 - 1/n)(sigma/c)^2."""
    chain = torch.tensor(val_backbones[5], dtype=F64)
    rot, x = frames_from_backbone(chain[:, 0], chain[:, 1], chain[:, 2])
    n, reps = len(chain), 4000
    se3 = SE3Diffuser()
    out = se3.sample_marginal(
        Frames(rot.expand(reps, n, 3, 3), x.expand(reps, n, 3)),
        0.3,
        generator=torch.Generator().manual_seed(1),
    )
    alpha, sigma = se3.r3.marginal(torch.tensor(0.3, dtype=F64))
    noise = out.trans_t - alpha * (x - x.mean(0))
    expected = (sigma / se3.r3.scale) ** 2 * (1 - 1 / n)
    assert abs(noise.var(0).mean() / expected - 1) < 0.02  # n*3 estimates of 4000 draws each
    assert noise.mean(0).abs().max() < 5 * math.sqrt(expected / reps)


def test_reverse_step_keeps_centroid_and_padding(padded_frames):
    """A reverse step (SDE and ODE) keeps translations centred and padding residues unchanged."""
    rot_0, x_0, mask = padded_frames
    se3 = SE3Diffuser()
    g = torch.Generator().manual_seed(2)
    out = se3.sample_marginal(Frames(rot_0, x_0, mask), 0.5, generator=g)
    for ode in (False, True):
        frames = se3.reverse_step(
            Frames(out[0], out[1], mask), out[2:], 0.5, 0.01, generator=g, ode=ode
        )
        rot, x = frames.rotations, frames.translations
        assert _centroid(x, mask).abs().max() < 1e-9
        assert torch.equal(rot[~mask], out.rot_t[~mask]) and torch.equal(
            x[~mask], out.trans_t[~mask]
        )
        eye = torch.eye(3, dtype=F64)
        assert (rot.mT @ rot - eye).abs().max() < 1e-12


def test_ode_step_is_deterministic_and_matches_parts(padded_frames):
    """With ode=True the step equals the SO3 and R3 ODE steps (then centring), for any seed."""
    rot_0, x_0, mask = padded_frames
    se3 = SE3Diffuser()
    out = se3.sample_marginal(
        Frames(rot_0, x_0, mask), 0.4, generator=torch.Generator().manual_seed(3)
    )
    frames = se3.reverse_step(Frames(out[0], out[1], mask), out[2:], 0.4, 0.02, ode=True)
    rot, x = frames.rotations, frames.translations
    rot_ref = se3.so3.reverse_step(out.rot_t, out.rot_score, 0.4, 0.02, ode=True)
    x_ref = se3.r3.reverse_step(out.trans_t, out.trans_score, 0.4, 0.02, ode=True)
    x_ref = x_ref - _centroid(x_ref, mask)[:, None]
    assert torch.allclose(rot[mask], rot_ref[mask]) and torch.allclose(x[mask], x_ref[mask])


def test_prior_is_centred_with_the_r3_scale():
    """Prior translations are centred N(0, I / c^2): per-coordinate variance (1 - 1/L) / c^2."""
    se3 = SE3Diffuser()
    prior = se3.sample_prior((400, 50), dtype=F64, generator=torch.Generator().manual_seed(4))
    rot, x = prior.rotations, prior.translations
    assert rot.shape == (400, 50, 3, 3) and x.shape == (400, 50, 3)
    assert x.mean(1).abs().max() < 1e-9
    expected = (1 - 1 / 50) / se3.r3.scale**2
    assert abs(x.var(0).mean().item() / expected - 1) < 0.02
