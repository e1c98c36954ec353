"""Torsional score-matching loss on real QM9 val molecules: oracle ~0, zero model ~1."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from molgen.datasets.conformer_data import ConformerDataset, collate_conformers
from molgen.datasets.qm9 import QM9Molecules
from molgen.diffusion.torus import TorusDiffuser, wrap_angle
from molgen.geometry.torsions import torsion_angles
from molgen.models.denoising import perturb_torsions
from molgen.train.conformer_loss import ConformerLossConfig, conformer_loss
from tests.conftest import DATA_DIR

SPLIT = DATA_DIR / "qm9_split.npz"


@pytest.fixture(scope="module")
def batch():
    """Twelve QM9 val molecules with rotatable bonds, DFT geometry (fast path)."""
    dataset = ConformerDataset(
        QM9Molecules(SPLIT, "val", limit=30, seed=1), local_structure="reference"
    )
    return collate_conformers([dataset[k] for k in range(12)])


class Oracle(nn.Module):
    """The exact wrapped-normal score, from the clean torsions of the batch it was built on."""

    def __init__(self, clean):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(()))
        self.theta0 = torsion_angles(clean.pos, clean.torsion_index)

    def forward(self, data, sigma):
        sigma_t = sigma[data.batch[data.torsion_index[:, 1]]]
        delta = wrap_angle(torsion_angles(data.pos, data.torsion_index) - self.theta0)
        return TorusDiffuser.kernel_score(delta, sigma_t) + 0 * self.weight


class Zero(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(()))

    def forward(self, data, sigma):
        return self.weight.expand(len(data.torsion_index))


def test_oracle_model_has_zero_loss(batch):
    """The true score of the wrapped-normal perturbation gives loss ~0 at every sigma."""
    generator = torch.Generator().manual_seed(0)
    for _ in range(5):
        loss, _ = conformer_loss(Oracle(batch), batch, generator)
        assert float(loss.detach()) < 1e-6


def test_zero_model_loss_is_one_on_average(batch):
    """E[s^2 / E_sigma s^2] = 1: the score_norm weighting puts the zero predictor at 1."""
    generator = torch.Generator().manual_seed(1)
    losses = [float(conformer_loss(Zero(), batch, generator)[0].detach()) for _ in range(300)]
    # ~30 torsions x 300 draws; s^2/E[s^2] has std ~1.4, so the standard error is ~0.015.
    assert abs(sum(losses) / len(losses) - 1.0) < 0.07


def test_perturbation_moves_torsions_by_delta_and_keeps_bonds(batch):
    """After perturb_torsions, theta = wrap(theta_0 + delta) and bond lengths are unchanged."""
    sigma = torch.full((batch.num_graphs,), 1.0)
    noisy, delta, sigma_t = perturb_torsions(batch, sigma, torch.Generator().manual_seed(2))
    theta0 = torsion_angles(batch.pos, batch.torsion_index)
    theta = torsion_angles(noisy.pos, batch.torsion_index)
    assert torch.allclose(wrap_angle(theta - theta0 - delta), torch.zeros_like(delta), atol=1e-4)
    assert torch.equal(sigma_t, torch.ones_like(delta))
    i, j = batch.bond_index
    lengths0 = (batch.pos[i] - batch.pos[j]).norm(dim=-1)
    assert torch.allclose((noisy.pos[i] - noisy.pos[j]).norm(dim=-1), lengths0, atol=1e-4)
    assert not torch.allclose(noisy.pos, batch.pos)


def test_sigma_is_log_uniform_in_the_range(batch):
    """log sigma is uniform on [log min, log max]: its mean is the midpoint (Monte Carlo)."""
    cfg = ConformerLossConfig()
    generator = torch.Generator().manual_seed(3)
    means = [conformer_loss(Zero(), batch, generator, cfg)[1]["sigma_mean"] for _ in range(200)]
    # E[sigma] for log-uniform: (max - min) / log(max / min).
    expected = (cfg.max_sigma - cfg.min_sigma) / math.log(cfg.max_sigma / cfg.min_sigma)
    assert abs(sum(means) / len(means) - expected) < 0.1 * expected
