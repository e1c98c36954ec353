"""Tests for equivariant.heads: vectors flip like vectors, pseudoscalars flip sign, 0e invariant."""

from __future__ import annotations

import pytest
import torch
from equivariant_helpers import NODE_IRREPS, TinyNetwork

from equivariant.dtype import default_dtype
from equivariant.heads import BondPseudoscalarHead, PseudoscalarHead, ScalarHead, VectorHead
from equivariant.testing import assert_equivariant

DTYPES = [torch.float32, torch.float64]


class _Heads(torch.nn.Module):
    """TinyNetwork features -> (2 vectors, 1 pseudoscalar, 1 scalar), flattened per node."""

    def __init__(self):
        super().__init__()
        self.net = TinyNetwork()
        self.vector = VectorHead(NODE_IRREPS, num_vectors=2)
        self.pseudo = PseudoscalarHead(NODE_IRREPS)
        self.scalar = ScalarHead(NODE_IRREPS)

    def forward(self, pos, node_scalars, batch):
        h = self.net(pos, node_scalars, batch)
        return self.vector(h).reshape(len(h), 6), self.pseudo(h), self.scalar(h)


@pytest.mark.parametrize("dtype", DTYPES)
def test_heads_on_real_chains(ca_batch, dtype):
    """From real CA positions: vectors (1o) rotate and flip under inversion like positions,
    the pseudoscalar (0o) is invariant under rotation and flips sign under reflection, the
    scalar (0e) is invariant; all permute with the nodes."""
    torch.manual_seed(0)
    pos, batch = ca_batch
    keep = batch == 0  # one chain; test_conv covers a two-chain batch
    inputs = [
        (pos[keep], "positions"),
        (torch.randn(int(keep.sum()), 8), "8x0e"),
        (batch[keep], "batch"),
    ]
    with default_dtype(dtype):
        heads = _Heads()
    errors = assert_equivariant(heads, inputs, ["2x1o", "0o", "0e"], n_trials=2, dtype=dtype)
    assert set(errors) == {"rotation", "translation", "reflection", "permutation"}


def test_vector_and_pseudoscalar_flip_under_inversion():
    """Under x -> D(-I) x: vectors -> -vectors, pseudoscalars -> -pseudoscalars, 0e unchanged."""
    torch.manual_seed(0)
    with default_dtype(torch.float64):
        vec, pseudo, scalar = (
            VectorHead(NODE_IRREPS, 3),
            PseudoscalarHead(NODE_IRREPS, 2),
            ScalarHead(NODE_IRREPS),
        )
        inversion = NODE_IRREPS.D_from_matrix(-torch.eye(3))
    x = torch.randn(7, NODE_IRREPS.dim, dtype=torch.float64)
    assert vec(x).shape == (7, 3, 3) and pseudo(x).shape == (7, 2) and scalar(x).shape == (7, 1)
    assert torch.allclose(vec(x @ inversion.T), -vec(x), atol=1e-12)
    assert torch.allclose(pseudo(x @ inversion.T), -pseudo(x), atol=1e-12)
    assert torch.allclose(scalar(x @ inversion.T), scalar(x), atol=1e-12)
    assert pseudo(x).abs().min() > 0 and vec(x).abs().min() > 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_bond_pseudoscalar_head(dtype):
    """Bond pseudoscalars are E(3)-invariant up to the reflection sign and symmetric under
    swapping the two atoms of each bond."""
    torch.manual_seed(0)
    with default_dtype(dtype):
        head = BondPseudoscalarHead(NODE_IRREPS, num=2)
    pos = torch.randn(10, 3) * 2
    h = torch.randn(10, NODE_IRREPS.dim)
    bonds = torch.tensor([[0, 1, 2, 5, 7], [1, 2, 3, 6, 9]])
    inputs = [(h, NODE_IRREPS), (pos, "positions"), (bonds, "edge_index")]
    assert_equivariant(head, inputs, "edge:2x0o", n_trials=5, dtype=dtype)
    out = head(h.to(dtype), pos.to(dtype), bonds)
    assert out.abs().min() > 0
    swapped = head(h.to(dtype), pos.to(dtype), bonds.flip(0))
    assert torch.allclose(swapped, out, atol=1e-5 if dtype == torch.float32 else 1e-12)


def test_heads_reject_inputs_without_the_needed_irreps():
    """A head whose irrep is absent from irreps_in raises ValueError naming the irreps."""
    with pytest.raises(ValueError, match="0o"):
        PseudoscalarHead("8x0e + 2x1o")
    with pytest.raises(ValueError, match="1o"):
        VectorHead("8x0e + 2x1e")
    with pytest.raises(ValueError, match="0o"):
        BondPseudoscalarHead("8x0e", lmax=2)
    assert repr(VectorHead("2x1o", 3)) == "VectorHead(2x1o -> 3x1o)"


def test_head_gradients_are_finite(ca_batch):
    """Gradients of all head outputs w.r.t. positions and parameters are finite."""
    torch.manual_seed(0)
    pos, batch = ca_batch
    pos = pos[batch == 0].float().requires_grad_(True)
    heads = _Heads()
    out = heads(pos, torch.randn(len(pos), 8), None)
    sum(o.pow(2).sum() for o in out).backward()
    assert torch.isfinite(pos.grad).all() and pos.grad.abs().max() > 0
    assert all(torch.isfinite(p.grad).all() for p in heads.parameters() if p.grad is not None)
