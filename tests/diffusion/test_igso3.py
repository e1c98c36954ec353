"""Tests for molgen.diffusion.igso3: the IGSO(3) density, its score, tables and sampler."""

from __future__ import annotations

import math
import time

import mpmath
import numpy as np
import pytest
import torch
from scipy import integrate, stats

from molgen.diffusion import igso3
from molgen.diffusion.igso3 import (
    Igso3Tables,
    igso3_angle_density,
    igso3_angle_score,
    igso3_log_density,
    igso3_sample,
    igso3_score_over_angle,
    igso3_tables,
)

F64 = torch.float64
SIGMAS = [0.01, 0.03, 0.1, 0.2, 0.4, 0.7, 1.0, 1.3, 1.5]


def _reference_log_f(omega: float, sigma: float) -> float:
    """log f from the l-series (1) in mpmath with enough digits to survive its cancellation."""
    mpmath.mp.dps = int(40 + omega**2 / (2 * sigma**2) / 2.3)
    w, eps = mpmath.mpf(omega), mpmath.mpf(sigma) ** 2 / 2
    total, ell = mpmath.mpf(0), 0
    while True:
        weight = (2 * ell + 1) * mpmath.exp(-ell * (ell + 1) * eps)
        total += weight * mpmath.sin((ell + mpmath.mpf(1) / 2) * w) / mpmath.sin(w / 2)
        if ell > 5 and (2 * ell + 1) * weight < mpmath.mpf(10) ** (10 - mpmath.mp.dps):
            return float(mpmath.log(total))
        ell += 1


@pytest.mark.parametrize("sigma", [0.05, 0.3, 0.9, 1.4999, 1.5, 2.5, 4.0])
def test_log_density_matches_high_precision_series(sigma):
    """log f equals a 40+ digit evaluation of sum_l (2l+1) e^{-l(l+1) s^2/2} chi_l to 1e-14."""
    omegas = [1e-6, 0.003, 0.05, 0.5, 1.0, 2.0, 2.9, 3.1, math.pi - 1e-7]
    # Where f < e^-200 the reference would need thousands of digits; those angles never occur.
    omegas = [w for w in omegas if w**2 / (2 * sigma**2) < 200]
    mine = igso3_log_density(torch.tensor(omegas, dtype=F64), sigma)
    ref = torch.tensor([_reference_log_f(w, sigma) for w in omegas], dtype=F64)
    assert ((mine - ref).abs() / ref.abs().clamp_min(1.0)).max() < 1e-14


@pytest.mark.parametrize("sigma", [0.7, 1.0, 1.3, 1.7, 2.0])
def test_image_and_l_series_agree(sigma, monkeypatch):
    """Series (2) (images) and series (1) (l-sum, 60 terms) give the same log f and score."""
    monkeypatch.setattr(igso3, "N_TERMS", 60)
    w = torch.linspace(0.0, math.pi, 501, dtype=F64)
    s = torch.full_like(w, sigma)
    log_a, score_a = igso3._by_images(w, s)
    log_b, score_b = igso3._by_series(w, s)
    assert (log_a - log_b).abs().max() < 1e-9
    assert (score_a - score_b).abs().max() < 1e-9


@pytest.mark.parametrize("sigma", SIGMAS)
def test_angle_density_integrates_to_one(sigma):
    """int_0^pi f(w) (1 - cos w) / pi dw = 1 (|error| < 1e-4), by scipy.integrate.quad."""
    total, _ = integrate.quad(
        lambda w: igso3_angle_density(torch.tensor(w, dtype=F64), sigma).item(),
        0.0,
        math.pi,
        points=[min(sigma, 1.0), min(3 * sigma, 3.0)],
        limit=200,
    )
    assert abs(total - 1.0) < 1e-4


@pytest.mark.parametrize("sigma", [3.0, 4.0, 6.0])
def test_large_sigma_is_haar(sigma):
    """For sigma >= 3 the angle density is within 1e-3 of the Haar density (1 - cos w)/pi."""
    w = torch.linspace(0.0, math.pi, 1001, dtype=F64)
    haar = (1 - torch.cos(w)) / math.pi
    assert (igso3_angle_density(w, sigma) - haar).abs().max() < 1e-3


@pytest.mark.parametrize("sigma", [1e-3, 0.01, 0.05])
def test_small_sigma_is_tangent_gaussian(sigma):
    """For small sigma the angle density approaches the Maxwell density of |N(0, s^2 I_3)|."""
    w = torch.linspace(0.0, 8 * sigma, 801, dtype=F64)
    maxwell = math.sqrt(2 / math.pi) * w**2 / sigma**3 * torch.exp(-(w**2) / (2 * sigma**2))
    err = (igso3_angle_density(w, sigma) - maxwell).abs().max() / maxwell.max()
    assert err < sigma**2  # the first correction is O(sigma^2)


@pytest.mark.parametrize("sigma", [0.01, 0.05, 0.1, 0.3, 0.7, 1.0, 1.49, 1.5, 2.0, 3.0])
def test_score_matches_finite_differences(sigma):
    """d/dw log f equals the central difference of log f (relative error < 1e-3) on (0, pi)."""
    w = torch.linspace(0.01, math.pi - 0.01, 400, dtype=F64)
    h = 1e-5
    fd = (igso3_log_density(w + h, sigma) - igso3_log_density(w - h, sigma)) / (2 * h)
    score = igso3_angle_score(w, sigma)
    assert ((fd - score).abs() / score.abs()).max() < 1e-3


