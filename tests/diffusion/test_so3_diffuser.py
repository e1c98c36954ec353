"""Tests for molgen.diffusion.so3.SO3Diffuser: schedule, marginals, composition, reverse time."""

from __future__ import annotations

import math

import pytest
import torch
from scipy import stats

from molgen.diffusion import SO3Diffuser
from molgen.geometry import matrix_to_rotvec, random_rotation, rotation_angle, rotvec_to_matrix

F64 = torch.float64


@pytest.mark.parametrize("schedule", ["logarithmic", "exponential"])
def test_schedule_end_points_and_g2(schedule):
    """sigma(0) = min, sigma(1) = max, and g^2 = d sigma^2 / dt (autograd)."""
    so3 = SO3Diffuser(0.1, 1.5, schedule=schedule)
    t = torch.linspace(0, 1, 11, dtype=F64, requires_grad=True)
    sigma = so3.sigma(t)
    (d_sigma2,) = torch.autograd.grad((sigma**2).sum(), t)
    assert abs(sigma[0].item() - 0.1) < 1e-12 and abs(sigma[-1].item() - 1.5) < 1e-12
    assert torch.allclose(so3.g2(t.detach()), d_sigma2, rtol=1e-12)


@pytest.mark.parametrize(("s1", "s2"), [(0.05, 0.1), (0.2, 0.3), (0.5, 1.0), (1.0, 1.2)])
def test_composition_adds_variances(s1, s2, igso3_angle_cdf):
    """Angles of R1 R2, R_i ~ IGSO(3)(s_i), follow IGSO(3)(sqrt(s1^2 + s2^2)) (KS p > 0.01)."""
    g = torch.Generator().manual_seed(11)
    r1 = rotvec_to_matrix(SO3Diffuser.sample_igso3(s1, 20000, generator=g, dtype=F64))
    r2 = rotvec_to_matrix(SO3Diffuser.sample_igso3(s2, 20000, generator=g, dtype=F64))
    angles = rotation_angle(r1 @ r2).numpy()
    assert stats.kstest(angles, igso3_angle_cdf(math.hypot(s1, s2))).pvalue > 0.01


def test_score_is_gradient_of_log_density_on_the_group():
    """<score(v), u> = d/de log f(angle(exp(v) exp(e u))) at e = 0, for random v and u."""
    g = torch.Generator().manual_seed(2)
    sigma = 0.6
    v = torch.randn(50, 3, dtype=F64, generator=g)
    v = v / v.norm(dim=-1, keepdim=True) * torch.rand(50, 1, dtype=F64, generator=g) * 3.0
    u = torch.randn(50, 3, dtype=F64, generator=g)
    h = 1e-6

    def log_f(e: float) -> torch.Tensor:
        omega = rotation_angle(rotvec_to_matrix(v) @ rotvec_to_matrix(e * u))
        return SO3Diffuser.angle_density(omega, sigma).log() - torch.log(1 - torch.cos(omega))

    fd = (log_f(h) - log_f(-h)) / (2 * h)
    assert torch.allclose(
        (SO3Diffuser.kernel_score(v, sigma) * u).sum(-1), fd, atol=1e-6, rtol=1e-6
    )


def test_score_folds_angles_beyond_pi():
    """A rotation vector of angle w > pi and its equivalent -(2 pi - w) n have the same score."""
    n = torch.nn.functional.normalize(torch.tensor([[1.0, -2.0, 0.5]], dtype=F64), dim=-1)
    for w in (3.3, 4.0, 6.0):
        a = SO3Diffuser.kernel_score(n * w, 0.8)
        b = SO3Diffuser.kernel_score(-n * (2 * math.pi - w), 0.8)
        assert torch.allclose(a, b, atol=1e-12)


def test_score_norm_matches_monte_carlo():
    """kernel_score_norm(sigma) equals the mean of ||score||^2 over 50,000 samples (4 SE)."""
    g = torch.Generator().manual_seed(4)
    for sigma in (0.1, 0.5, 1.0):
        v = SO3Diffuser.sample_igso3(sigma, 50000, generator=g, dtype=F64)
        sq = (SO3Diffuser.kernel_score(v, sigma) ** 2).sum(-1)
        err = sq.std() / math.sqrt(len(sq))
        assert (
            abs(sq.mean() - SO3Diffuser.kernel_score_norm(torch.tensor(sigma, dtype=F64))) < 4 * err
        )


def test_sample_marginal_geodesic_distance_and_score(igso3_angle_cdf):
    """R_0^T R_t has the IGSO(3)(sigma(t)) angle law; the score is score(log(R_0^T R_t))."""
    so3 = SO3Diffuser()
    g = torch.Generator().manual_seed(7)
    rot_0 = random_rotation(200, 100, dtype=F64, generator=g)
    t = torch.rand(200, dtype=F64, generator=g)
    rot_t, score = so3.sample_marginal(rot_0, t, generator=g)
    v = matrix_to_rotvec(rot_0.mT @ rot_t)
    sigma = so3.sigma(t)[:, None].expand(200, 100)
    assert torch.allclose(score, so3.kernel_score(v, sigma), atol=1e-8)
    # Angles for one fixed time follow the IGSO(3) CDF.
    rot_t, _ = so3.sample_marginal(rot_0, 0.5, generator=g)
    angles = rotation_angle(rot_0.mT @ rot_t).flatten().numpy()
    assert stats.kstest(angles, igso3_angle_cdf(so3.sigma(0.5).item())).pvalue > 0.01


