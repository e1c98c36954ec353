r"""Denoising score-matching loss for the backbone frame network (FrameDiff-style).

For a batch of real chains (frames :math:`(R_0, x_0)`, atoms, mask) and per-chain times
:math:`t \sim U(t_{\min}, 1)` (or, for a share ``focus_rate`` of the chains,
:math:`t \sim U(t_a, t_b)` with ``focus_min_t``, ``focus_max_t``: more samples of the
intermediate times where the EDM weight below is small but the strand register is decided),
the frames are noised with
:meth:`molgen.diffusion.SE3Diffuser.sample_marginal` and the network predicts scores and
clean frames. The loss is

.. math::

    \mathcal L = \lambda(t) \Big( w_x \frac{\|\hat x_0 - x_0\|^2}{s^2}
        + w_{aux} [t < t_{aux}] (\mathcal L_{atoms} + \mathcal L_{dist}) \Big)
        + w_R \frac{\|\hat s_R - s_R\|^2}{\mathbb E\|s_R\|^2}
        + w_\psi \|\hat\psi - \psi\|^2,

averaged over present residues: translations in the clean-frame (:math:`x_0`)
parameterisation, like all lengths here, in units of :math:`s` = 10 Angstrom, with the EDM
weight :math:`\lambda(t) = 1 + \alpha_t^2/\sigma_t^2` (Karras et al. 2022, data scale 1 in
these units). Without it the loss is dominated by large :math:`t`, where the best
:math:`\hat x_0` is a blurred mean 10-15 Angstrom off, and the sub-Angstrom errors at small
:math:`t` that decide bond lengths and clashes give no gradient; with it every :math:`t`
contributes on one scale (it is the noise-prediction loss plus the :math:`x_0` loss). The rotation
score error weighted by the inverse IGSO(3) score norm (``score_norm``), so every :math:`t`
contributes on one scale;
:math:`\psi` as a unit (cos, sin) pair. At small :math:`t` two auxiliary terms (FrameDiff,
Yim et al. 2023, Sec. 4.2) act on backbone atoms rebuilt from the predicted frames: the squared
error of N, CA, C, O positions, and of all intra-chain atom-pair distances below 6 Angstrom.

Self-conditioning (Chen et al. 2022): with probability ``self_condition_rate`` a first,
gradient-free pass supplies :math:`\hat x_0` as an input to the second.

Secondary-structure labels (for a network with ``ss_condition``) are dropped at random so
that one network samples with and without a blueprint: a chain loses all its labels with
probability ``ss_drop_chain_rate``; otherwise each label is replaced by X (unspecified)
with a rate drawn per chain from :math:`U(0, r_{\max})`, ``ss_drop_residue_max``. Strand
partners (for a network with ``pair_condition``) are dropped for a whole chain with probability
``pair_drop_chain_rate``, independently of the labels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from molgen.datasets.pdb_chains import BackboneBatch
from molgen.diffusion.se3 import DEFAULT_MIN_T
from molgen.geometry import Frames, backbone_dihedrals, backbone_from_frames, center
from molgen.models.denoising import LENGTH_UNIT, edm_weight, frame_errors

__all__ = ["BackboneLossConfig", "backbone_loss", "draw_times", "drop_labels", "drop_partners"]


@dataclass
class BackboneLossConfig:
    """Weights and time range of :func:`backbone_loss` (see the module docstring)."""

    min_t: float = DEFAULT_MIN_T
    trans_weight: float = 1.0
    rot_weight: float = 0.5
    psi_weight: float = 0.1
    aux_weight: float = 0.25
    aux_max_t: float = 0.25
    distance_cutoff: float = 6.0
    length_unit: float = LENGTH_UNIT
    self_condition_rate: float = 0.5
    ss_drop_chain_rate: float = 0.3
    ss_drop_residue_max: float = 0.5
    pair_drop_chain_rate: float = 0.5
    focus_rate: float = 0.0
    focus_min_t: float = 0.08
    focus_max_t: float = 0.4


def drop_labels(ss: Tensor, config: BackboneLossConfig, generator: torch.Generator) -> Tensor:
    """Blueprint codes ``[B, L]`` with labels replaced by 0 (X) as the module docstring says."""
    b = ss.shape[0]
    uniform = {"dtype": torch.float32, "device": ss.device, "generator": generator}
    rate = torch.rand(b, **uniform) * config.ss_drop_residue_max  # [B]
    rate = torch.where(torch.rand(b, **uniform) < config.ss_drop_chain_rate, 1.0, rate)
    keep = torch.rand(ss.shape, **uniform) >= rate[:, None]  # [B, L]
    return torch.where(keep, ss, torch.zeros_like(ss))


def drop_partners(partners: Tensor, rate: float, generator: torch.Generator) -> Tensor:
    """Strand partners ``[B, L, P]`` with every chain's set to -1 (none) with probability
    ``rate``."""
    uniform = {"dtype": torch.float32, "device": partners.device, "generator": generator}
    drop = torch.rand(partners.shape[0], **uniform) < rate  # [B]
    return torch.where(drop[:, None, None], torch.full_like(partners, -1), partners)


def draw_times(
    count: int,
    config: BackboneLossConfig,
    generator: torch.Generator,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
) -> Tensor:
    """``count`` training times: each from U(``min_t``, 1), or with probability
    ``focus_rate`` from U(``focus_min_t``, ``focus_max_t``). Without focus the generator
    gives one number per chain, as before the option existed (runs resume identically)."""
    uniform = {"dtype": dtype, "device": device, "generator": generator}
    u = torch.rand(count, **uniform)
    if config.focus_rate <= 0:
        return config.min_t + (1 - config.min_t) * u
    focus = torch.rand(count, **uniform) < config.focus_rate
    low = torch.where(focus, config.focus_min_t, config.min_t).to(dtype)
    high = torch.where(focus, config.focus_max_t, 1.0).to(dtype)
    return low + (high - low) * u


def _masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``values [B, L]`` over ``mask [B, L]`` entries (0 if none)."""
    m = mask.to(values.dtype)
    return (values * m).sum() / m.sum().clamp_min(1.0)


