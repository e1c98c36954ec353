"""Shared test inputs for the model tests: small networks and noised real val chains."""

from __future__ import annotations

import numpy as np
import torch

from equivariant.dtype import default_dtype
from molgen.diffusion import SE3Diffuser
from molgen.geometry import Frames, frames_from_backbone
from molgen.models import FrameScoreNetwork, FrameScoreNetworkConfig

SMALL_CONFIG = FrameScoreNetworkConfig(
    k=12,
    num_layers=2,
    hidden_irreps="16x0e + 4x1o + 4x1e",
    time_dim=16,
    edge_dim=16,
    mlp_dim=32,
    self_cond_neighbours=4,
)


def small_network(dtype: torch.dtype = torch.float32, seed: int = 0) -> FrameScoreNetwork:
    """A 2-layer network built under ``dtype`` (float64 e3nn constants need it), eval mode."""
    torch.manual_seed(seed)
    with default_dtype(dtype):
        return FrameScoreNetwork(SMALL_CONFIG).eval()


def short_chains(val_backbones: list[np.ndarray], count: int, lo: int = 40, hi: int = 80):
    """The first ``count`` val chains with ``lo <= L <= hi`` residues, ``[L, 4, 3]`` Angstrom."""
    return [b for b in val_backbones if lo <= len(b) <= hi][:count]


def noised_batch(
    chains: list[np.ndarray], t: list[float], dtype: torch.dtype = torch.float64, seed: int = 0
) -> dict[str, torch.Tensor]:
    """Pad real chains to ``[B, L]`` frames and noise chain ``b`` to time ``t[b]``.

    Returns ``R [B, L, 3, 3]``, ``x [B, L, 3]`` (Angstrom), ``t [B]``, ``mask [B, L]`` and a
    ``self_cond [B, L, 3]`` stand-in (the clean CA positions).
    """
    length, b = max(len(c) for c in chains), len(chains)
    rot = torch.eye(3, dtype=dtype).repeat(b, length, 1, 1)
    ca, mask = torch.zeros(b, length, 3, dtype=dtype), torch.zeros(b, length, dtype=torch.bool)
    for i, chain in enumerate(chains):
        atoms = torch.as_tensor(chain, dtype=dtype)
        r, x = frames_from_backbone(atoms[:, 0], atoms[:, 1], atoms[:, 2])
        rot[i, : len(chain)], ca[i, : len(chain)], mask[i, : len(chain)] = r, x, True
    time = torch.tensor(t, dtype=dtype)
    gen = torch.Generator().manual_seed(seed)
    noisy = SE3Diffuser().sample_marginal(Frames(rot, ca, mask), time, generator=gen)
    return {"R": noisy.rot_t, "x": noisy.trans_t, "t": time, "mask": mask, "self_cond": ca}
