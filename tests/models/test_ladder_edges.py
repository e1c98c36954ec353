"""Ladder edge updates (molgen.models.ladder): the diagonal lookup against a brute force on
real chains, what an update reads, and the network built with them (equivariance, identity
at initialisation)."""

from __future__ import annotations

import pytest
import torch
from models_helpers import SMALL_CONFIG, noised_batch, short_chains

from equivariant.dtype import default_dtype
from molgen.geometry import random_rotation
from molgen.models import FrameScoreNetwork, FrameScoreNetworkConfig
from molgen.models.ladder import DIAGONALS, LadderEdgeUpdate, ladder_diagonals
from molgen.models.residue_graph import residue_edges


def _real_graph(val_backbones) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Edges, chain and residue numbers of two real val chains, the second with a gap of
    three residues after its 20th (the residue numbers jump; the CA atoms stay)."""
    chains = short_chains(val_backbones, 2)
    ca = torch.cat([torch.as_tensor(c[:, 1]) for c in chains])
    batch = torch.cat([torch.full((len(c),), b) for b, c in enumerate(chains)])
    res = torch.cat([torch.arange(len(c)) for c in chains])
    second = batch == 1
    res[second] = torch.where(res[second] >= 20, res[second] + 3, res[second])
    return residue_edges(ca, batch, res, k=12, seq_neighbours=2), batch, res


def test_ladder_diagonals_match_brute_force(val_backbones):
    """Every diagonal edge id names the edge (j + dj -> i + di) of the same chain, residue
    numbers (not node order) deciding who is i + 1; -1 exactly where that edge is absent,
    across chain ends and the gap."""
    edges, batch, res = _real_graph(val_backbones)
    found = ladder_diagonals(edges, batch, res)
    node_of = {(int(b), int(r)): n for n, (b, r) in enumerate(zip(batch, res, strict=True))}
    edge_of = {(int(s), int(t)): e for e, (s, t) in enumerate(edges.T.tolist())}
    hits = 0
    for e, (src, tgt) in enumerate(edges.T.tolist()):
        chain = int(batch[tgt])
        for column, (di, dj) in enumerate(DIAGONALS):
            i2 = node_of.get((chain, int(res[tgt]) + di))
            j2 = node_of.get((chain, int(res[src]) + dj))
            expected = -1 if i2 is None or j2 is None else edge_of.get((j2, i2), -1)
            assert int(found[e, column]) == expected, (e, column)
            hits += expected >= 0
    assert hits > len(edges.T), "a real chain's graph holds most diagonals"


def test_update_reads_its_own_state_and_diagonals_only(val_backbones):
    """With random weights, changing one edge's state changes the update of that edge and
    of the edges that have it as a diagonal, and of no other edge."""
    edges, batch, res = _real_graph(val_backbones)
    diagonals = ladder_diagonals(edges, batch, res)
    torch.manual_seed(0)
    update = LadderEdgeUpdate(edge_dim=8, num_scalars=4, hidden_dim=16).double()
    for p in update.parameters():
        torch.nn.init.normal_(p, std=0.5)
    e = torch.randn(edges.shape[1], 8, dtype=torch.float64)
    h = torch.randn(len(res), 6, dtype=torch.float64)
    probe = int(diagonals[:, 0].max())  # an edge that is somebody's diagonal
    moved = e.clone()
    moved[probe] += 1.0
    with torch.no_grad():
        changed = (update(moved, h, edges, diagonals) - update(e, h, edges, diagonals)).abs()
    changed = changed.amax(-1) > 1e-12
    readers = (diagonals == probe).any(-1)
    readers[probe] = True
    assert readers.sum() > 1
    assert torch.equal(changed, readers)


def _ladder_network(dtype: torch.dtype, trained: bool) -> FrameScoreNetwork:
    """SMALL_CONFIG with ladder edge updates, given random weights if ``trained``."""
    config = FrameScoreNetworkConfig(**{**SMALL_CONFIG.to_dict(), "ladder_edges": True})
    torch.manual_seed(0)
    with default_dtype(dtype):
        net = FrameScoreNetwork(config).eval()
    if trained:
        with torch.no_grad():
            for name, p in net.named_parameters():
                if name.startswith("ladders"):
                    p.normal_(0, 0.3)
    return net


@pytest.mark.parametrize(("dtype", "atol"), [(torch.float32, 2e-4), (torch.float64, 1e-9)])
def test_ladder_network_equivariant(val_backbones, dtype, atol):
    """With trained-like ladder updates: x0 -> Q x0 + b, trans_score -> Q trans_score,
    rot_score and psi unchanged under 5 random rigid motions of 3 noised real chains."""
    net = _ladder_network(dtype, trained=True)
    inp = noised_batch(short_chains(val_backbones, 3), [0.1, 0.4, 0.8], dtype)
    m = inp["mask"][..., None]
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        ref = net.scores(inp["R"], inp["x"], inp["t"], inp["mask"])
        for _ in range(5):
            q = random_rotation(dtype=dtype, generator=gen)
            shift = 10 * torch.randn(3, dtype=dtype, generator=gen)
            out = net.scores(q @ inp["R"], inp["x"] @ q.T + shift, inp["t"], inp["mask"])
            assert (out["x0"] - (ref["x0"] @ q.T + shift) * m).abs().max() < atol
            assert (out["trans_score"] - ref["trans_score"] @ q.T).abs().max() < atol
            assert (out["rot_score"] - ref["rot_score"]).abs().max() < atol
            assert (out["psi"] - ref["psi"]).abs().max() < atol


def test_ladder_network_starts_as_the_plain_network(val_backbones):
    """Fresh ladder updates leave the function unchanged (a trained network extended with
    them starts where it was); trained ones change it."""
    plain_config = SMALL_CONFIG
    torch.manual_seed(0)
    with default_dtype(torch.float64):
        plain = FrameScoreNetwork(plain_config).eval()
    fresh = _ladder_network(torch.float64, trained=False)
    fresh.load_state_dict(plain.state_dict(), strict=False)
    inp = noised_batch(short_chains(val_backbones, 2), [0.2, 0.6], torch.float64)
    args = (inp["R"], inp["x"], inp["t"], inp["mask"])
    with torch.no_grad():
        ref, same = plain.scores(*args), fresh.scores(*args)
        for p in fresh.ladders.parameters():
            p.normal_(0, 0.3)
        other = fresh.scores(*args)
    assert (same["x0"] - ref["x0"]).abs().max() < 1e-12
    assert (same["rot_score"] - ref["rot_score"]).abs().max() < 1e-12
    assert (other["x0"] - ref["x0"]).abs().max() > 1e-3
