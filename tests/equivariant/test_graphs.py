"""Tests for equivariant.graphs: radius / k-NN graphs against an O(N^2) brute force."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from equivariant.graphs import edge_vectors, knn_graph, radius_graph


def _brute_force(pos, batch, loop, r=None, k=None):
    """Reference edges from the full N x N distance matrix, sorted by (target, d, source)."""
    pos, batch = pos.numpy(), batch.numpy()
    d2 = ((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1)  # [N, N], d2[i, j]
    mask = batch[:, None] == batch[None, :]  # [N, N]
    if not loop:
        np.fill_diagonal(mask, False)
    if r is not None:
        mask &= d2 < r * r
    src, tgt = [], []
    for i in range(len(pos)):
        js = np.flatnonzero(mask[i])
        js = js[np.lexsort((js, d2[i, js]))][:k]
        src += js.tolist()
        tgt += [i] * len(js)
    return torch.tensor([src, tgt], dtype=torch.long).reshape(2, -1)


def _random_batch(sizes, seed, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    pos = torch.randn(sum(sizes), 3, generator=g, dtype=torch.float64) * scale
    batch = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    return pos, batch


@pytest.mark.parametrize("loop", [False, True])
def test_radius_graph_matches_brute_force_on_random_clouds(loop):
    """radius_graph == brute force (same edges, same order) for 4 graphs of sizes 1..40."""
    pos, batch = _random_batch([7, 1, 40, 23], seed=0)
    out = radius_graph(pos, 3.0, batch, loop=loop, chunk_size=16)
    assert out.shape[1] > 50
    assert torch.equal(out, _brute_force(pos, batch, loop, r=3.0))


@pytest.mark.parametrize("loop", [False, True])
@pytest.mark.parametrize("k", [1, 5, 12])
def test_knn_graph_matches_brute_force_on_random_clouds(k, loop):
    """knn_graph == brute force; graphs smaller than k give min(k, n_g - 1) neighbours."""
    pos, batch = _random_batch([7, 1, 40, 23], seed=1)
    out = knn_graph(pos, k, batch, loop=loop, chunk_size=16)
    assert torch.equal(out, _brute_force(pos, batch, loop, k=k))
    per_target = torch.bincount(out[1], minlength=len(pos))
    sizes = torch.bincount(batch)[batch]
    assert torch.equal(per_target, torch.clamp(sizes - (0 if loop else 1), max=k))


def test_radius_graph_matches_brute_force_on_real_chains(ca_batch):
    """On CA atoms of 6 real chains (10 A cutoff) radius_graph == brute force."""
    pos, batch = ca_batch
    out = radius_graph(pos, 10.0, batch)
    assert torch.equal(out, _brute_force(pos, batch, False, r=10.0))
    # Consecutive CA atoms (3.8 A apart) are always neighbours.
    assert ((out[0] - out[1]).abs() == 1).sum() >= 2 * (len(pos) - 6) - 2


def test_knn_graph_matches_brute_force_on_real_chains(ca_batch):
    """On CA atoms of 6 real chains knn_graph(k=16) == brute force."""
    pos, batch = ca_batch
    assert torch.equal(knn_graph(pos, 16, batch), _brute_force(pos, batch, False, k=16))


def test_output_does_not_depend_on_chunk_size(ca_batch):
    """chunk_size 7 and 4096 give identical edge_index for both builders."""
    pos, batch = ca_batch
    assert torch.equal(radius_graph(pos, 8.0, batch, chunk_size=7), radius_graph(pos, 8.0, batch))
    assert torch.equal(knn_graph(pos, 10, batch, chunk_size=7), knn_graph(pos, 10, batch))


def test_max_num_neighbors_keeps_the_nearest():
    """radius_graph(max_num_neighbors=m) == the m nearest sources within r (brute force)."""
    pos, batch = _random_batch([30, 25], seed=2)
    ref = _brute_force(pos, batch, False, r=4.0)
    dist_rank = [0] * ref.shape[1]
    for e in range(1, ref.shape[1]):
        dist_rank[e] = dist_rank[e - 1] + 1 if ref[1, e] == ref[1, e - 1] else 0
    expected = ref[:, torch.tensor(dist_rank) < 4]
    assert torch.equal(radius_graph(pos, 4.0, batch, max_num_neighbors=4), expected)


def test_edge_convention_is_source_to_target():
    """Points at x = 0, 1, 3 with k = 1: edges 1->0, 0->1, 1->2 (source row 0, target row 1)."""
    pos = torch.tensor([[0.0, 0, 0], [1.0, 0, 0], [3.0, 0, 0]])
    edge_index = knn_graph(pos, 1)
    assert edge_index.tolist() == [[1, 0, 1], [0, 1, 2]]
    assert edge_vectors(pos, edge_index)[:, 0].tolist() == [1.0, -1.0, -2.0]


def test_float32_and_empty_inputs():
    """float32 positions give the float64 edges; zero nodes give a [2, 0] edge_index."""
    pos, batch = _random_batch([20, 20], seed=3)
    out32 = knn_graph(pos.float(), 4, batch)
    assert out32.dtype == torch.long
    assert torch.equal(out32, knn_graph(pos.float().double(), 4, batch))
    assert radius_graph(torch.zeros(0, 3), 1.0).shape == (2, 0)


def test_bad_batch_raises():
    """An unsorted batch vector, a wrong-length batch or a bad shape raise ValueError."""
    pos = torch.randn(4, 3)
    with pytest.raises(ValueError, match="sorted"):
        radius_graph(pos, 1.0, torch.tensor([0, 1, 0, 1]))
    with pytest.raises(ValueError, match="batch"):
        knn_graph(pos, 2, torch.tensor([0, 0, 1]))
    with pytest.raises(ValueError, match="pos"):
        knn_graph(torch.randn(4, 2), 2)


@pytest.mark.parametrize("k", [1, 5, 7])
def test_knn_graph_breaks_distance_ties_by_source_index(k):
    """On an integer lattice (many equal distances) knn_graph == brute force, whose ties go to
    the lower source index, including ties at the k-th distance."""
    g = torch.Generator().manual_seed(3)
    pos = torch.randint(0, 3, (60, 3), generator=g).double()
    batch = torch.cat([torch.zeros(25, dtype=torch.long), torch.ones(35, dtype=torch.long)])
    assert torch.equal(knn_graph(pos, k, batch), _brute_force(pos, batch, False, k=k))


def test_random_distance_graph_stays_in_graph_and_favours_near_sources():
    """random_distance_graph: edges stay within their graph, never self-loops, at most num per
    target; over many draws on a real-sized cloud the chosen sources are nearer than uniform
    candidates (mean d^-3 weight higher), and the same generator seed gives the same edges."""
    from equivariant.graphs import random_distance_graph

    pos, batch = _random_batch([60, 1, 90], seed=3, scale=10.0)
    edges = random_distance_graph(pos, 6, batch, torch.Generator().manual_seed(0))
    src, tgt = edges
    assert (batch[src] == batch[tgt]).all() and (src != tgt).all()
    assert torch.bincount(tgt, minlength=len(pos)).max() <= 6
    assert (tgt == 60).sum() == 0  # the one-node graph has no edges
    again = random_distance_graph(pos, 6, batch, torch.Generator().manual_seed(0))
    assert torch.equal(edges, again)
    d_pick = (pos[src] - pos[tgt]).norm(dim=-1)
    same = (batch[:, None] == batch[None, :]) & ~torch.eye(len(pos), dtype=torch.bool)
    d_all = (pos[:, None] - pos[None, :]).norm(dim=-1)[same]
    assert d_pick.median() < 0.8 * d_all.median()


def test_random_distance_graph_draw_matches_its_weights():
    """For one target with 3 sources at distances 1, 2, 4 (candidates = many), the empirical
    frequency of the single kept edge matches d^-3 / sum d^-3 (within 0.02 over 4000 draws)."""
    from equivariant.graphs import random_distance_graph

    pos = torch.tensor([[0.0, 0, 0], [1.0, 0, 0], [0, 2.0, 0], [0, 0, 4.0]], dtype=torch.float64)
    gen = torch.Generator().manual_seed(1)
    counts = torch.zeros(4)
    for _ in range(4000):
        edges = random_distance_graph(pos, 1, generator=gen, candidates=64)
        counts[edges[0, edges[1] == 0]] += 1
    w = torch.tensor([0.0, 1.0, 1 / 8, 1 / 64])
    assert (counts / counts.sum() - w / w.sum()).abs().max() < 0.02
