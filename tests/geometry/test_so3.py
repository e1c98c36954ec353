"""Tests for molgen.geometry.so3: exp/log maps, angles, random rotations."""

from __future__ import annotations

import math

import pytest
import torch

from molgen.geometry import (
    geodesic_distance,
    hat,
    matrix_to_rotvec,
    random_rotation,
    rotation_angle,
    rotvec_to_matrix,
    vee,
)

DTYPES = [torch.float32, torch.float64]
TOL = {torch.float32: 2e-6, torch.float64: 1e-12}


def _axes(n: int, dtype: torch.dtype) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    axes = torch.randn(n, 3, generator=g, dtype=torch.float64)
    # Include the coordinate axes, where the log near pi picks its pivot column.
    axes[:3] = torch.eye(3, dtype=torch.float64)
    return torch.nn.functional.normalize(axes, dim=-1).to(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_hat_is_cross_product_and_vee_inverts_it(dtype):
    """hat(v) u == v x u and vee(hat(v)) == v."""
    g = torch.Generator().manual_seed(1)
    v, u = torch.randn(2, 50, 3, generator=g, dtype=dtype)
    assert torch.allclose(hat(v) @ u[..., None], torch.cross(v, u, dim=-1)[..., None])
    assert torch.equal(vee(hat(v)), v)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("angle", [1e-7, 1e-3, math.pi / 2, math.pi - 1e-6])
def test_exp_log_round_trip(angle, dtype):
    """log(exp(v)) == v for angles 1e-7, 1e-3, pi/2 and pi - 1e-6 (relative to the angle)."""
    v = _axes(500, dtype) * angle
    back = matrix_to_rotvec(rotvec_to_matrix(v))
    assert (back - v).abs().max().item() <= TOL[dtype] * max(1.0, angle)


@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_is_orthonormal_with_det_one(dtype):
    """exp(v) is a rotation: R^T R = I and det R = 1, over angles up to 3 pi."""
    g = torch.Generator().manual_seed(2)
    v = torch.randn(1000, 3, generator=g, dtype=dtype) * 3
    r = rotvec_to_matrix(v)
    eye = torch.eye(3, dtype=dtype)
    assert torch.allclose(r.transpose(-1, -2) @ r, eye.expand_as(r), atol=10 * TOL[dtype])
    assert torch.allclose(torch.linalg.det(r), torch.ones(1000, dtype=dtype), atol=10 * TOL[dtype])


def test_exp_matches_matrix_exponential():
    """Rodrigues' formula equals torch.linalg.matrix_exp of hat(v) (float64)."""
    g = torch.Generator().manual_seed(3)
    v = torch.randn(200, 3, generator=g, dtype=torch.float64) * 2
    assert torch.allclose(rotvec_to_matrix(v), torch.linalg.matrix_exp(hat(v)), atol=1e-12)


def test_rotation_about_x_by_quarter_turn():
    """A 90 degree rotation about x maps y to z and z to -y."""
    r = rotvec_to_matrix(torch.tensor([math.pi / 2, 0.0, 0.0], dtype=torch.float64))
    expected = torch.tensor([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]], dtype=torch.float64)
    assert torch.allclose(r, expected, atol=1e-15)


@pytest.mark.parametrize("angle", [0.0, 1e-8, 1e-3, 1.0, math.pi - 1e-3])
def test_exp_and_log_gradients_are_finite(angle):
    """Gradients of exp and log are finite at and near 0 and near pi."""
    v = (_axes(4, torch.float64) * angle).requires_grad_(True)
    rotvec_to_matrix(v).sum().backward()
    assert torch.isfinite(v.grad).all()
    r = rotvec_to_matrix(_axes(4, torch.float64) * angle).requires_grad_(True)
    matrix_to_rotvec(r).pow(2).sum().backward()
    assert torch.isfinite(r.grad).all()


def test_rotation_angle_and_geodesic_distance():
    """angle(exp(v)) == |v| for |v| <= pi and d(R, R exp(v)) == |v|."""
    g = torch.Generator().manual_seed(4)
    angles = torch.rand(300, generator=g, dtype=torch.float64) * math.pi
    v = _axes(300, torch.float64) * angles[:, None]
    assert torch.allclose(rotation_angle(rotvec_to_matrix(v)), angles, atol=1e-12)
    r0 = random_rotation(300, dtype=torch.float64, generator=g)
    assert torch.allclose(geodesic_distance(r0, r0 @ rotvec_to_matrix(v)), angles, atol=1e-10)


def test_random_rotation_is_haar_distributed():
    """Uniform rotations: angle CDF is (w - sin w)/pi (KS test) and E[R] = 0."""
    from scipy import stats

    g = torch.Generator().manual_seed(5)
    r = random_rotation(20000, dtype=torch.float64, generator=g)
    w = rotation_angle(r).numpy()
    p = stats.kstest(w, lambda x: (x - __import__("numpy").sin(x)) / math.pi).pvalue
    assert p > 0.01
    assert r.mean(0).abs().max() < 0.02  # each entry has std 1/sqrt(3)/sqrt(20000) ~ 0.004


def test_random_rotation_reproducible_with_seed():
    """The same seed gives the same rotations."""
    a = random_rotation(5, generator=torch.Generator().manual_seed(7))
    b = random_rotation(5, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, b)
