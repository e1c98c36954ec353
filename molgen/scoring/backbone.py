r"""Learned plausibility of protein backbones: how well the frame score network denoises them.

For a backbone with clean frames :math:`(R_0, x_0)` (CA-centred, Angstrom) and each time
:math:`t_k` of a fixed grid, the frames are noised with the model's own
:meth:`molgen.diffusion.SE3Diffuser.sample_marginal` and the network predicts the clean
positions :math:`\hat x_0` and the rotation score :math:`\hat s_R`. The per-residue error is the
one the network was trained on (:func:`molgen.models.denoising.frame_errors`, as in the loss):

.. math::

    e_i(t) = \lambda(t) \frac{\|\hat x_{0,i} - x_{0,i}\|^2}{s^2}
        + \frac{\|\hat s_{R,i} - s_{R,i}\|^2}{\mathbb E\|s_R\|^2(t)},
    \qquad E_k = \operatorname{mean}_i e_i(t_k),

with :math:`s` = 10 Angstrom and the training loss's EDM weight
:math:`\lambda(t) = 1 + \alpha_t^2/\sigma_t^2`. Each grid time tests another scale: small
:math:`t` the local geometry (coordinate noise, segment swaps, mirror images), large :math:`t`
the global shape (a straight 100-residue helix is trivial to denoise locally but looks nothing
like a folded chain once blurred). So the score is the worst standardised error over the grid,

.. math::

    z_k = \frac{\log E_k - \mu_k}{s_k}, \qquad \text{denoising\_score} = -\max_k z_k,

where :math:`\mu_k, s_k` are the mean and standard deviation of :math:`\log E_k` over real
train chains (:func:`calibrate`, stored with the weights under ``extra.score_calibration``).
Higher is more plausible; about -1 is typical of real chains (the largest of a few standard
normal deviates), below -3 means some noise level is 3 standard deviations harder to denoise
than for real proteins. A model without calibration uses :math:`\mu = 0, s = 1`.

Why denoising error and not a probability-flow ODE likelihood: it needs one network call per
grid time (5 by default) instead of hundreds of ODE steps plus divergence estimates, and it is
exactly the quantity the network was trained to minimise.

Determinism: the noise of a structure comes from a generator seeded by ``(seed, k)`` only, so
every structure of a given length sees the same noise draws (common random numbers: a chain
and its decoy are compared under identical noise), and the noise never depends on which other
structures share the batch. Batches group similar lengths; the network ignores padding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from molgen.datasets.pdb_chains import BackboneItem, collate_backbones
from molgen.geometry import Frames, center
from molgen.io.strand_pairing import MAX_PARTNERS
from molgen.models.denoising import LENGTH_UNIT, edm_weight, frame_errors
from molgen.seeding import seeded_generator

__all__ = ["DEFAULT_T_GRID", "ScoreCalibration", "backbone_model_scores", "calibrate"]

#: Diffusion times of the score (translation noise sigma_t / alpha_t of about 0.45, 1.1, 3.4,
#: 11 and 250 Angstrom RMS per coordinate under the default VP schedule).
DEFAULT_T_GRID = (0.01, 0.03, 0.1, 0.3, 0.8)


@dataclass(frozen=True)
class ScoreCalibration:
    """Mean and standard deviation of the log denoising error at each grid time (real chains)."""

    t_grid: tuple[float, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    chains: int = 0

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_model(cls, model: nn.Module, t_grid: Sequence[float]) -> ScoreCalibration:
        """The calibration stored with ``model`` for this grid, else the identity (0, 1)."""
        stored = getattr(model, "extra", {}).get("score_calibration")
        grid = np.asarray(stored["t_grid"] if stored else [], dtype=float)
        if grid.shape == (len(t_grid),) and np.allclose(grid, t_grid):
            return cls(*(tuple(stored[k]) for k in ("t_grid", "mean", "std")), stored["chains"])
        k = len(t_grid)
        return cls(tuple(t_grid), (0.0,) * k, (1.0,) * k)


def _item(atoms: np.ndarray) -> BackboneItem:
    """A CA-centred item of the residues with finite N, CA, C (others dropped)."""
    atoms = np.asarray(atoms, dtype=np.float64)
    keep = np.isfinite(atoms[:, :3]).all(axis=(-1, -2))
    atoms = np.nan_to_num(atoms[keep])  # a missing O is not read by the score
    tensor = torch.from_numpy(atoms).float()
    tensor = tensor - tensor[:, 1].mean(0)
    n = len(tensor)
    index = torch.from_numpy(np.flatnonzero(keep))  # gaps stay visible to the network
    return BackboneItem(
        atoms=tensor,
        mask=torch.ones(n, dtype=torch.bool),
        residue_index=index,
        ss=torch.zeros(n, dtype=torch.long),  # unspecified: the score is unconditional
        partners=torch.full((n, MAX_PARTNERS), -1, dtype=torch.long),
        sequence="X" * n,
        name="",
    )


@torch.no_grad()
def _score_batch(
    model: nn.Module,
    items: Sequence[BackboneItem],
    t_grid: Sequence[float],
    seed: int,
    device: torch.device,
) -> np.ndarray:
    """Per structure: errors ``E_k`` ``[B, K]``, mean translation (A^2) and rotation errors."""
    diffuser = model.diffuser
    dtype = next(model.parameters()).dtype
    batch = collate_backbones(items).to(device)
    mask = batch.mask
    rot_0, x_0 = batch.rotations.to(dtype), center(batch.translations.to(dtype), mask)
    trans_err = torch.zeros(len(items), dtype=torch.float64, device=device)
    rot_err = torch.zeros_like(trans_err)
    errors = []
    for k, t_value in enumerate(t_grid):
        rot_t, x_t, rot_score = (
            torch.empty_like(rot_0),
            torch.empty_like(x_0),
            torch.zeros_like(x_0),
        )
        for b, item in enumerate(items):  # per-structure noise: independent of the batch
            n = len(item.mask)
            gen = seeded_generator(seed, k)
            # Drawn in float32 whatever the network's dtype, so a float64 network sees the
            # same noise as the float32 one it was calibrated with.
            frames = Frames(rot_0[b : b + 1, :n].cpu().float(), x_0[b : b + 1, :n].cpu().float())
            noisy = diffuser.sample_marginal(frames, t_value, generator=gen)
            rot_t[b, :n], x_t[b, :n] = noisy.rot_t[0], noisy.trans_t[0]
            rot_score[b, :n] = noisy.rot_score[0]
        rot_t = torch.where(mask[..., None, None], rot_t, rot_0)
        x_t = torch.where(mask[..., None], x_t, x_0)
        t = torch.full((len(items),), t_value, dtype=dtype, device=device)
        out = model(rot_t, x_t, t, mask, None, batch.residue_index)
        m = mask.to(dtype)
        count = m.sum(-1)
        x_err, r_err = frame_errors(diffuser, out, x_0, rot_score, t, mask)  # [B, L]
        x_err = ((x_err * m).sum(-1) / count).double()  # [B]
        r_err = ((r_err * m).sum(-1) / count).double()
        weight = float(edm_weight(diffuser.r3, torch.tensor(t_value, dtype=torch.float64)))
        errors.append(weight * x_err / LENGTH_UNIT**2 + r_err)
        trans_err, rot_err = trans_err + x_err, rot_err + r_err
    k = len(t_grid)
    return (
        torch.stack(errors, -1).cpu().numpy(),
        (trans_err / k).cpu().numpy(),
        (rot_err / k).cpu().numpy(),
    )


def denoising_errors(
    model: nn.Module,
    backbones: Sequence[np.ndarray],
    *,
    seed: int = 0,
    t_grid: Sequence[float] = DEFAULT_T_GRID,
    batch_size: int = 32,
    device: str | torch.device = "cpu",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``E [N, K]`` (module docstring) with mean translation (A^2) and rotation errors ``[N]``.

    Rows of backbones with fewer than 2 complete residues are NaN.
    """
    device = torch.device(device)
    items = [_item(a) for a in backbones]
    errors = np.full((len(items), len(t_grid)), np.nan)
    trans, rot = np.full(len(items), np.nan), np.full(len(items), np.nan)
    order = sorted(
        (i for i, it in enumerate(items) if len(it.mask) >= 2), key=lambda i: len(items[i].mask)
    )
    for start in range(0, len(order), max(1, batch_size)):
        chunk = order[start : start + max(1, batch_size)]
        e, x, r = _score_batch(model, [items[i] for i in chunk], t_grid, seed, device)
        errors[chunk], trans[chunk], rot[chunk] = e, x, r
    return errors, trans, rot


