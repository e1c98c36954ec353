r"""Denoising errors of the score networks: what the training losses minimise and what the
learned plausibility scores (:mod:`molgen.scoring`) measure.

Frames (:func:`frame_errors`): per residue, the clean-position error
:math:`\|\hat x_0 - x_0\|^2` (Angstrom^2, prediction centred like the data) and the rotation
score error over its expected size, :math:`\|\hat s_R - s_R\|^2 / \mathbb E\|s_R\|^2`, at
IGSO(3) :math:`\sigma(t)`; translation errors are weighted by the EDM weight
:math:`\lambda(t) = 1 + \alpha_t^2/\sigma_t^2` (:func:`edm_weight`, Karras et al. 2022) in
units of :data:`LENGTH_UNIT`.

Torsions (:func:`torsion_errors`): per torsion, :math:`(\hat s - s)^2 / \mathbb E[s^2]` of the
wrapped-normal score at the torsion's :math:`\sigma`, for torsions turned by
:func:`perturb_torsions`.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Batch

from molgen.chem.torsion_graph import turn_batch_torsions
from molgen.diffusion.r3 import R3Diffuser
from molgen.diffusion.torus import TorusDiffuser
from molgen.geometry import center

__all__ = ["LENGTH_UNIT", "edm_weight", "frame_errors", "perturb_torsions", "torsion_errors"]

#: Length unit of the translation error (Angstrom): errors are in units of 10 A.
LENGTH_UNIT = 10.0


def edm_weight(r3: R3Diffuser, t: Tensor) -> Tensor:
    r"""EDM loss weight :math:`1 + \alpha_t^2/\sigma_t^2` of the translation noise at ``t``."""
    alpha, sigma = r3.marginal(t)
    return 1 + alpha**2 / sigma**2


def frame_errors(
    diffuser, out: dict[str, Tensor], x_0: Tensor, rot_score: Tensor, t: Tensor, mask: Tensor
) -> tuple[Tensor, Tensor]:
    r"""Per-residue errors of a frame network's output ``out`` against the clean frames.

    Parameters
    ----------
    diffuser : SE3Diffuser
        The network's noise process (for the IGSO(3) score norm at :math:`\sigma(t)`).
    out : dict
        Network output with ``x0 [B, L, 3]`` (Angstrom) and ``rot_score [B, L, 3]``.
    x_0 : Tensor, shape ``[B, L, 3]``
        Clean translations, centred over ``mask`` (Angstrom).
    rot_score : Tensor, shape ``[B, L, 3]``
        True rotation score of the noisy frames (radian^-1, local frame).
    t : Tensor, shape ``[B]``
    mask : Tensor, shape ``[B, L]``

    Returns
    -------
    trans_err : Tensor, shape ``[B, L]``
        :math:`\|\hat x_0 - x_0\|^2` in Angstrom^2 (not weighted).
    rot_err : Tensor, shape ``[B, L]``
        :math:`\|\hat s_R - s_R\|^2 / \mathbb E\|s_R\|^2` (dimensionless).
    """
    trans_err = ((center(out["x0"], mask) - x_0) ** 2).sum(-1)  # [B, L], A^2
    norm = diffuser.so3.score_norm(t).to(x_0.dtype)  # [B]
    rot_err = ((out["rot_score"] - rot_score) ** 2).sum(-1) / norm[:, None]  # [B, L]
    return trans_err, rot_err


def perturb_torsions(
    batch: Batch, sigma: Tensor, generator: torch.Generator | None = None
) -> tuple[Batch, Tensor, Tensor]:
    r"""Turn every torsion of ``batch`` by wrapped-normal noise of its molecule's ``sigma``.

    Parameters
    ----------
    batch : Batch
        Batch of :class:`~molgen.chem.torsion_graph.TorsionGraph` (``G`` graphs, ``T``
        torsions, positions in Angstrom).
    sigma : Tensor, shape ``[G]``
        Noise level of each molecule (radians).

    Returns
    -------
    noisy : Batch
        A copy of ``batch`` with moved positions.
    delta : Tensor, shape ``[T]``
        Torsion changes :math:`\mathrm{wrap}(\sigma z)` (radians).
    sigma_t : Tensor, shape ``[T]``
        Each torsion's noise level.
    """
    torsions = batch.torsion_index
    sigma_t = sigma[batch.batch[torsions[:, 1]]]  # [T]
    delta = TorusDiffuser.sample(sigma_t, len(torsions), generator=generator)
    noisy = batch.clone()
    noisy.pos = turn_batch_torsions(batch, batch.pos, delta)
    return noisy, delta, sigma_t


def torsion_errors(pred: Tensor, delta: Tensor, sigma_t: Tensor) -> tuple[Tensor, Tensor]:
    r"""Score errors ``[T]`` of predicted torsion scores ``pred`` (radian^-1) for the changes
    ``delta`` at noise ``sigma_t`` (radians): :math:`(\hat s - s)^2/\mathbb E[s^2]`, and the
    same for a model predicting zero, :math:`s^2/\mathbb E[s^2]`."""
    target = TorusDiffuser.kernel_score(delta, sigma_t)  # [T], radian^-1
    norm = TorusDiffuser.kernel_score_norm(sigma_t)  # [T], radian^-2
    return (pred - target) ** 2 / norm, target**2 / norm
