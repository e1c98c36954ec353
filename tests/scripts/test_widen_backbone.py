"""scripts/widen_backbone.py: the widened bundled model computes the bundled model's function
on real chains, has the wide network's shape, and its copied channels can drift apart."""

from __future__ import annotations

import pytest
import torch

from molgen.datasets.pdb_chains import PDBChains, collate_backbones
from molgen.diffusion.se3 import Frames
from molgen.geometry import center
from molgen.models import FrameScoreNetwork, load
from tests.scripts.script_loader import load_script


@pytest.fixture(scope="module")
def widened():
    """The bundled backbone model and its twice-wider copy (eval mode)."""
    widen = load_script("widen_backbone")
    old = load("backbone").eval()
    return old, widen.widen(old, 2, seed=0).eval()


def _real_batch(chain_set_path, n: int = 3):
    """Frames (float32, CA centred) and DSSP blueprint labels of the first ``n`` val chains of
    60-100 residues, batched as in training."""
    chains = PDBChains(chain_set_path, "val", crop_length=None, min_length=60, max_length=100)
    batch = collate_backbones([chains[i] for i in range(n)])
    rot, ca = (tensor.float() for tensor in batch.frames)
    return Frames(rot, center(ca, batch.mask), batch.mask), batch.ss


@pytest.mark.parametrize("t", [0.05, 0.3, 0.8])
def test_widened_model_keeps_the_function_on_real_chains(widened, chain_set_path, t):
    """Clean estimates (Angstrom), rotation scores and psi of the two networks agree to float
    rounding on real val chains noised to ``t``, with and without self-conditioning, while a
    network of the same shape with other weights does not."""
    old, new = widened
    frames, ss = _real_batch(chain_set_path)
    noisy = old.diffuser.sample_marginal(frames, t, generator=torch.Generator().manual_seed(1))
    time = torch.full((len(ss),), t)
    with torch.no_grad():
        first = old.scores(noisy.rot_t, noisy.trans_t, time, frames.mask, None, None, ss)
        for self_cond in (None, first["x0"]):
            a = old.scores(noisy.rot_t, noisy.trans_t, time, frames.mask, self_cond, None, ss)
            b = new.scores(noisy.rot_t, noisy.trans_t, time, frames.mask, self_cond, None, ss)
            m = frames.mask
            assert (a["x0"] - b["x0"])[m].abs().max() < 1e-3  # Angstrom
            assert (a["rot_score"] - b["rot_score"])[m].abs().max() < 1e-3 * (
                1 + a["rot_score"][m].abs().max()
            )
            assert (a["psi"] - b["psi"])[m].abs().max() < 1e-4
        other = FrameScoreNetwork.from_config(new.config).eval()
        c = other.scores(noisy.rot_t, noisy.trans_t, time, frames.mask, None, None, ss)
    assert (a["x0"] - c["x0"])[frames.mask].abs().max() > 0.1


def test_widened_model_has_the_wide_shape(widened):
    """Twice the channels of every hidden block; the parameter count of a network built
    from the wide config (329,574 for the bundled model, as ``backbone_v4w``)."""
    old, new = widened
    assert str(new.config.hidden_irreps) == "96x0e+24x1o+24x1e"
    fresh = FrameScoreNetwork.from_config(new.config)
    assert {k: v.shape for k, v in new.state_dict().items()} == {
        k: v.shape for k, v in fresh.state_dict().items()
    }
    assert sum(p.numel() for p in new.parameters()) == 329_574


def test_copied_channels_get_different_gradients(widened, chain_set_path):
    """A channel and its copy carry the same activations, but their incoming weights receive
    different gradients (the outgoing weights were split at random), so training can separate
    them; with an even split they would stay copies for ever."""
    _, new = widened
    frames, ss = _real_batch(chain_set_path, n=2)
    noisy = new.diffuser.sample_marginal(frames, 0.2, generator=torch.Generator().manual_seed(2))
    new.zero_grad()
    out = new.scores(noisy.rot_t, noisy.trans_t, torch.full((2,), 0.2), frames.mask, None, None, ss)
    (out["x0"][frames.mask] ** 2).mean().backward()
    grad = new.node_embed[0].weight.grad  # [96, in]: rows c and c + 48 copy channel c
    new.zero_grad()
    assert torch.allclose(new.node_embed[0].weight[:48], new.node_embed[0].weight[48:])
    assert (grad[:48] - grad[48:]).abs().max() > 1e-3 * grad.abs().max()


def test_widen_rejects_networks_it_cannot_widen():
    """A pair track or a factor below 1 is refused with a ValueError."""
    widen = load_script("widen_backbone")
    net = FrameScoreNetwork.from_config({"hidden_irreps": "8x0e + 2x1o", "ladder_edges": True})
    with pytest.raises(ValueError, match="ladder_edges"):
        widen.widen(net, 2)
    with pytest.raises(ValueError):
        widen.widen(load("backbone"), 0)


def test_cli_missing_model_exits_2(tmp_path, capsys):
    """A model folder that does not exist: one error line, exit 2, nothing written."""
    widen = load_script("widen_backbone")
    assert widen.main([str(tmp_path / "absent"), str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not (tmp_path / "out").exists()