def test_score_target_is_invariant_under_global_rotation():
    """Rotating the data, R_0 -> Q R_0, leaves the local-frame score target unchanged."""
    so3 = SO3Diffuser()
    rot_0 = random_rotation(4, 30, dtype=F64, generator=torch.Generator().manual_seed(0))
    q = random_rotation(dtype=F64, generator=torch.Generator().manual_seed(1))
    rt_a, s_a = so3.sample_marginal(rot_0, 0.3, generator=torch.Generator().manual_seed(9))
    rt_b, s_b = so3.sample_marginal(q @ rot_0, 0.3, generator=torch.Generator().manual_seed(9))
    assert torch.allclose(s_a, s_b) and torch.allclose(q @ rt_a, rt_b, atol=1e-12)


def test_prior_is_haar():
    """Prior rotation angles follow the Haar angle CDF (w - sin w)/pi (KS p > 0.01)."""
    rot = SO3Diffuser.sample_prior(20000, dtype=F64, generator=torch.Generator().manual_seed(3))
    angles = rotation_angle(rot).numpy()
    assert (
        stats.kstest(angles, lambda w: (w - torch.sin(torch.tensor(w)).numpy()) / math.pi).pvalue
        > 0.01
    )


def test_reverse_step_matches_forward_increment_law():
    """With zero score an SDE step is a geodesic random walk: angle ~ |N(0, g^2 dt I_3)|."""
    so3 = SO3Diffuser()
    g = torch.Generator().manual_seed(8)
    rot = random_rotation(20000, dtype=F64, generator=g)
    new = so3.reverse_step(rot, torch.zeros(20000, 3, dtype=F64), 0.5, 1e-3, generator=g)
    scale = math.sqrt(so3.g2(0.5).item() * 1e-3)
    angles = rotation_angle(rot.mT @ new).numpy() / scale
    assert stats.kstest(angles, stats.chi(3).cdf).pvalue > 0.01


def _log_sigma_times(so3: SO3Diffuser, steps: int) -> torch.Tensor:
    """Times t_k (descending) whose sigma(t_k) are log-spaced from max to min sigma."""
    sig = torch.exp(torch.linspace(math.log(so3.max_sigma), math.log(so3.min_sigma), steps + 1))
    lo, hi = math.exp(so3.min_sigma), math.exp(so3.max_sigma)
    return ((torch.exp(sig.double()) - lo) / (hi - lo)).clamp(0, 1)


@pytest.mark.slow
@pytest.mark.parametrize("ode", [False, True])
def test_reverse_time_recovers_concentrated_igso3(ode, igso3_angle_cdf):
    """Reverse SDE / probability-flow ODE from the uniform prior with the exact score of
    p_t = IGSO(3)(R*, sqrt(s0^2 + sigma(t)^2)) ends at IGSO(3)(R*, sqrt(s0^2 + sigma_min^2)).

    max_sigma = 3 makes the uniform prior match p_1 to 1e-3; 4,000 particles and 500 steps
    log-spaced in sigma keep the Euler bias (KS distance ~0.01) below the KS resolution.
    """
    so3 = SO3Diffuser(min_sigma=0.02, max_sigma=3.0)
    s0 = 0.2
    g = torch.Generator().manual_seed(21)
    target = random_rotation(dtype=F64, generator=g)
    rot = so3.sample_prior(4000, dtype=F64, generator=g)
    times = _log_sigma_times(so3, 500)
    for t, t_next in zip(times[:-1], times[1:], strict=True):
        sigma = torch.sqrt(s0**2 + so3.sigma(t) ** 2)
        score = so3.kernel_score(matrix_to_rotvec(target.mT @ rot), sigma)
        rot = so3.reverse_step(rot, score, t, (t - t_next).item(), generator=g, ode=ode)
    angles = rotation_angle(target.mT @ rot).numpy()
    cdf = igso3_angle_cdf(math.hypot(s0, so3.min_sigma))
    assert stats.kstest(angles, cdf).pvalue > 0.01


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_follows_input_and_generator_determines_output(dtype):
    """Outputs keep the input dtype; the same seed gives the same marginal sample."""
    so3 = SO3Diffuser()
    rot_0 = random_rotation(3, 5, dtype=dtype, generator=torch.Generator().manual_seed(0))
    a = so3.sample_marginal(rot_0, torch.tensor([0.1, 0.5, 1.0]), torch.Generator().manual_seed(1))
    b = so3.sample_marginal(rot_0, torch.tensor([0.1, 0.5, 1.0]), torch.Generator().manual_seed(1))
    assert a[0].dtype == dtype and a[1].dtype == dtype
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    step = so3.reverse_step(a[0], a[1], 0.5, 0.01, generator=torch.Generator().manual_seed(2))
    assert step.dtype == dtype and torch.isfinite(step).all()
    assert SO3Diffuser.sample_igso3(torch.tensor(0.3, dtype=dtype), 4).dtype == dtype
