"""Tests for molgen.geometry.rigid: composition, inversion, application."""

from __future__ import annotations

import pytest
import torch

from molgen.geometry import (
    apply_rigid,
    compose_rigid,
    invert_apply_rigid,
    invert_rigid,
    random_rotation,
)


def _random_rigid(shape, dtype, seed):
    g = torch.Generator().manual_seed(seed)
    return random_rotation(*shape, dtype=dtype, generator=g), torch.randn(
        *shape, 3, dtype=dtype, generator=g
    ) * 10


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape", [(7,), (2, 5)])
def test_compose_is_function_composition(shape, dtype):
    """(T1 o T2)(p) == T1(T2(p)) for any batch shape."""
    r1, x1 = _random_rigid(shape, dtype, 0)
    r2, x2 = _random_rigid(shape, dtype, 1)
    p = torch.randn(*shape, 3, dtype=dtype)
    r, x = compose_rigid(r1, x1, r2, x2)
    tol = 1e-4 if dtype == torch.float32 else 1e-12
    assert torch.allclose(
        apply_rigid(r, x, p), apply_rigid(r1, x1, apply_rigid(r2, x2, p)), atol=tol
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_inverse_undoes_transform(dtype):
    """T^-1(T(p)) == p, invert_apply == apply of the inverse, and T o T^-1 == identity."""
    r, x = _random_rigid((6,), dtype, 2)
    p = torch.randn(6, 9, 3, dtype=dtype)  # a group of 9 points per transform
    tol = 1e-4 if dtype == torch.float32 else 1e-12
    assert torch.allclose(invert_apply_rigid(r, x, apply_rigid(r, x, p)), p, atol=tol)
    ri, xi = invert_rigid(r, x)
    assert torch.allclose(apply_rigid(ri, xi, p), invert_apply_rigid(r, x, p), atol=tol)
    rc, xc = compose_rigid(r, x, ri, xi)
    assert torch.allclose(rc, torch.eye(3, dtype=dtype).expand_as(rc), atol=tol)
    assert xc.abs().max() < tol * 10


def test_inputs_not_modified():
    """The functions return new tensors and leave their inputs untouched."""
    r, x = _random_rigid((4,), torch.float64, 3)
    p = torch.randn(4, 3, dtype=torch.float64)
    copies = [t.clone() for t in (r, x, p)]
    apply_rigid(r, x, p)
    invert_rigid(r, x)
    compose_rigid(r, x, r, x)
    assert all(torch.equal(a, b) for a, b in zip(copies, (r, x, p), strict=True))


def test_frames_batch_like_a_tensor_and_compose_as_transforms():
    """Frames: indexing acts on all parts, compose/apply equal compose_rigid/apply_rigid, and
    where() keeps the unmasked residues of the other frames."""
    from molgen.geometry import Frames, compose_rigid, random_rotation

    g = torch.Generator().manual_seed(0)
    rot = random_rotation(2, 4, dtype=torch.float64, generator=g)
    x = torch.randn(2, 4, 3, dtype=torch.float64, generator=g)
    mask = torch.tensor([[True, True, True, False], [True, True, False, False]])
    f = Frames(rot, x, mask)
    assert f.shape == (2, 4) and f[1].shape == (4,) and torch.equal(f[1].mask, mask[1])
    both = f.compose(f)
    ref = compose_rigid(rot, x, rot, x)
    assert torch.equal(both.rotations, ref[0]) and torch.equal(both.translations, ref[1])
    p = torch.randn(2, 4, 3, dtype=torch.float64, generator=g)
    assert torch.allclose(f.apply(p), (rot @ p[..., None])[..., 0] + x)
    other = Frames(torch.eye(3, dtype=torch.float64).expand(2, 4, 3, 3), torch.zeros(2, 4, 3))
    mixed = f.where(mask, other)
    assert torch.equal(mixed.translations[~mask], torch.zeros(3, 3, dtype=torch.float64))
    assert torch.equal(mixed.translations[mask], x[mask])
