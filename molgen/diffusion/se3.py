r"""Diffusion over residue frames :math:`(R, x) \in SE(3)^L`: IGSO(3) and VP-SDE parts.

Rotations follow :class:`~molgen.diffusion.so3.SO3Diffuser` (right composition, scores in each
residue's local frame); translations (CA positions, Angstrom) follow
:class:`~molgen.diffusion.r3.R3Diffuser` restricted to the zero-centroid subspace
:math:`\{x : \sum_i m_i x_i = 0\}` of the present residues (mask :math:`m`). The data are
centred, the Gaussian noise is projected onto that subspace (:math:`z - \bar z`), and every
reverse step is projected again, so the translation process is the VP SDE on the
:math:`3(n-1)`-dimensional subspace, with the same :math:`\alpha_t, \sigma_t` and the score
:math:`-c^2(x_t - \alpha_t x_0)/\sigma_t^2` (1/Angstrom), itself centred. Padding residues
(mask 0) are left unchanged and get zero scores.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import torch

from molgen.diffusion.r3 import R3Diffuser, Time
from molgen.diffusion.so3 import SO3Diffuser
from molgen.geometry import Frames, center

__all__ = ["DEFAULT_MIN_T", "SE3Diffuser", "NoisyFrames"]

#: Smallest time of training and sampling: below it the frames are taken as data.
DEFAULT_MIN_T = 0.01


class NoisyFrames(NamedTuple):
    """Output of :meth:`SE3Diffuser.sample_marginal` (shapes ``[B, L, 3, 3]`` / ``[B, L, 3]``)."""

    rot_t: torch.Tensor
    trans_t: torch.Tensor  # Angstrom
    rot_score: torch.Tensor  # radian^-1, local frame
    trans_score: torch.Tensor  # 1/Angstrom


class SE3Diffuser:
    """Product of an :class:`SO3Diffuser` (``.so3``) and an :class:`R3Diffuser` (``.r3``)."""

    def __init__(self, so3: SO3Diffuser | None = None, r3: R3Diffuser | None = None) -> None:
        self.so3 = so3 if so3 is not None else SO3Diffuser()
        self.r3 = r3 if r3 is not None else R3Diffuser()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SE3Diffuser:
        """Build from a mapping with optional sub-mappings ``so3`` and ``r3``."""
        return cls(
            SO3Diffuser.from_config(config.get("so3", {})),
            R3Diffuser.from_config(config.get("r3", {})),
        )

    def score_norm(self, t: Time) -> tuple[torch.Tensor, torch.Tensor]:
        """``(rotation, translation)`` E||score||^2 per residue (radian^-2, 1/Angstrom^2)."""
        return self.so3.score_norm(t), self.r3.score_norm(t)

    def sample_marginal(
        self, frames_0: Frames, t: Time, generator: torch.Generator | None = None
    ) -> NoisyFrames:
        r"""Noise frames to time ``t``: rotations by IGSO(3), centred translations by the VP SDE.

        Parameters
        ----------
        frames_0 : Frames
            Clean frames ``[B, L]`` (translations in Angstrom); their mask (optional) marks
            the present residues.
        t : float or torch.Tensor ``[B]``, in (0, 1]

        Returns
        -------
        NoisyFrames
            ``rot_t``, ``trans_t`` (centred), ``rot_score``, ``trans_score``; padding residues
            keep their input frame (translation centred) and have zero scores.
        """
        rot_0, mask = frames_0.rotations, frames_0.mask
        x_0 = center(frames_0.translations, mask)
        rot_t, rot_score = self.so3.sample_marginal(rot_0, t, generator=generator)
        x_t, _ = self.r3.sample_marginal(x_0, t, generator=generator)
        alpha, _ = self.r3.marginal(torch.as_tensor(t, dtype=x_0.dtype, device=x_0.device))
        alpha = alpha.reshape(alpha.shape + (1,) * (x_0.ndim - alpha.ndim))
        # Project the noise x_t - alpha x_0 onto the zero-centroid subspace.
        x_t = alpha * x_0 + center(x_t - alpha * x_0, mask)
        trans_score = self.r3.score(x_t, x_0, t)
        if mask is not None:
            m = mask.bool()
            rot_t = torch.where(m[..., None, None], rot_t, rot_0)
            x_t = torch.where(m[..., None], x_t, x_0)
            rot_score = rot_score * m[..., None]
            trans_score = trans_score * m[..., None]
        return NoisyFrames(rot_t, x_t, rot_score, trans_score)

    def reverse_step(
        self,
        frames_t: Frames,
        score: tuple[torch.Tensor, torch.Tensor],
        t: Time,
        dt: float,
        *,
        noise_scale: float | tuple[float, float] = 1.0,
        generator: torch.Generator | None = None,
        ode: bool = False,
    ) -> Frames:
        """One reverse step of both parts from ``t`` to ``t - dt``; translations re-centred.

        ``noise_scale`` is one factor for both parts or a pair ``(rotations, translations)``.

        The verbs' common pattern ``(state_t, score, t, dt, noise_scale, generator, ode)``:
        here the state is :class:`~molgen.geometry.Frames` (its mask marks the present
        residues) and the score the pair ``(rot_score [B, L, 3], trans_score [B, L, 3])``
        (radian^-1 in each residue's frame, 1/Angstrom). See :meth:`SO3Diffuser.reverse_step`
        and :meth:`R3Diffuser.reverse_step`. Padding residues are unchanged.
        """
        rot_score, trans_score = score
        rot_t, trans_t, mask = frames_t.rotations, frames_t.translations, frames_t.mask
        rot_noise, trans_noise = (
            noise_scale if isinstance(noise_scale, tuple) else (noise_scale, noise_scale)
        )
        rot = self.so3.reverse_step(rot_t, rot_score, t, dt, rot_noise, generator, ode)
        x = self.r3.reverse_step(trans_t, trans_score, t, dt, trans_noise, generator, ode)
        x = center(x, mask)
        moved = Frames(rot, x, mask)
        return moved if mask is None else moved.where(mask.bool(), frames_t)

    def sample_prior(
        self,
        shape: tuple[int, int],
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
        generator: torch.Generator | None = None,
        mask: torch.Tensor | None = None,
    ) -> Frames:
        """Prior frames of ``shape`` ``(B, L)``: uniform rotations and translations
        ``N(0, I / c^2)`` (Angstrom) centred over the present residues (``mask [B, L]``,
        carried by the result)."""
        rot = self.so3.sample_prior(tuple(shape), dtype, device, generator)
        x = self.r3.sample_prior((*shape, 3), dtype, device, generator)
        return Frames(rot, center(x, mask), mask)
