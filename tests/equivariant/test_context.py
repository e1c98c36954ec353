"""Tests for equivariant.context.GraphContext: identity at initialisation, O(3) equivariance,
one summary per graph."""

from __future__ import annotations

import pytest
import torch
from e3nn import o3

from equivariant.context import GraphContext

IRREPS = o3.Irreps("8x0e + 3x1o + 2x1e + 1x0e")


def _nodes(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(30, IRREPS.dim, generator=gen, dtype=torch.float64)
    batch = torch.repeat_interleave(torch.arange(3), torch.tensor([5, 10, 15]))
    return x, batch


def _trained(seed: int = 1) -> GraphContext:
    layer = GraphContext(IRREPS, 16).double()
    torch.manual_seed(seed)
    for p in layer.parameters():
        torch.nn.init.normal_(p)
    return layer


def test_identity_at_initialisation():
    """A fresh layer returns its input exactly (zero-initialised last linear map)."""
    x, batch = _nodes()
    assert torch.equal(GraphContext(IRREPS).double()(x, batch), x)


def test_equivariant_under_rotations_and_inversion():
    """f(D(g) x) = D(g) f(x) for random rotations with and without inversion (float64)."""
    x, batch = _nodes()
    layer = _trained()
    for parity in (1, -1):
        rot = o3.rand_matrix(dtype=torch.float64) * parity
        d = IRREPS.D_from_matrix(rot)
        assert (layer(x @ d.T, batch) - layer(x, batch) @ d.T).abs().max() < 1e-10


def test_only_scalars_change_and_graphs_stay_apart():
    """Vector channels pass through unchanged; changing a node of graph 0 changes the output of
    every node of graph 0 (the pooled summary) and of no node of graphs 1 and 2."""
    x, batch = _nodes()
    layer = _trained()
    out = layer(x, batch)
    vectors = torch.ones(IRREPS.dim, dtype=torch.bool)
    vectors[layer.scalar_index] = False
    assert torch.equal(out[:, vectors], x[:, vectors])
    moved = x.clone()
    moved[0, 0] += 1.0
    diff = (layer(moved, batch) - out).abs().amax(-1)
    assert (diff[batch == 0] > 0).all() and (diff[batch > 0] == 0).all()


def test_needs_scalars():
    """Irreps without 0e are refused with ValueError."""
    with pytest.raises(ValueError, match="0e"):
        GraphContext("4x1o")
