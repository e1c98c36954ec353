"""Tests for equivariant.norm: equivariant layer norm."""

from __future__ import annotations

import pytest
import torch
from e3nn import o3

from equivariant.norm import EquivariantLayerNorm
from equivariant.testing import assert_equivariant

IRREPS = o3.Irreps("8x0e + 4x1o + 4x1e + 3x0o + 2x2e")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_layer_norm_is_o3_and_permutation_equivariant(dtype):
    """norm(D(Q) x) == D(Q) norm(x) for rotations and reflections; rows permute."""
    torch.manual_seed(0)
    norm = EquivariantLayerNorm(IRREPS)
    torch.nn.init.normal_(norm.weight)
    torch.nn.init.normal_(norm.bias)
    x = torch.randn(10, IRREPS.dim) * 3
    assert_equivariant(norm, [(x, IRREPS)], IRREPS, n_trials=5, dtype=dtype)


def test_layer_norm_statistics():
    """Without affine change: 0e blocks have mean 0 and mean square 1 per node; other blocks
    have mean squared component 1; the result does not depend on a positive scale of x."""
    norm = EquivariantLayerNorm(IRREPS, eps=0.0).double()
    x = torch.randn(5, IRREPS.dim, dtype=torch.float64) * 7 + 2
    y = norm(x)
    for (_mul, ir), sl in zip(IRREPS, IRREPS.slices(), strict=True):
        block = y[:, sl]
        assert torch.allclose(block.pow(2).mean(-1), torch.ones(5, dtype=torch.float64))
        if ir == o3.Irrep("0e"):
            assert torch.allclose(block.mean(-1), torch.zeros(5, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(norm(3.5 * x), y, atol=1e-12)


def test_layer_norm_bad_irreps():
    """A bad irreps string raises ValueError naming it; repr prints irreps_in -> irreps_out."""
    with pytest.raises(ValueError, match="4xq"):
        EquivariantLayerNorm("4xq")
    assert "->" in repr(EquivariantLayerNorm("2x0e"))
