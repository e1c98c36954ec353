"""Tests for equivariant.testing: the harness passes equivariant maps and catches broken ones."""

from __future__ import annotations

import pytest
import torch

from equivariant.testing import (
    assert_equivariant,
    permute_edge_index,
    random_node_permutation,
)


def _cloud(n=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, generator=g, dtype=torch.float64)


def _cross(u, v):
    return torch.cross(u, v, dim=-1)


def test_cross_product_is_a_pseudovector():
    """u x v of two 1o vectors passes as 1e and fails as 1o, only under reflection."""
    u, v = _cloud(seed=1), _cloud(seed=2)
    errors = assert_equivariant(_cross, [(u, "1o"), (v, "1o")], "1e")
    assert set(errors) == {"rotation", "reflection", "permutation"}
    assert max(max(e) for e in errors.values()) < 1e-12
    assert_equivariant(
        _cross, [(u, "1o"), (v, "1o")], "1o", symmetries=("rotation", "translation", "permutation")
    )
    with pytest.raises(AssertionError, match=r"reflection: out\[0\] \(1o\) [1-9]"):
        assert_equivariant(_cross, [(u, "1o"), (v, "1o")], "1o")


def test_triple_product_is_a_pseudoscalar():
    """(u x v) . w passes as 0o, fails as 0e; |u| passes as 0e."""
    u, v, w = _cloud(seed=1), _cloud(seed=2), _cloud(seed=3)

    def triple(u, v, w):
        return (_cross(u, v) * w).sum(-1, keepdim=True)

    inputs = [(u, "1o"), (v, "1o"), (w, "1o")]
    assert_equivariant(triple, inputs, "0o")
    with pytest.raises(AssertionError, match="reflection"):
        assert_equivariant(triple, inputs, "0e")
    assert_equivariant(lambda u: u.norm(dim=-1, keepdim=True), [(u, "1o")], "0e")


def test_adding_a_fixed_vector_fails():
    """x + c for a fixed vector c is not rotation equivariant: AssertionError."""
    c = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    with pytest.raises(AssertionError, match="rotation"):
        assert_equivariant(
            lambda x: x + c,
            [(_cloud(), "1o")],
            "1o",
            symmetries=("rotation", "translation", "permutation"),
        )


def test_positions_translate_and_vectors_do_not():
    """x - mean(x) passes as 1o from positions; x itself declared 1o fails under translation."""
    pos = _cloud()
    errors = assert_equivariant(lambda x: x - x.mean(0), [(pos, "positions")], "1o")
    assert "translation" in errors
    assert_equivariant(lambda x: 2 * x - x.mean(0), [(pos, "positions")], "positions")
    with pytest.raises(AssertionError, match="translation"):
        assert_equivariant(lambda x: x, [(pos, "positions")], "1o")


def test_node_order_dependence_fails_permutation():
    """A cumulative sum over nodes is rotation equivariant but fails the permutation test."""
    with pytest.raises(AssertionError, match="permutation"):
        assert_equivariant(lambda x: x.cumsum(0), [(_cloud(), "1o")], "1o")
    assert_equivariant(
        lambda x: x.cumsum(0),
        [(_cloud(), "1o")],
        "1o",
        symmetries=("rotation", "translation", "reflection"),
    )


def test_edge_inputs_are_remapped_under_permutation():
    """Sum of incoming edge vectors x_j - x_i is equivariant given (positions, edge_index)."""
    pos = _cloud(10)
    edge_index = torch.randint(0, 10, (2, 40), generator=torch.Generator().manual_seed(0))

    def incoming(pos, edge_index):
        vec = pos[edge_index[0]] - pos[edge_index[1]]
        return torch.zeros_like(pos).index_add_(0, edge_index[1], vec)

    assert_equivariant(
        incoming, {"pos": (pos, "positions"), "edge_index": (edge_index, "edge_index")}, "1o"
    )
    # The same edges declared "fixed" (not remapped) break permutation equivariance.
    with pytest.raises(AssertionError, match="permutation"):
        assert_equivariant(incoming, [(pos, "positions"), (edge_index, "fixed")], "1o")


def test_float32_tolerance_and_module_cast():
    """A float64-built Linear is cast to float32 by the harness and passes at 1e-4."""
    from e3nn import o3

    lin = o3.Linear("4x0e + 3x1o", "2x1o")
    x = torch.randn(6, lin.irreps_in.dim)
    errors = assert_equivariant(lin, [(x, lin.irreps_in)], lin.irreps_out, dtype=torch.float32)
    assert 0 < max(errors["rotation"]) < 1e-4
    assert next(lin.parameters()).dtype == torch.float32  # the caller's module is untouched


def test_permutation_helpers():
    """random_node_permutation keeps a sorted batch; permute_edge_index maps edge (j, i) of the
    old graph to (inv[j], inv[i]) so that new node inv[i] is old node i."""
    batch = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2])
    perm = random_node_permutation(9, batch, torch.Generator().manual_seed(0))
    assert torch.equal(batch[perm], batch) and not torch.equal(perm, torch.arange(9))
    edge_index = torch.tensor([[0, 3, 8], [1, 4, 5]])
    new = permute_edge_index(edge_index, perm)
    assert torch.equal(perm[new], edge_index)


def test_bad_kind_raises():
    """A kind that is neither a named kind nor irreps, or a shape mismatch, raises ValueError."""
    with pytest.raises(ValueError):
        assert_equivariant(lambda x: x, [(_cloud(), "vector")], "1o")
    with pytest.raises(ValueError):
        assert_equivariant(lambda x: x, [(_cloud(), "2x1o")], "2x1o")
