"""Tests for molgen.diffusion.r3.R3Diffuser: VP-SDE marginals, score, reverse time."""

from __future__ import annotations

import math

import pytest
import torch

from molgen.diffusion import R3Diffuser

F64 = torch.float64


def test_marginal_closed_form():
    """alpha_t = exp(-int_0^t beta / 2) (trapezoid rule) and sigma_t^2 = 1 - alpha_t^2."""
    r3 = R3Diffuser(0.1, 20.0)
    for t in (0.0, 0.01, 0.3, 1.0):
        s = torch.linspace(0, t, 10001, dtype=F64)
        integral = torch.trapezoid(r3.beta(s), s) if t > 0 else torch.tensor(0.0, dtype=F64)
        alpha, sigma = r3.marginal(torch.tensor(t, dtype=F64))
        assert abs(alpha - torch.exp(-0.5 * integral)) < 1e-10
        assert abs(sigma**2 + alpha**2 - 1) < 1e-14


def test_sample_marginal_mean_and_variance():
    """x_t | x_0 has mean alpha_t x_0 and per-coordinate variance (sigma_t / c)^2 (Angstrom^2)."""
    r3 = R3Diffuser()
    g = torch.Generator().manual_seed(0)
    x0 = torch.tensor([12.0, -3.0, 7.5], dtype=F64).expand(200000, 3)
    for t in (0.05, 0.4):
        x_t, _ = r3.sample_marginal(x0, t, generator=g)
        alpha, sigma = r3.marginal(torch.tensor(t, dtype=F64))
        std = sigma.item() / r3.scale
        assert (x_t.mean(0) - alpha * x0[0]).abs().max() < 4 * std / math.sqrt(200000)
        assert (x_t.var(0) / std**2 - 1).abs().max() < 4 * math.sqrt(2 / 200000)


def test_score_is_gradient_of_gaussian_log_density():
    """score(x_t, x_0, t) = grad_x log N(x_t; alpha x_0, (sigma / c)^2 I) (autograd, 1/A)."""
    r3 = R3Diffuser()
    g = torch.Generator().manual_seed(1)
    x0 = torch.randn(10, 3, dtype=F64, generator=g) * 10
    x_t = torch.randn(10, 3, dtype=F64, generator=g).requires_grad_(True)
    t = torch.rand(10, dtype=F64, generator=g)
    alpha, sigma = r3.marginal(t[:, None])
    log_p = -(((x_t - alpha * x0) * r3.scale / sigma) ** 2).sum() / 2
    (grad,) = torch.autograd.grad(log_p, x_t)
    assert torch.allclose(r3.score(x_t.detach(), x0, t), grad, rtol=1e-12)
    # sample_marginal returns the same score for the x_t it draws.
    x_s, s = r3.sample_marginal(x0, t, generator=g)
    assert torch.allclose(s, r3.score(x_s, x0, t), rtol=1e-9)


def test_score_norm_matches_monte_carlo():
    """score_norm(t) = E||score||^2 per point, against 100,000 samples (4 std errors)."""
    r3 = R3Diffuser()
    g = torch.Generator().manual_seed(2)
    x0 = torch.zeros(100000, 3, dtype=F64)
    for t in (0.02, 0.5):
        _, s = r3.sample_marginal(x0, t, generator=g)
        sq = (s**2).sum(-1)
        expected = r3.score_norm(torch.tensor(t, dtype=F64))
        assert abs(sq.mean() - expected) < 4 * sq.std() / math.sqrt(len(sq))


def test_prior_scale():
    """The prior is N(0, I / c^2) in Angstrom: per-coordinate std 1 / c."""
    r3 = R3Diffuser(coordinate_scale=0.1)
    x = r3.sample_prior((100000, 3), dtype=F64, generator=torch.Generator().manual_seed(3))
    assert abs(x.std().item() - 10.0) < 0.05 and x.mean().abs().item() < 0.05


@pytest.mark.slow
@pytest.mark.parametrize("ode", [False, True])
def test_reverse_time_recovers_gaussian(ode):
    """Reverse SDE / probability-flow ODE from the prior with the exact marginal score of a
    Gaussian target N(mu, S) ends at N(mu, S): mean and covariance within 5% of their scale.

    The marginal is N(alpha mu, alpha^2 S + (sigma / c)^2 I); 20,000 particles (covariance
    sampling error ~1%) and 1,000 Euler steps.
    """
    r3 = R3Diffuser()
    g = torch.Generator().manual_seed(4)
    mu = torch.tensor([6.0, -4.0, 9.0], dtype=F64)
    a = torch.tensor([[3.0, 0.0, 0.0], [1.5, 2.0, 0.0], [-1.0, 0.5, 1.0]], dtype=F64)
    cov = a @ a.T
    x = r3.sample_prior((20000, 3), dtype=F64, generator=g)
    times = torch.linspace(1.0, 0.0, 1001, dtype=F64)
    eye = torch.eye(3, dtype=F64)
    for t, t_next in zip(times[:-1], times[1:], strict=True):
        alpha, sigma = r3.marginal(t)
        prec = torch.linalg.inv(alpha**2 * cov + (sigma / r3.scale) ** 2 * eye)
        score = -(x - alpha * mu) @ prec
        x = r3.reverse_step(x, score, t, (t - t_next).item(), generator=g, ode=ode)
    assert (x.mean(0) - mu).norm() < 0.05 * mu.norm()
    assert (torch.cov(x.T) - cov).abs().max() < 0.05 * cov.abs().max()


@pytest.mark.parametrize("ode", [False, True])
@pytest.mark.parametrize(("t", "s"), [(0.8, 0.05), (0.02, 0.01), (0.3, 0.0)])
def test_reverse_step_is_exact_for_a_point_mass(ode, t, s):
    """For data at one point x0, x_t ~ N(alpha_t x0, (sigma_t / c)^2 I) and the exact score;
    one step of any size gives x_s ~ N(alpha_s x0, (sigma_s / c)^2 I): mean and std within
    the Monte-Carlo error of 40,000 draws."""
    r3 = R3Diffuser()
    g = torch.Generator().manual_seed(5)
    x0 = torch.tensor([4.0, -7.0, 2.0], dtype=F64)
    x_t, score = r3.sample_marginal(x0.expand(40000, 3), t, generator=g)
    x_s = r3.reverse_step(x_t, score, t, t - s, generator=g, ode=ode)
    alpha_s, sigma_s = r3.marginal(torch.tensor(s, dtype=F64))
    std = float(sigma_s / r3.scale)
    assert (x_s.mean(0) - alpha_s * x0).abs().max() < 0.03 * max(std, 1e-3) + 1e-9
    if s == 0.0:
        assert (x_s - x0).abs().max() < 1e-9
    else:
        assert (x_s.std(0) / std - 1).abs().max() < 0.03
