"""Tests for molgen.diffusion.torus.TorusDiffuser: wrapped normal density, score, reverse time."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from molgen.diffusion import TorusDiffuser, wrap_angle

F64 = torch.float64
SIGMAS = [0.02, 0.3, 1.0, 1.99, 2.0, 3.0, 6.0]


def test_wrap_angle_range():
    """wrap_angle maps to (-pi, pi] and changes angles by multiples of 2 pi."""
    x = torch.tensor([-7.0, -math.pi, 0.0, math.pi, 4.0, 100.0], dtype=F64)
    w = wrap_angle(x)
    assert (w > -math.pi).all() and (w <= math.pi).all()
    k = (x - w) / (2 * math.pi)
    assert torch.allclose(k, k.round(), atol=1e-12)


@pytest.mark.parametrize("sigma", SIGMAS)
def test_density_integrates_to_one(sigma):
    """int_{-pi}^{pi} p_sigma(x) dx = 1 (scipy.integrate.quad, |error| < 1e-8)."""
    total, _ = integrate.quad(
        lambda x: TorusDiffuser.log_density(torch.tensor(x, dtype=F64), sigma).exp().item(),
        -math.pi,
        math.pi,
        points=[0.0],
        limit=200,
    )
    assert abs(total - 1) < 1e-8


@pytest.mark.parametrize("sigma", [0.5, 1.5, 2.5])
def test_density_matches_long_image_sum(sigma):
    """The density equals a 201-image sum of Gaussians to 1e-13 (both branches)."""
    x = torch.linspace(-math.pi, math.pi, 101, dtype=F64)
    k = torch.arange(-100, 101, dtype=F64)
    ref = torch.exp(-((x[:, None] + 2 * math.pi * k) ** 2) / (2 * sigma**2)).sum(-1)
    ref = ref / (sigma * math.sqrt(2 * math.pi))
    assert (TorusDiffuser.log_density(x, sigma).exp() - ref).abs().max() < 1e-13


@pytest.mark.parametrize("sigma", SIGMAS)
def test_score_matches_autograd(sigma):
    """score(x, sigma) equals the autograd derivative of log_density (float64)."""
    x = torch.linspace(-3.1, 3.1, 201, dtype=F64, requires_grad=True)
    (grad,) = torch.autograd.grad(TorusDiffuser.log_density(x, sigma).sum(), x)
    assert torch.allclose(
        TorusDiffuser.kernel_score(x.detach(), sigma), grad, rtol=1e-9, atol=1e-12
    )


@pytest.mark.parametrize("sigma", [0.1, 1.0, 2.5])
def test_score_matches_finite_differences(sigma):
    """score equals the central difference of log_density (relative error < 1e-6)."""
    x = torch.linspace(-3.0, 3.0, 200, dtype=F64)
    h = 1e-5
    fd = (TorusDiffuser.log_density(x + h, sigma) - TorusDiffuser.log_density(x - h, sigma)) / (
        2 * h
    )
    s = TorusDiffuser.kernel_score(x, sigma)
    assert ((fd - s).abs() / s.abs().clamp_min(1e-3)).max() < 1e-6


@pytest.mark.parametrize("sigma", [0.05, 0.7, 1.5, 2.5])
def test_samples_follow_the_density(sigma):
    """KS test of 20,000 samples against the CDF of the density (cumulative Simpson), p > 0.01."""
    x = np.linspace(-math.pi, math.pi, 40001)
    p = TorusDiffuser.log_density(torch.tensor(x), sigma).exp().numpy()
    cdf = integrate.cumulative_simpson(p, x=x, initial=0.0)
    samples = TorusDiffuser.sample(sigma, 20000, generator=torch.Generator().manual_seed(5))
    assert stats.kstest(samples.numpy(), lambda q: np.interp(q, x, cdf)).pvalue > 0.01


@pytest.mark.parametrize("sigma", [0.01, 0.2, 0.8, 1.5, 3.0])
def test_score_norm_matches_monte_carlo(sigma):
    """kernel_score_norm(sigma) = E[s^2] against 100,000 samples (4 std errors)."""
    g = torch.Generator().manual_seed(6)
    x = TorusDiffuser.sample(torch.tensor(sigma, dtype=F64), 100000, generator=g)
    sq = TorusDiffuser.kernel_score(x, sigma) ** 2
    expected = TorusDiffuser.kernel_score_norm(torch.tensor(sigma, dtype=F64))
    assert abs(sq.mean() - expected) < 4 * sq.std() / math.sqrt(len(sq))


def test_sample_marginal_score_and_prior():
    """sample_marginal returns score(x_t - x_0, sigma(t)); the prior is uniform (KS p > 0.01)."""
    torus = TorusDiffuser()
    g = torch.Generator().manual_seed(7)
    x0 = torch.rand(50, 4, dtype=F64, generator=g) * 6 - 3
    t = torch.rand(50, dtype=F64, generator=g)
    x_t, s = torus.sample_marginal(x0, t, generator=g)
    assert (x_t > -math.pi).all() and (x_t <= math.pi).all()
    assert torch.allclose(s, torus.kernel_score(x_t - x0, torus.sigma(t)[:, None]), atol=1e-9)
    prior = torus.sample_prior(20000, dtype=F64, generator=g).numpy()
    assert stats.kstest(prior, stats.uniform(-math.pi, 2 * math.pi).cdf).pvalue > 0.01


def _mixture_score(torus, x, t, weights, means, stds):
    """Exact score of sum_k w_k WN(x - mu_k; sqrt(s_k^2 + sigma(t)^2))."""
    sig = torch.sqrt(stds**2 + torus.sigma(t) ** 2)
    diff = x[:, None] - means
    log_w = torch.log(weights) + torus.log_density(diff, sig)
    return (torch.softmax(log_w, -1) * torus.kernel_score(diff, sig)).sum(-1)


@pytest.mark.slow
@pytest.mark.parametrize("ode", [False, True])
def test_reverse_time_recovers_mixture_weights(ode):
    """Reverse SDE / ODE from the uniform prior with the exact score of a two-component
    wrapped-normal mixture (weights 0.3 / 0.7) recovers the weights within 0.05 and the
    component spreads within 10%. 4,000 particles, 300 steps.
    """
    torus = TorusDiffuser()
    weights = torch.tensor([0.3, 0.7], dtype=F64)
    means = torch.tensor([-2.0, 1.0], dtype=F64)
    stds = torch.tensor([0.25, 0.4], dtype=F64)
    g = torch.Generator().manual_seed(8)
    x = torus.sample_prior(4000, dtype=F64, generator=g)
    times = torch.linspace(1.0, 0.0, 301, dtype=F64)
    for t, t_next in zip(times[:-1], times[1:], strict=True):
        score = _mixture_score(torus, x, t, weights, means, stds)
        x = torus.reverse_step(x, score, t, (t - t_next).item(), generator=g, ode=ode)
    dist = wrap_angle(x[:, None] - means).abs()
    first = dist[:, 0] < dist[:, 1]
    assert abs(first.double().mean().item() - 0.3) < 0.05
    for k, mask in enumerate((first, ~first)):
        spread = wrap_angle(x[mask] - means[k]).std().item()
        expected = math.hypot(stds[k].item(), torus.min_sigma)
        assert abs(spread / expected - 1) < 0.1
