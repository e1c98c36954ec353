"""Tests for equivariant.embeddings: radial basis with smooth cutoff, sinusoidal time embedding."""

from __future__ import annotations

import math

import pytest
import torch
from scipy.special import spherical_jn

from equivariant.embeddings import RadialEmbedding, polynomial_envelope, sinusoidal_embedding

BASES = ["bessel", "smooth_finite"]


def test_polynomial_envelope_value_and_derivatives():
    """u(0) = 1; u(1) = u'(1) = u''(1) = 0; u decreases on [0, 1]; u = 0 beyond 1."""
    x = torch.tensor([0.0, 1.0], dtype=torch.float64, requires_grad=True)
    u = polynomial_envelope(x)
    (du,) = torch.autograd.grad(u.sum(), x, create_graph=True)
    (d2u,) = torch.autograd.grad(du.sum(), x)
    assert u.tolist() == [1.0, 0.0]
    assert abs(du[1].item()) < 1e-12 and abs(d2u[1].item()) < 1e-12
    grid = torch.linspace(0, 1.5, 301, dtype=torch.float64)
    v = polynomial_envelope(grid)
    assert (v[1:] <= v[:-1]).all() and (v[grid >= 1] == 0).all()


def test_bessel_basis_matches_scipy():
    """Bessel basis == sqrt(2/c) (n pi / c) j0(n pi d / c) u(d/c) with scipy's spherical j0."""
    c, d = 5.0, torch.linspace(0.1, 6.0, 60, dtype=torch.float64)
    out = RadialEmbedding(8, c)(d)
    n = torch.arange(1, 9, dtype=torch.float64)
    z = (n * math.pi * d[:, None] / c).numpy()
    ref = math.sqrt(2 / c) * (n * math.pi / c) * torch.from_numpy(spherical_jn(0, z))
    ref = ref * polynomial_envelope(d[:, None] / c)
    assert torch.allclose(out, ref, atol=1e-12)


@pytest.mark.parametrize("basis", BASES)
def test_radial_values_and_derivative_vanish_at_cutoff(basis):
    """e(d) and de/dd -> 0 as d -> c from below, and e = 0 for d >= c."""
    c = 6.0
    emb = RadialEmbedding(10, c, basis)
    d = torch.tensor([c * (1 - 1e-3), c, c + 1.0], dtype=torch.float64, requires_grad=True)
    out = emb(d)
    (grad,) = torch.autograd.grad(out.pow(2).sum() + out.sum(), d)
    assert out.abs().max() < 1e-6
    assert grad.abs().max() < 1e-4
    assert (out[1:] == 0).all()
    # Away from the cutoff the features are not small: the test above can fail.
    assert emb(torch.tensor([0.5 * c], dtype=torch.float64)).abs().max() > 0.1


@pytest.mark.parametrize("basis", BASES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_radial_gradients_finite_and_basis_independent(basis, dtype):
    """Gradients are finite on [0, 1.2 c] (including d = 0); the K functions are independent."""
    d = torch.linspace(0, 7.2, 500, dtype=dtype, requires_grad=True)
    out = RadialEmbedding(12, 6.0, basis)(d)
    assert out.shape == (500, 12) and out.dtype == dtype
    (grad,) = torch.autograd.grad(out.sum(), d)
    assert torch.isfinite(out).all() and torch.isfinite(grad).all()
    assert torch.linalg.matrix_rank(out.detach().double()) == 12


def test_radial_rejects_bad_arguments():
    """Non-positive cutoff, zero basis functions or an unknown basis raise ValueError."""
    for args in [(8, 0.0), (0, 5.0), (8, 5.0, "gauss")]:
        with pytest.raises(ValueError):
            RadialEmbedding(*args)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_sinusoidal_shape_dtype_and_norm(dtype):
    """emb(t) has shape [..., D], t's dtype, |emb|^2 = D/2 and emb(0) = [1]*D/2 + [0]*D/2."""
    t = torch.rand(4, 5, dtype=dtype)
    emb = sinusoidal_embedding(t, 32)
    assert emb.shape == (4, 5, 32) and emb.dtype == dtype
    assert torch.allclose(emb.pow(2).sum(-1), torch.full((4, 5), 16.0, dtype=dtype), atol=1e-5)
    zero = sinusoidal_embedding(torch.zeros(1, dtype=dtype), 8)
    assert zero.tolist() == [[1.0] * 4 + [0.0] * 4]


def test_sinusoidal_distinct_times_distinct_embeddings():
    """1001 times on [0, 1] give embeddings at pairwise distance > 0.1 (no aliasing)."""
    t = torch.linspace(0, 1, 1001, dtype=torch.float64)
    emb = sinusoidal_embedding(t, 64)
    dist = torch.cdist(emb, emb) + torch.eye(1001, dtype=torch.float64) * 1e3
    assert dist.min() > 0.1


def test_sinusoidal_rejects_odd_dim_and_integer_t():
    """An odd dim or an integer t raise ValueError."""
    with pytest.raises(ValueError):
        sinusoidal_embedding(torch.rand(3), 7)
    with pytest.raises(ValueError):
        sinusoidal_embedding(torch.arange(3), 8)
