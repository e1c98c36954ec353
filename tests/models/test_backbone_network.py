"""FrameScoreNetwork: SE(3) equivariance on real chains, padding, scores vs the diffuser, and
its residue graph (molgen.models.residue_graph)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from models_helpers import SMALL_CONFIG, noised_batch, short_chains, small_network

from equivariant.dtype import default_dtype
from molgen.geometry import matrix_to_rotvec, random_rotation
from molgen.models import FrameScoreNetwork, FrameScoreNetworkConfig
from molgen.models.residue_graph import residue_edges

TIMES = [0.05, 0.5, 0.95]


@pytest.mark.parametrize(("dtype", "atol"), [(torch.float32, 1e-4), (torch.float64, 1e-9)])
def test_scores_equivariant_under_rigid_motions(val_backbones, dtype, atol):
    """For g = (Q, b): trans_score(g.x) = Q trans_score, x0 -> Q x0 + b, R0 -> Q R0, and
    rot_score, psi unchanged, over 20 random g, on 3 real val chains noised to t in TIMES."""
    net = small_network(dtype)
    inp = noised_batch(short_chains(val_backbones, 3), TIMES, dtype)
    m = inp["mask"][..., None]
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        ref = net.scores(**{k: inp[k] for k in ("R", "x", "t", "mask")}, self_cond=inp["self_cond"])
        errors = dict.fromkeys(ref, 0.0)
        for _ in range(20):
            q = random_rotation(dtype=dtype, generator=gen)
            shift = 10 * torch.randn(3, dtype=dtype, generator=gen)
            moved = q @ inp["R"], inp["x"] @ q.T + shift, inp["self_cond"] @ q.T + shift
            out = net.scores(moved[0], moved[1], inp["t"], inp["mask"], self_cond=moved[2])
            expected = {
                "trans_score": ref["trans_score"] @ q.T,
                "rot_score": ref["rot_score"],
                "psi": ref["psi"],
                "x0": (ref["x0"] @ q.T + shift) * m,
                "R0": q @ ref["R0"] * m[..., None],
            }
            for key, value in expected.items():
                errors[key] = max(errors[key], (out[key] - value).abs().max().item())
    assert max(errors.values()) < atol, errors


def test_mixed_length_batch_matches_single_chains(val_backbones):
    """Each item of a padded batch of 3 chains of different lengths gives the outputs of the
    chain run alone (< 1e-5, float32), and zeros at its padding."""
    net = small_network(torch.float32)
    chains = short_chains(val_backbones, 3)
    assert len({len(c) for c in chains}) == 3
    inp = noised_batch(chains, TIMES, torch.float32)
    with torch.no_grad():
        batched = net.scores(inp["R"], inp["x"], inp["t"], inp["mask"], inp["self_cond"])
        for i, chain in enumerate(chains):
            n = len(chain)
            alone = net.scores(
                inp["R"][i : i + 1, :n], inp["x"][i : i + 1, :n], inp["t"][i : i + 1],
                inp["mask"][i : i + 1, :n], inp["self_cond"][i : i + 1, :n],
            )  # fmt: skip
            for key, value in alone.items():
                assert (batched[key][i, :n] - value[0]).abs().max() < 1e-5, key
                assert (batched[key][i, n:] == 0).all(), key


def test_scores_are_diffuser_scores_at_predicted_x0(val_backbones):
    """trans_score = R3Diffuser.score(centre(x_t), centre(x0), t) and rot_score =
    SO3Diffuser.kernel_score(log(R0^T R_t), sigma(t)): the x0 outputs and the scores agree
    (float64)."""
    net = small_network(torch.float64)
    inp = noised_batch(short_chains(val_backbones, 3), TIMES, torch.float64)
    with torch.no_grad():
        out = net.scores(inp["R"], inp["x"] + 5.0, inp["t"], inp["mask"])
    mask, t = inp["mask"], inp["t"][:, None]
    x0 = out["x0"] - 5.0  # sample_marginal's x_t is centred, so these are centred too
    assert x0[mask].mean(0).abs().max() < 1e-9
    so3, r3 = net.diffuser.so3, net.diffuser.r3
    trans = r3.score(inp["x"], x0, t)[mask]
    assert (out["trans_score"][mask] - trans).abs().max() < 1e-9
    noise = matrix_to_rotvec(out["R0"].transpose(-1, -2) @ inp["R"])[mask]
    sigma = so3.sigma(t.expand(mask.shape))[mask]
    assert (out["rot_score"][mask] - so3.kernel_score(noise, sigma)).abs().max() < 1e-8
    assert (out["psi"][mask].norm(dim=-1) - 1).abs().max() < 1e-12


@pytest.mark.parametrize("t", [1e-3, 0.999])
def test_gradients_finite_near_time_limits(val_backbones, t):
    """A score-matching loss at t near 0 and near 1 gives finite gradients for every parameter
    (all of them reached, self-conditioning included)."""
    net = small_network(torch.float32).train()
    inp = noised_batch(short_chains(val_backbones, 2), [t, t], torch.float32)
    out = net.scores(inp["R"], inp["x"], inp["t"], inp["mask"], inp["self_cond"])
    loss = sum(out[k].pow(2).mean() for k in ("trans_score", "rot_score", "psi", "x0"))
    loss.backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


def test_config_round_trip_and_bad_keys():
    """from_config(config.to_dict()) rebuilds the same architecture; unknown keys are refused."""
    config = FrameScoreNetworkConfig(k=8, num_layers=1)
    net = FrameScoreNetwork.from_config(config.to_dict())
    assert net.config == config and len(net.convs) == 1
    with pytest.raises(ValueError, match="unknown"):
        FrameScoreNetworkConfig.from_dict({"k": 8, "colour": "red"})


def test_residue_edges_are_knn_union_sequence_neighbours(val_backbones):
    """residue_edges on 3 real chains = (k nearest CA within the chain, by a dense numpy
    distance matrix) union (|r_j - r_i| <= 2 within the chain), without duplicates."""
    chains = short_chains(val_backbones, 3)
    ca = torch.cat([torch.as_tensor(c[:, 1]) for c in chains])
    sizes = torch.tensor([len(c) for c in chains])
    batch = torch.repeat_interleave(torch.arange(3), sizes)
    res = torch.cat([torch.arange(n) for n in sizes.tolist()])
    edges = residue_edges(ca, batch, res, k=10, seq_neighbours=2)
    got = set(map(tuple, edges.T.tolist()))
    assert len(got) == edges.shape[1]
    d = np.linalg.norm(ca.numpy()[:, None] - ca.numpy()[None], axis=-1)
    same = (batch[:, None] == batch[None]).numpy()
    d[~same] = np.inf
    np.fill_diagonal(d, np.inf)
    expected = set()
    for i in range(len(ca)):
        expected |= {(int(j), i) for j in np.argsort(d[i], kind="stable")[:10]}
        expected |= {(j, i) for j in range(len(ca)) if same[i, j] and 0 < abs(j - i) <= 2}
    assert got == expected


def test_residue_edges_add_nearest_neighbours_of_the_guide(val_backbones):
    """With a guide (a second set of positions, as the previous x0 prediction is), the edges are
    the plain graph united with the guide_k nearest residues in the guide, within each chain."""
    chains = short_chains(val_backbones, 2)
    ca = torch.cat([torch.as_tensor(c[:, 1]) for c in chains])
    sizes = torch.tensor([len(c) for c in chains])
    batch = torch.repeat_interleave(torch.arange(2), sizes)
    res = torch.cat([torch.arange(n) for n in sizes.tolist()])
    # A guide unrelated to ca: the chains with their residue order reversed.
    guide = torch.cat([torch.as_tensor(c[::-1, 1].copy()) for c in chains])
    plain = set(map(tuple, residue_edges(ca, batch, res, k=6, seq_neighbours=1).T.tolist()))
    guided = residue_edges(ca, batch, res, k=6, seq_neighbours=1, guide=guide, guide_k=5)
    got = set(map(tuple, guided.T.tolist()))
    assert len(got) == guided.shape[1]
    d = np.linalg.norm(guide.numpy()[:, None] - guide.numpy()[None], axis=-1)
    d[(batch[:, None] != batch[None]).numpy()] = np.inf
    np.fill_diagonal(d, np.inf)
    extra = {(int(j), i) for i in range(len(ca)) for j in np.argsort(d[i], kind="stable")[:5]}
    assert got == plain | extra
    assert extra - plain, "the guide must add edges the noisy positions do not have"


def _v2_network(dtype: torch.dtype, long_range: int = 6) -> FrameScoreNetwork:
    """SMALL_CONFIG with blueprint input, pooled context and random long-range edges, with
    the zero-initialised new layers given random weights (as after training)."""
    config = FrameScoreNetworkConfig(
        **{**SMALL_CONFIG.to_dict(), "ss_condition": True, "global_context": True,
           "long_range_edges": long_range}
    )  # fmt: skip
    torch.manual_seed(0)
    with default_dtype(dtype):
        net = FrameScoreNetwork(config).eval()
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.startswith(("contexts", "ss_embed")):
                p.normal_(0, 0.3)
    return net


@pytest.mark.parametrize(("dtype", "atol"), [(torch.float32, 2e-4), (torch.float64, 1e-9)])
def test_conditioned_network_equivariant(val_backbones, dtype, atol):
    """With blueprint labels, pooled context and long-range edges (same generator seed per
    call), x0 -> Q x0 + b, trans_score -> Q trans_score, rot_score unchanged under (Q, b)."""
    net = _v2_network(dtype)
    inp = noised_batch(short_chains(val_backbones, 3), TIMES, dtype)
    ss = torch.randint(0, 4, inp["mask"].shape, generator=torch.Generator().manual_seed(2))
    m = inp["mask"][..., None]

    def run(R, x):
        gen = torch.Generator().manual_seed(5)
        return net.scores(R, x, inp["t"], inp["mask"], None, None, ss, gen)

    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        ref = run(inp["R"], inp["x"])
        for _ in range(5):
            q = random_rotation(dtype=dtype, generator=gen)
            shift = 10 * torch.randn(3, dtype=dtype, generator=gen)
            out = run(q @ inp["R"], inp["x"] @ q.T + shift)
            assert (out["x0"] - (ref["x0"] @ q.T + shift) * m).abs().max() < atol
            assert (out["trans_score"] - ref["trans_score"] @ q.T).abs().max() < atol
            assert (out["rot_score"] - ref["rot_score"]).abs().max() < atol


def test_blueprint_changes_the_prediction_and_x_means_unconditional(val_backbones):
    """Labels reach the output (H everywhere vs E everywhere differ), ss=None equals all-X,
    and a network with fresh (zero) new layers reproduces the plain network exactly, so
    trained weights can be extended and fine-tuned."""
    net = _v2_network(torch.float64, long_range=0)
    inp = noised_batch(short_chains(val_backbones, 2), [0.3, 0.6], torch.float64)
    args = (inp["R"], inp["x"], inp["t"], inp["mask"])
    helix = torch.ones_like(inp["mask"], dtype=torch.long)
    with torch.no_grad():
        h = net.scores(*args, ss=helix)["x0"]
        e = net.scores(*args, ss=2 * helix)["x0"]
        none = net.scores(*args)["x0"]
        x = net.scores(*args, ss=0 * helix)["x0"]
    assert (h - e).abs().max() > 1e-3
    assert torch.equal(none, x)
    plain = small_network(torch.float64)
    fresh = FrameScoreNetwork(net.config).double().eval()
    missing, unexpected = fresh.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and all(k.startswith(("contexts", "ss_embed")) for k in missing)
    with torch.no_grad():
        a = plain.scores(*args)["x0"]
        b = fresh.scores(*args, ss=helix)["x0"]
    assert (a - b).abs().max() < 1e-12


def _paired_network(dtype: torch.dtype, turn: bool = False) -> FrameScoreNetwork:
    """_v2_network with strand-pair conditioning and the pair head (and with ``turn`` the
    pair turn), their zero-initialised layers given random weights."""
    net = _v2_network(dtype, long_range=0)
    extra = {"pair_condition": True, "pair_head": True, "pair_turn": turn}
    config = FrameScoreNetworkConfig(**{**net.config.to_dict(), **extra})
    with default_dtype(dtype):
        paired = FrameScoreNetwork(config).eval()
    paired.load_state_dict(net.state_dict(), strict=False)
    with torch.no_grad():
        paired.pair_embed.weight.normal_(0, 0.3)
        paired.pair_head[-1].weight.normal_(0, 0.3)
        if turn:
            paired.turn_axis.weight.normal_(0, 0.3)
    return paired


def _hairpin_codes(mask: torch.Tensor) -> torch.Tensor:
    """``[B, L, 3]`` codes: all E, residue i paired with L - 1 - i (an antiparallel hairpin)."""
    b, length = mask.shape
    labels = torch.full((b, length), 2, dtype=torch.long)
    lengths = mask.sum(1, keepdim=True)
    partner = torch.where(mask, lengths - 1 - torch.arange(length), -1)
    far = (partner - torch.arange(length)).abs() >= 3
    partner = torch.where(far, partner, -1)
    return torch.stack([labels, partner, torch.full_like(partner, -1)], dim=-1)


def test_partner_edges_join_partners_in_both_directions():
    """_partner_edges: flattened node indices of each (residue, partner) pair, both ways;
    -1 and padded partners are skipped."""
    from molgen.models.backbone import _partner_edges
    from molgen.models.residue_graph import flatten_mask

    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=torch.bool)
    partners = torch.full((2, 5, 2), -1)
    partners[0, 0, 0], partners[0, 4, 0] = 4, 0
    partners[1, 0, 0], partners[1, 1, 1] = 2, 4  # residue 4 of chain 1 is padding
    flat, _ = flatten_mask(mask)
    edges = _partner_edges(partners, flat, mask.shape)
    pairs = set(map(tuple, edges.T.tolist()))
    assert pairs == {(4, 0), (0, 4), (7, 5), (5, 7)}


@pytest.mark.parametrize("turn", [False, True])
@pytest.mark.parametrize(("dtype", "atol"), [(torch.float32, 2e-4), (torch.float64, 1e-9)])
def test_pair_conditioned_network_equivariant(val_backbones, dtype, atol, turn):
    """With strand partners (and the pair turn), x0 -> Q x0 + b, R0 -> Q R0, trans_score ->
    Q trans_score and rot_score unchanged under (Q, b)."""
    net = _paired_network(dtype, turn)
    inp = noised_batch(short_chains(val_backbones, 3), TIMES, dtype)
    codes = _hairpin_codes(inp["mask"])
    m = inp["mask"][..., None]
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        ref = net.scores(inp["R"], inp["x"], inp["t"], inp["mask"], None, None, codes)
        for _ in range(5):
            q = random_rotation(dtype=dtype, generator=gen)
            shift = 10 * torch.randn(3, dtype=dtype, generator=gen)
            out = net.scores(q @ inp["R"], inp["x"] @ q.T + shift, inp["t"], inp["mask"],
                             None, None, codes)  # fmt: skip
            assert (out["x0"] - (ref["x0"] @ q.T + shift) * m).abs().max() < atol
            assert (out["trans_score"] - ref["trans_score"] @ q.T).abs().max() < atol
            assert (out["rot_score"] - ref["rot_score"]).abs().max() < atol
            assert (out["R0"] - (q @ ref["R0"]) * m[..., None]).abs().max() < atol


def test_partners_reach_the_prediction_and_none_means_unpaired(val_backbones):
    """Partners change x0 at high noise, where the partners are far apart; partners all -1
    equal labels alone; a pair network is a v2 network exactly when no partners are given."""
    net = _paired_network(torch.float64)
    inp = noised_batch(short_chains(val_backbones, 2), [0.8, 0.9], torch.float64)
    args = (inp["R"], inp["x"], inp["t"], inp["mask"], None, None)
    codes = _hairpin_codes(inp["mask"])
    unpaired = codes.clone()
    unpaired[..., 1:] = -1
    with torch.no_grad():
        paired = net.scores(*args, codes)["x0"]
        alone = net.scores(*args, codes[..., 0])["x0"]
        minus_one = net.scores(*args, unpaired)["x0"]
        v2 = _v2_network(torch.float64, long_range=0).scores(*args, codes[..., 0])["x0"]
    assert (paired - alone).abs().max() > 1e-3
    assert torch.equal(alone, minus_one)
    assert (alone - v2).abs().max() < 1e-12


def test_pair_turn_rotates_paired_frames_and_starts_as_the_identity(val_backbones):
    """The pair turn changes R0 (and the rotation score) of paired residues only, leaves x0
    alone, and with its zero-initialised axis the network equals one without it."""
    net = _paired_network(torch.float64, turn=True)
    inp = noised_batch(short_chains(val_backbones, 2), [0.2, 0.5], torch.float64)
    args = (inp["R"], inp["x"], inp["t"], inp["mask"], None, None)
    codes = _hairpin_codes(inp["mask"])
    plain = _paired_network(torch.float64)
    plain.load_state_dict(net.state_dict(), strict=False)
    with torch.no_grad():
        turned, ref = net.scores(*args, codes), plain.scores(*args, codes)
        assert torch.allclose(turned["x0"], ref["x0"], atol=1e-12)
        moved = (turned["R0"] - ref["R0"]).abs().amax((-1, -2))  # [B, L]
        paired = (codes[..., 1:] >= 0).any(-1) & inp["mask"]
        assert moved[paired].min() > 1e-6
        assert moved[~paired].max() < 1e-12
        assert (turned["rot_score"] - ref["rot_score"]).abs().max() > 1e-3
        net.turn_axis.weight.zero_()
        again = net.scores(*args, codes)
    assert torch.allclose(again["R0"], ref["R0"], atol=1e-12)
    assert torch.allclose(again["rot_score"], ref["rot_score"], atol=1e-12)