@pytest.mark.parametrize("sigma", [0.05, 0.5, 1.0, 2.0])
def test_score_matches_autograd(sigma):
    """The analytic score equals the autograd derivative of log f (float64)."""
    w = torch.linspace(0.05, 3.0, 200, dtype=F64, requires_grad=True)
    (grad,) = torch.autograd.grad(igso3_log_density(w, sigma).sum(), w)
    assert torch.allclose(grad, igso3_angle_score(w.detach(), sigma), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("sigma", [0.01, 0.2, 1.0, 1.5, 2.5])
def test_score_limits_at_zero_and_pi(sigma):
    """s(w)/w -> -1/sigma^2 + 1/12 (+ O(e^{-pi^2/sigma^2})) at w = 0; s(pi) = 0; all finite."""
    w = torch.tensor([0.0, 1e-12, 1e-6, math.pi - 1e-9, math.pi], dtype=F64)
    over = igso3_score_over_angle(w, sigma)
    assert torch.isfinite(over).all()
    if sigma < 1:
        assert abs(over[0].item() - (-1 / sigma**2 + 1 / 12)) < 1e-9 / sigma**2
    assert abs(over[0] - over[2]).item() < 1e-9 * abs(over[0].item())
    # s(pi) = 0 up to round-off in the cancellation of two terms of size pi / sigma^2.
    assert abs(igso3_angle_score(w, sigma)[-1].item()) < 1e-10 * math.pi / sigma**2


def test_tables_build_fast_and_normalised():
    """The tables build in well under a second of CPU time; Simpson masses are 1 to 1e-9."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        start = time.process_time()
        tables = Igso3Tables()
        elapsed = time.process_time() - start
    finally:
        torch.set_num_threads(threads)
    assert elapsed < 1.0
    assert (tables.total_mass - 1).abs().max() < 1e-9


@pytest.mark.parametrize("sigma", [0.005, 0.02, 0.1, 0.26, 0.5, 0.9, 1.5, 2.2, 3.0, 5.5])
def test_sampled_angles_follow_the_density(sigma, igso3_angle_cdf):
    """KS test of 20,000 sampled angles against the CDF of angle_density: p > 0.01."""
    g = torch.Generator().manual_seed(1234)
    v = igso3_sample(torch.full((20000,), sigma, dtype=F64), generator=g)
    angles = torch.linalg.vector_norm(v, dim=-1).numpy()
    assert stats.kstest(angles, igso3_angle_cdf(sigma)).pvalue > 0.01


def test_sampled_axes_are_uniform():
    """The axes of sampled rotation vectors have mean ~0 and second moment I/3 (to 4 std)."""
    g = torch.Generator().manual_seed(5)
    v = igso3_sample(torch.full((40000,), 0.7, dtype=F64), generator=g)
    n = v / torch.linalg.vector_norm(v, dim=-1, keepdim=True)
    assert n.mean(0).abs().max() < 4 / math.sqrt(3 * 40000)
    assert ((n.T @ n) / len(n) - torch.eye(3, dtype=F64) / 3).abs().max() < 0.01


@pytest.mark.parametrize("sigma", [0.005, 0.05, 0.3, 0.77, 1.2, 2.0])
def test_score_norm_matches_quadrature(sigma):
    """E||s||^2 from the tables equals int s^2 p dw by scipy.integrate.quad (rel 1e-4)."""

    def integrand(w: float) -> float:
        t = torch.tensor(w, dtype=F64)
        return (igso3_angle_score(t, sigma) ** 2 * igso3_angle_density(t, sigma)).item()

    ref, _ = integrate.quad(integrand, 0.0, min(math.pi, 15 * sigma), limit=200)
    table = igso3_tables().score_norm(torch.tensor(sigma, dtype=F64)).item()
    assert abs(table - ref) / ref < 1e-4


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_functions_keep_dtype_and_are_finite(dtype):
    """Density, score and sampler keep float32/float64 and stay finite over the whole range."""
    w = torch.linspace(0.0, math.pi, 64, dtype=dtype)
    sigma = torch.logspace(-3, 1, 64, dtype=dtype)
    for out in (igso3_angle_density(w, sigma), igso3_score_over_angle(w, sigma)):
        assert out.dtype == dtype and torch.isfinite(out).all()
    assert igso3_sample(sigma, torch.Generator().manual_seed(0)).dtype == dtype


def test_float32_score_close_to_float64():
    """The float32 score agrees with float64 to 1e-4 relative for sigma in [0.05, 3]."""
    # float32(pi) > pi, where s changes by O(pi^2 / sigma^4) per radian: stop short of pi.
    w = torch.linspace(0.01, 3.1, 300, dtype=torch.float32)
    for sigma in (0.05, 0.3, 1.0, 3.0):
        s64 = igso3_angle_score(w.double(), sigma)
        s32 = igso3_angle_score(w, sigma).double()
        assert ((s32 - s64).abs() / s64.abs().clamp_min(1.0)).max() < 1e-4


def test_sampler_is_deterministic_with_a_generator():
    """The same seed gives the same samples."""
    sigma = torch.full((100,), 0.4)
    a = igso3_sample(sigma, torch.Generator().manual_seed(3))
    b = igso3_sample(sigma, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and np.isfinite(a.numpy()).all()