def _true_psi(atoms: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """(cos psi, sin psi) ``[B, L, 2]`` of the real chain and where psi is defined ``[B, L]``."""
    _, psi, _ = backbone_dihedrals(atoms, mask)
    defined = torch.isfinite(psi)
    psi = torch.nan_to_num(psi)
    return torch.stack([torch.cos(psi), torch.sin(psi)], -1), defined


def _distance_loss(
    pred: Tensor, true: Tensor, mask: Tensor, cutoff: float, weight: Tensor
) -> Tensor:
    """Weighted squared error of atom-pair distances < ``cutoff`` (true) in each chain (A^2).

    ``weight [B]`` multiplies each chain's pair errors.
    """
    b, length = mask.shape
    p, q = pred.reshape(b, length * 4, 3), true.reshape(b, length * 4, 3)
    atom_mask = mask[..., None].expand(b, length, 4).reshape(b, length * 4)
    d_true = torch.cdist(q, q)
    d_pred = torch.cdist(p, p)
    pairs = atom_mask[:, :, None] & atom_mask[:, None, :] & (d_true < cutoff)
    pairs &= ~torch.eye(length * 4, dtype=torch.bool, device=mask.device)
    err = (d_pred - d_true) ** 2 * pairs * weight[:, None, None]
    return err.sum() / pairs.sum().clamp_min(1)


def backbone_loss(
    model: torch.nn.Module,
    batch: BackboneBatch,
    generator: torch.Generator,
    config: BackboneLossConfig | None = None,
    t: Tensor | None = None,
) -> tuple[Tensor, dict[str, float]]:
    """One training loss of ``model`` (a FrameScoreNetwork, possibly DDP-wrapped) on ``batch``.

    ``t`` (``[B]``) fixes the diffusion times instead of drawing them (for evaluation per t).
    Returns the scalar loss and a dict of float metrics (each term, for the CSV log).
    """
    cfg = config or BackboneLossConfig()
    net = model.module if hasattr(model, "module") else model  # unwrap DDP
    diffuser = net.diffuser
    mask = batch.mask.bool()  # [B, L]
    rot_0, x_0 = batch.frames
    x_0 = center(x_0, mask)  # [B, L, 3], Angstrom
    atoms_0 = batch.atoms - (batch.translations - x_0)[:, :, None, :]  # same shift, [B, L, 4, 3]
    dtype, device = x_0.dtype, x_0.device
    if t is None:
        t = draw_times(mask.shape[0], cfg, generator, dtype=dtype, device=device)
    noisy = diffuser.sample_marginal(Frames(rot_0, x_0, mask), t, generator=generator)

    res = batch.residue_index
    ss = drop_labels(batch.ss, cfg, generator) if net.config.ss_condition else None
    if ss is not None and getattr(net.config, "pair_condition", False):
        partners = drop_partners(batch.partners, cfg.pair_drop_chain_rate, generator)
        ss = torch.cat([ss[..., None], partners], dim=-1)  # [B, L, 1 + P]
    self_cond = None
    draw = torch.rand((), dtype=dtype, device=device, generator=generator)
    if net.config.self_condition and float(draw) < cfg.self_condition_rate:
        with torch.no_grad():
            first = model(noisy.rot_t, noisy.trans_t, t, mask, None, res, ss, generator)
            self_cond = first["x0"].detach()
    out = model(noisy.rot_t, noisy.trans_t, t, mask, self_cond, res, ss, generator)

    # Translations: clean-frame error in units of 10 A; rotations: score error over E||s||^2.
    trans_err, rot_err = frame_errors(diffuser, out, x_0, noisy.rot_score, t, mask)  # [B, L]
    weight = edm_weight(diffuser.r3, t).to(dtype)  # [B]
    trans = _masked_mean(trans_err * weight[:, None], mask) / cfg.length_unit**2
    rot = _masked_mean(rot_err, mask)
    psi_true, psi_defined = _true_psi(atoms_0, mask)
    psi = _masked_mean(((out["psi"] - psi_true) ** 2).sum(-1), psi_defined)

    aux = torch.zeros((), dtype=dtype, device=device)
    small_t = t < cfg.aux_max_t  # [B]
    if small_t.any():
        psi_angle = torch.atan2(out["psi"][..., 1], out["psi"][..., 0])
        atoms_pred = backbone_from_frames(out["R0"], center(out["x0"], mask), psi_angle, mask)
        atom_err = ((atoms_pred - atoms_0) ** 2).sum(-1).mean(-1)  # [B, L], A^2
        atom_err = atom_err * weight[:, None]
        aux = _masked_mean(atom_err, mask & small_t[:, None]) + _distance_loss(
            atoms_pred[small_t], atoms_0[small_t], mask[small_t], cfg.distance_cutoff,
            weight[small_t],
        )  # fmt: skip
        aux = aux / cfg.length_unit**2
    loss = cfg.trans_weight * trans + cfg.rot_weight * rot + cfg.psi_weight * psi
    loss = loss + cfg.aux_weight * aux
    terms = {"trans": trans, "rot": rot, "psi": psi, "aux": aux}
    metrics = {name: float(value.detach()) for name, value in terms.items()}
    metrics["x0_rmsd"] = math.sqrt(float(_masked_mean(trans_err.detach(), mask)))
    metrics["t_mean"] = float(t.mean())
    return loss, metrics
