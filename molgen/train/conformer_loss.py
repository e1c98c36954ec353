r"""Torsional denoising score-matching loss for the torsion score network.

For a batch of molecules (:class:`~molgen.chem.torsion_graph.TorsionGraph`, clean
torsions :math:`\theta_0`), each molecule draws a noise level log-uniform in
:math:`[\sigma_{\min}, \sigma_{\max}]` (radians), every torsion of the molecule is perturbed
by a wrapped-normal :math:`\delta = \mathrm{wrap}(\sigma z)`, the atoms are moved accordingly
(:func:`~molgen.geometry.torsions.apply_torsion_changes`), and the network's scores are
compared with the wrapped normal's (Torsional Diffusion, Jing et al. 2022, Eq. 5):

.. math::

    \mathcal L = \frac1T \sum_t
        \frac{\big(\hat s_t(x_\sigma, \sigma) - \partial_\delta \log p_\sigma(\delta_t)\big)^2}
             {\mathbb E_{p_\sigma}[s^2]},

the weight :math:`1/\mathbb E[s^2]` (:meth:`~molgen.diffusion.TorusDiffuser.kernel_score_norm`)
putting every noise level on one scale: the zero predictor scores 1 in expectation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch_geometric.data import Batch

from molgen.diffusion.torus import TorusDiffuser
from molgen.models.denoising import perturb_torsions, torsion_errors

__all__ = ["ConformerLossConfig", "conformer_loss"]


@dataclass
class ConformerLossConfig:
    """Noise range of :func:`conformer_loss` (radians; torsional diffusion: 0.01 pi, pi)."""

    min_sigma: float = TorusDiffuser.MIN_SIGMA
    max_sigma: float = TorusDiffuser.MAX_SIGMA


def conformer_loss(
    model: torch.nn.Module,
    batch: Batch,
    generator: torch.Generator,
    config: ConformerLossConfig | None = None,
) -> tuple[Tensor, dict[str, float]]:
    """One training loss of ``model`` (a TorsionScoreNetwork, possibly DDP-wrapped) on ``batch``.

    Returns the scalar loss (module docstring) and float metrics for the CSV log.
    """
    cfg = config or ConformerLossConfig()
    dtype, device = batch.pos.dtype, batch.pos.device
    u = torch.rand(batch.num_graphs, dtype=dtype, device=device, generator=generator)
    sigma = cfg.min_sigma * (cfg.max_sigma / cfg.min_sigma) ** u  # [G], log-uniform
    noisy, delta, sigma_t = perturb_torsions(batch, sigma, generator)
    pred = model(noisy, sigma)  # forward: DDP synchronises gradients
    error, zero_error = torsion_errors(pred, delta, sigma_t)  # [T]
    loss = error.mean()
    metrics = {
        "sigma_mean": float(sigma.mean()),
        "torsions": float(len(delta)),
        "zero_model_loss": float(zero_error.mean()),
    }
    return loss, metrics