def calibrate(
    model: nn.Module,
    backbones: Sequence[np.ndarray],
    *,
    seed: int = 0,
    t_grid: Sequence[float] = DEFAULT_T_GRID,
    batch_size: int = 32,
    device: str | torch.device = "cpu",
) -> ScoreCalibration:
    """Mean and standard deviation of log E_k over ``backbones`` (real train chains)."""
    errors, _, _ = denoising_errors(
        model, backbones, seed=seed, t_grid=t_grid, batch_size=batch_size, device=device
    )
    logs = np.log(errors[np.isfinite(errors).all(-1)])
    if len(logs) < 2:
        raise ValueError("need at least 2 backbones with 2 or more complete residues")
    return ScoreCalibration(
        tuple(float(t) for t in t_grid),
        tuple(logs.mean(0).tolist()),
        tuple(logs.std(0, ddof=1).tolist()),
        len(logs),
    )


def _rounded(value: float) -> float:
    """To 9 significant digits: a batch's float64 rounding (~1e-15) never shows."""
    return float(f"{float(value):.9g}")


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
        Per backbone, in input order: ``denoising_score`` (:math:`-\max_k z_k`, higher =
        more plausible),
        ``model_trans_error`` (mean :math:`\|\hat x_0 - x_0\|^2`, A^2) and
        ``model_rot_error`` (normalised rotation-score error, 1 for a zero predictor); all
        None for a backbone with fewer than 2 complete residues.
    """
    errors, trans, rot = denoising_errors(
        model, backbones, seed=seed, t_grid=t_grid, batch_size=batch_size, device=device
    )
    cal = ScoreCalibration.from_model(model, t_grid)
    z = (np.log(errors) - np.asarray(cal.mean)) / np.asarray(cal.std)  # [N, K]
    results: list[dict[str, float | None]] = []
    for i in range(len(errors)):
        ok = bool(np.isfinite(errors[i]).all())
        results.append(
            {
                "denoising_score": _rounded(-z[i].max()) if ok else None,
                "model_trans_error": _rounded(trans[i]) if ok else None,
                "model_rot_error": _rounded(rot[i]) if ok else None,
            }
        )
    return results
