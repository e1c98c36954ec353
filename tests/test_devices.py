"""The device code paths: the backbone network, sampler and trainer on every available device.

On a CPU-only machine these run on the CPU (the same code paths, ``device`` arguments and
generators); with CUDA they also run there and are compared with the CPU
(``scripts/device_burst.sh`` runs this file on a GPU machine).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from molgen.models import FrameScoreNetwork, FrameScoreNetworkConfig
from molgen.sample import sample_backbones

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
TINY = {"hidden_irreps": "8x0e + 2x1o + 2x1e", "num_layers": 2, "k": 8, "mlp_dim": 16}
V2 = {**TINY, "ss_condition": True, "global_context": True, "long_range_edges": 4}


def _network() -> FrameScoreNetwork:
    torch.manual_seed(0)
    net = FrameScoreNetwork(FrameScoreNetworkConfig(**V2)).eval()
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.startswith(("contexts", "ss_embed")):
                p.normal_(0, 0.3)
    return net


@pytest.mark.parametrize("device", DEVICES)
def test_network_matches_the_cpu(val_backbones, device):
    """Outputs on ``device`` equal the CPU's for two real val chains (noised) with blueprint
    labels; the random long-range edges come from the same seeded generator (on ``device``),
    so CPU and CUDA may draw different edges: then x0 must still agree to 2 A RMS, and on
    the CPU exactly."""
    from molgen.geometry import frames_from_backbone

    chains = [torch.as_tensor(b[:50], dtype=torch.float32) for b in val_backbones[:2]]
    atoms = torch.stack(chains)
    rot, x = frames_from_backbone(atoms[..., 0, :], atoms[..., 1, :], atoms[..., 2, :])
    mask = torch.ones(2, 50, dtype=torch.bool)
    ss = torch.ones(2, 50, dtype=torch.long)
    t = torch.tensor([0.1, 0.5])
    net = _network()
    with torch.no_grad():
        ref = net.scores(rot, x, t, mask, None, None, ss, torch.Generator().manual_seed(1))
        moved = net.to(device)
        gen = torch.Generator(device=device).manual_seed(1)
        args = [v.to(device) for v in (rot, x, t, mask)]
        out = moved.scores(*args, None, None, ss.to(device), gen)
    err = (out["x0"].cpu() - ref["x0"]).pow(2).sum(-1).mean().sqrt()
    assert err < (1e-5 if device == "cpu" else 2.0)


@pytest.mark.parametrize("device", DEVICES)
def test_sampler_same_seed_same_output_on_device(device):
    """sample_backbones on ``device`` twice with one seed gives identical finite chains of the
    requested lengths, with a blueprint and with the blueprint prior."""
    net = _network()
    args = {"steps": 5, "seed": 2, "device": device, "progress": False, "idealize": False}
    kwargs = {"blueprints": ["LLHHHHHHHHHHLL"], "blueprint_prior": True, **args}
    first = sample_backbones(net, [30], 2, **kwargs)
    again = sample_backbones(net, [30], 2, **kwargs)
    assert [s.length for s in first] == [30, 30, 14, 14]
    for a, b in zip(first, again, strict=True):
        assert np.isfinite(a.atoms).all() and np.array_equal(a.atoms, b.atoms)
