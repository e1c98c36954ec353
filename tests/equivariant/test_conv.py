"""Tests for equivariant.conv: the tensor-product convolution is E(3) and permutation
equivariant, handles parity, and its aggregation and residual behave as documented."""

from __future__ import annotations

import pytest
import torch
from e3nn import o3
from equivariant_helpers import NODE_IRREPS, SH_IRREPS, TinyNetwork

from equivariant.conv import TensorProductConv
from equivariant.dtype import default_dtype
from equivariant.testing import assert_equivariant

CONFIGS = {
    "gate+norm": dict(irreps_out=NODE_IRREPS),
    "mixed-order-out": dict(irreps_out="3x1o + 8x0e + 1x2e + 2x0o", aggregate="sum"),
    "plain": dict(irreps_out=NODE_IRREPS, parts=()),
}


def _graph(n=14, e=50, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, NODE_IRREPS.dim, generator=g)
    edge_index = torch.randint(0, n, (2, e), generator=g)
    sh = torch.randn(e, SH_IRREPS.dim, generator=g)
    scalars = torch.randn(e, 8, generator=g)
    return x, edge_index, sh, scalars


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("config", list(CONFIGS))
def test_conv_is_o3_and_permutation_equivariant(config, dtype):
    """conv(D x, edges, D_sh Y, e) == D conv(x, edges, Y, e) for Q in O(3); nodes permute."""
    torch.manual_seed(0)
    with default_dtype(dtype):
        conv = TensorProductConv(NODE_IRREPS, SH_IRREPS, edge_scalar_dim=8, **CONFIGS[config])
    x, edge_index, sh, scalars = _graph()
    inputs = [
        (x, NODE_IRREPS),
        (edge_index, "edge_index"),
        (sh, f"edge:{SH_IRREPS}"),
        (scalars, "edge:8x0e"),
    ]
    errors = assert_equivariant(conv, inputs, conv.irreps_out, n_trials=5, dtype=dtype)
    assert max(errors["reflection"]) > 0  # the output has odd parts that did move


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_network_on_real_chains_is_e3_equivariant(ca_batch, dtype):
    """From real CA positions (2 chains): radius graph + 2 convs commute with rotations,
    translations, reflections (0e invariant, 1o / 1e / 0o transform by parity) and
    permutations within each chain."""
    torch.manual_seed(0)
    pos, batch = ca_batch
    keep = batch < 2
    node_scalars = torch.randn(int(keep.sum()), 8)
    inputs = [(pos[keep], "positions"), (node_scalars, "8x0e"), (batch[keep], "batch")]
    with default_dtype(dtype):
        net = TinyNetwork()
    assert_equivariant(net, inputs, NODE_IRREPS, n_trials=2, dtype=dtype)


def test_gradients_are_finite(ca_batch):
    """d(loss)/d(pos) and d(loss)/d(params) are finite through graph, embeddings and convs."""
    torch.manual_seed(0)
    pos, batch = ca_batch
    pos = pos[batch == 0].float().requires_grad_(True)
    net = TinyNetwork()
    out = net(pos, torch.randn(len(pos), 8), None)
    out.pow(2).sum().backward()
    assert torch.isfinite(pos.grad).all() and pos.grad.abs().max() > 0
    assert all(torch.isfinite(p.grad).all() for p in net.parameters() if p.grad is not None)


def test_node_without_edges_keeps_its_residual():
    """With no incoming edges the output is norm(x + 0): the gate maps 0 messages to 0."""
    torch.manual_seed(0)
    with default_dtype(torch.float64):
        conv = TensorProductConv(NODE_IRREPS, SH_IRREPS, NODE_IRREPS, 8)
    x, edge_index, sh, scalars = (t.double() if t.is_floating_point() else t for t in _graph())
    edge_index[1] = edge_index[1].clamp(max=12)  # node 13 receives nothing
    out = conv(x, edge_index, sh, scalars)
    assert torch.allclose(out[13], conv.norm(x[13:14])[0], atol=1e-12)
    assert not torch.allclose(out[0], conv.norm(x[0:1])[0], atol=1e-3)


def test_mean_and_sum_aggregation():
    """Doubling every edge leaves mean aggregation unchanged and doubles the summed messages."""
    torch.manual_seed(0)
    x, edge_index, sh, scalars = (t.double() if t.is_floating_point() else t for t in _graph())
    twice = (edge_index.repeat(1, 2), sh.repeat(2, 1), scalars.repeat(2, 1))
    opts = dict(parts=())
    mean = TensorProductConv(NODE_IRREPS, SH_IRREPS, NODE_IRREPS, 8, **opts).double()
    assert torch.allclose(mean(x, edge_index, sh, scalars), mean(x, *twice), atol=1e-12)
    total = TensorProductConv(NODE_IRREPS, SH_IRREPS, NODE_IRREPS, 8, aggregate="sum", **opts)
    total = total.double()
    assert torch.allclose(2 * total(x, edge_index, sh, scalars), total(x, *twice), atol=1e-12)


def test_messages_depend_on_target_scalars():
    """Changing only target i's 0e features changes its incoming messages (weight MLP input)."""
    torch.manual_seed(0)
    conv = TensorProductConv(NODE_IRREPS, SH_IRREPS, NODE_IRREPS, 8, parts=("gate",))
    x = torch.randn(2, NODE_IRREPS.dim)
    args = (torch.tensor([[0], [1]]), torch.randn(1, SH_IRREPS.dim), torch.randn(1, 8))
    y = x.clone()
    y[1, :16] += 1.0  # the 16x0e block of the target
    assert not torch.allclose(conv(x, *args)[1], conv(y, *args)[1])


def test_bad_irreps_and_repr():
    """Bad irreps raise ValueError naming the argument; repr shows irreps_in -> irreps_out."""
    with pytest.raises(ValueError, match="irreps_out"):
        TensorProductConv("4x0e", SH_IRREPS, "3xfoo", 8)
    with pytest.raises(ValueError, match="aggregate"):
        TensorProductConv("4x0e", SH_IRREPS, "4x0e", 8, aggregate="max")
    conv = TensorProductConv("4x0e", SH_IRREPS, "4x0e + 1x1o", 8)
    assert repr(conv) == "TensorProductConv(4x0e -> 4x0e+1x1o)"
    assert conv.irreps_out == o3.Irreps("4x0e + 1x1o")
