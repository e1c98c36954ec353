r"""Learned plausibility of protein backbones: how well the frame score network denoises them.

For a backbone with clean frames :math:`(R_0, x_0)` (CA-centred, Angstrom) and each time
:math:`t_k` of a fixed grid, the frames are noised with the model's own
:meth:`molgen.diffusion.SE3Diffuser.sample_marginal` and the network predicts the clean
positions :math:`\hat x_0` and the rotation score :math:`\hat s_R`. The per-residue error is the
one the network was trained on (:mod:`molgen.train.backbone_loss`, same weights and units):

.. math::

    e_i(t) = \lambda(t) \frac{\|\hat x_{0,i} - x_{0,i}\|^2}{s^2}
        + \frac{\|\hat s_{R,i} - s_{R,i}\|^2}{\mathbb E\|s_R\|^2(t)},
    \qquad \text{model\_score} = -\frac{1}{K}\sum_k \operatorname{mean}_i e_i(t_k),

with :math:`s` = 10 Angstrom and the training loss's EDM weight
:math:`\lambda(t) = 1 + \alpha_t^2/\sigma_t^2`, so each grid time counts on one scale. A
structure that looks like the training data is easy to denoise, so higher is more plausible;
0 is a perfect denoiser.

Why denoising error and not a probability-flow ODE likelihood: it needs one network call per
grid time (4 by default) instead of hundreds of ODE steps plus divergence estimates, it is
exactly the quantity the network was trained to minimise, and the small times of the grid
(translation noise about 0.5-3 Angstrom) are where real chains and distorted ones differ.

Determinism: the noise of a structure comes from a generator seeded by ``(seed, k)`` only, so
every structure of a given length sees the same noise draws (common random numbers: a chain
and its decoy are compared under identical noise), and the noise never depends on which other
structures share the batch. Batches group similar lengths; the network ignores padding.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from molgen.datasets.pdb_chains import BackboneItem, _generator, collate_backbones
from molgen.diffusion.se3 import center
from molgen.train.backbone_loss import BackboneLossConfig

__all__ = ["DEFAULT_T_GRID", "backbone_model_scores"]

#: Diffusion times of the score (translation noise about 0.45, 0.9, 3 and 4.5 Angstrom RMS
#: per coordinate under the default VP schedule).
DEFAULT_T_GRID = (0.01, 0.03, 0.1, 0.2)


def _item(atoms: np.ndarray) -> BackboneItem:
    """A CA-centred item of the residues with finite N, CA, C (others dropped)."""
    atoms = np.asarray(atoms, dtype=np.float64)
    keep = np.isfinite(atoms[:, :3]).all(axis=(-1, -2))
    atoms = np.nan_to_num(atoms[keep])  # a missing O is not read by the score
    tensor = torch.from_numpy(atoms).float()
    tensor = tensor - tensor[:, 1].mean(0)
    n = len(tensor)
    index = torch.from_numpy(np.flatnonzero(keep))  # gaps stay visible to the network
    return BackboneItem(tensor, torch.ones(n, dtype=torch.bool), index, "X" * n, "")


@torch.no_grad()
def _score_batch(
    model: nn.Module,
    items: Sequence[BackboneItem],
    t_grid: Sequence[float],
    seed: int,
    device: torch.device,
) -> np.ndarray:
    """Per-structure ``[B, 3]`` (score, translation error in A^2, normalised rotation error)."""
    cfg = BackboneLossConfig()
    diffuser = model.diffuser
    dtype = next(model.parameters()).dtype
    batch = collate_backbones(items).to(device)
    mask = batch.mask
    rot_0, x_0 = batch.rotations.to(dtype), center(batch.translations.to(dtype), mask)
    trans_err = torch.zeros(len(items), dtype=torch.float64, device=device)
    rot_err, error = torch.zeros_like(trans_err), torch.zeros_like(trans_err)
    for k, t_value in enumerate(t_grid):
        rot_t, x_t, rot_score = (
            torch.empty_like(rot_0),
            torch.empty_like(x_0),
            torch.zeros_like(x_0),
        )
        for b, item in enumerate(items):  # per-structure noise: independent of the batch
            n = len(item.mask)
            gen = _generator(seed, k)
            frames = (rot_0[b : b + 1, :n].cpu(), x_0[b : b + 1, :n].cpu())
            noisy = diffuser.sample_marginal(frames, t_value, generator=gen)
            rot_t[b, :n], x_t[b, :n] = noisy.rot_t[0], noisy.trans_t[0]
            rot_score[b, :n] = noisy.rot_score[0]
        rot_t = torch.where(mask[..., None, None], rot_t, rot_0)
        x_t = torch.where(mask[..., None], x_t, x_0)
        t = torch.full((len(items),), t_value, dtype=dtype, device=device)
        out = model(rot_t, x_t, t, mask, None, batch.residue_index)
        m = mask.to(dtype)
        count = m.sum(-1)
        x_err = ((center(out["x0"], mask) - x_0) ** 2).sum(-1)  # [B, L], A^2
        norm = diffuser.so3.score_norm(diffuser.so3.sigma(t)).to(dtype)  # [B]
        r_err = ((out["rot_score"] - rot_score) ** 2).sum(-1) / norm[:, None]  # [B, L]
        x_err = ((x_err * m).sum(-1) / count).double()  # [B]
        r_err = ((r_err * m).sum(-1) / count).double()
        alpha, sigma = diffuser.r3.marginal(torch.tensor(t_value, dtype=torch.float64))
        error += float(1 + alpha**2 / sigma**2) * x_err / cfg.length_unit**2 + r_err
        trans_err, rot_err = trans_err + x_err, rot_err + r_err
    k = len(t_grid)
    return torch.stack([-error / k, trans_err / k, rot_err / k], -1).cpu().numpy()


def backbone_model_scores(
    model: nn.Module,
    backbones: Sequence[np.ndarray],
    *,
    seed: int = 0,
    t_grid: Sequence[float] = DEFAULT_T_GRID,
    batch_size: int = 32,
    device: str | torch.device = "cpu",
) -> list[dict[str, float | None]]:
    r"""Learned plausibility of each backbone (see the module docstring).

    Parameters
    ----------
    model : FrameScoreNetwork
        Backbone score network (in eval mode, on ``device``).
    backbones : sequence of np.ndarray, shape ``(L, 4, 3)``, Angstrom
        N, CA, C, O; residues with a non-finite N, CA or C are left out.
    seed : int
        Seed of the noise draws (the same for every structure).
    t_grid : sequence of float
        Diffusion times in (0, 1].
    batch_size : int
        Structures per network call (sorted by length so a batch pads little).
    device : str or torch.device
        Where the network runs.

    Returns
    -------
    list of dict
        Per backbone, in input order: ``model_score`` (higher = more plausible),
        ``model_trans_error`` (mean :math:`\|\hat x_0 - x_0\|^2`, A^2) and
        ``model_rot_error`` (normalised rotation-score error, 1 for a zero predictor); all
        None for a backbone with fewer than 2 complete residues.
    """
    device = torch.device(device)
    items = [_item(a) for a in backbones]
    results: list[dict[str, float | None]] = [
        {"model_score": None, "model_trans_error": None, "model_rot_error": None} for _ in items
    ]
    order = sorted(
        (i for i, it in enumerate(items) if len(it.mask) >= 2), key=lambda i: len(items[i].mask)
    )
    for start in range(0, len(order), max(1, batch_size)):
        chunk = order[start : start + max(1, batch_size)]
        values = _score_batch(model, [items[i] for i in chunk], t_grid, seed, device)
        for i, (score, trans, rot) in zip(chunk, values, strict=True):
            results[i] = {
                "model_score": float(score),
                "model_trans_error": float(trans),
                "model_rot_error": float(rot),
            }
    return results
