"""The noise processes share their verbs: same names, same call pattern."""

from __future__ import annotations

import inspect

import pytest
import torch

from molgen.diffusion import R3Diffuser, SE3Diffuser, SO3Diffuser, TorusDiffuser
from molgen.geometry import Frames

F64 = torch.float64
DIFFUSERS = [R3Diffuser, SO3Diffuser, TorusDiffuser]


def _names(cls, verb):
    return list(inspect.signature(getattr(cls, verb)).parameters)


@pytest.mark.parametrize("cls", DIFFUSERS)
def test_score_and_reverse_step_share_one_pattern(cls):
    """score(state_t, state_0, t), score_norm(t) and reverse_step(state_t, score, t, dt,
    noise_scale, generator, ode) on every manifold."""
    assert len(_names(cls, "score")) == 4 and _names(cls, "score")[-1] == "t"
    assert _names(cls, "score_norm") == ["self", "t"]
    step = _names(cls, "reverse_step")
    assert len(step) == 8 and step[3:] == ["t", "dt", "noise_scale", "generator", "ode"]
    se3 = _names(SE3Diffuser, "reverse_step")
    assert se3[2:] == ["score", "t", "dt", "noise_scale", "generator", "ode"]


def test_conditional_scores_equal_the_marginal_draws():
    """SO3Diffuser.score(R_t, R_0, t) and TorusDiffuser.score(x_t, x_0, t) equal the scores
    returned by sample_marginal (float64)."""
    g = torch.Generator().manual_seed(0)
    so3 = SO3Diffuser()
    rot_0 = torch.eye(3, dtype=F64).expand(5, 3, 3)
    t = torch.tensor([0.1, 0.3, 0.5, 0.7, 0.9], dtype=F64)
    rot_t, score = so3.sample_marginal(rot_0, t, generator=g)
    assert torch.allclose(so3.score(rot_t, rot_0, t), score, atol=1e-8)
    torus = TorusDiffuser()
    x_0 = torch.zeros(5, dtype=F64)
    x_t, score = torus.sample_marginal(x_0, t, generator=g)
    assert torch.allclose(torus.score(x_t, x_0, t), score, atol=1e-9)


def test_se3_step_takes_frames():
    """SE3Diffuser.reverse_step moves Frames and returns Frames of the same shape."""
    se3 = SE3Diffuser()
    mask = torch.ones(2, 6, dtype=torch.bool)
    frames = se3.sample_prior((2, 6), F64, generator=torch.Generator().manual_seed(1), mask=mask)
    x = frames.translations
    out = se3.reverse_step(frames, (torch.zeros_like(x), torch.zeros_like(x)), 0.5, 0.01)
    assert isinstance(out, Frames) and out.shape == (2, 6)


@pytest.mark.parametrize("cls", [*DIFFUSERS, SE3Diffuser])
def test_sampling_verbs_share_one_pattern(cls):
    """sample_marginal(state_0, t, generator) and sample_prior(shape, dtype, device,
    generator[, mask]) on every process."""
    marginal = [n for n in _names(cls, "sample_marginal") if n != "self"]
    assert len(marginal) == 3 and marginal[1:] == ["t", "generator"]
    prior = [n for n in _names(cls, "sample_prior") if n != "self"]
    assert prior[1:4] == ["dtype", "device", "generator"]
