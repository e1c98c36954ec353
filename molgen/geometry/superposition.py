r"""Optimal superposition (Kabsch) and RMSD of point sets (Angstrom).

Finds the rotation :math:`R` and translation :math:`t` minimising
:math:`\sum_i w_i \|R\,p_i + t - q_i\|^2`: with weighted centroids :math:`\bar p, \bar q` and
:math:`H = \sum_i w_i (p_i - \bar p)(q_i - \bar q)^T = U S V^T`,

.. math:: R = V\,\mathrm{diag}(1, 1, d)\,U^T,\quad d = \mathrm{sign}\det(V U^T),\quad
          t = \bar q - R\bar p

(Kabsch 1976; the sign correction excludes reflections).
"""

from __future__ import annotations

import torch

__all__ = ["kabsch", "superimpose", "rmsd"]


def _weights(points: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    if mask is None:
        return torch.ones_like(points[..., 0])
    return mask.to(points.dtype)


def kabsch(
    mobile: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Rotation and translation that best superimpose ``mobile`` onto ``target``.

    Parameters
    ----------
    mobile, target : torch.Tensor, shape ``(..., N, 3)``, Angstrom
    mask : torch.Tensor, shape ``(..., N)``, optional
        Points to use (bool) or weights.

    Returns
    -------
    rotation : torch.Tensor, shape ``(..., 3, 3)``
    translation : torch.Tensor, shape ``(..., 3)``, Angstrom
        ``mobile @ rotation.T + translation`` is the superimposed point set.
    """
    w = _weights(mobile, mask)[..., None]
    total = w.sum(-2).clamp_min(1e-12)
    p_mean = (w * mobile).sum(-2) / total
    q_mean = (w * target).sum(-2) / total
    p = mobile - p_mean[..., None, :]
    q = target - q_mean[..., None, :]
    h = (w * p).transpose(-1, -2) @ q
    u, _, vh = torch.linalg.svd(h)
    v = vh.transpose(-1, -2)
    d = torch.sign(torch.linalg.det(v @ u.transpose(-1, -2)))
    d = torch.where(d == 0, torch.ones_like(d), d)
    diag = torch.ones_like(h[..., 0])
    diag = torch.cat([diag[..., :2], d[..., None]], -1)
    rotation = v @ torch.diag_embed(diag) @ u.transpose(-1, -2)
    translation = q_mean - (rotation @ p_mean[..., None])[..., 0]
    return rotation, translation


def superimpose(
    mobile: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """``mobile`` (``(..., N, 3)``, Angstrom) moved onto ``target`` by :func:`kabsch`."""
    rotation, translation = kabsch(mobile, target, mask)
    return mobile @ rotation.transpose(-1, -2) + translation[..., None, :]


def rmsd(
    mobile: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor | None = None,
    align: bool = True,
) -> torch.Tensor:
    r"""Root-mean-square deviation (Angstrom), after optimal superposition if ``align``.

    .. math:: \mathrm{RMSD} = \sqrt{\textstyle\sum_i w_i \|p_i - q_i\|^2 / \sum_i w_i}

    Parameters
    ----------
    mobile, target : torch.Tensor, shape ``(..., N, 3)``, Angstrom
    mask : torch.Tensor, shape ``(..., N)``, optional

    Returns
    -------
    torch.Tensor, shape ``(...)``, Angstrom
    """
    if align:
        mobile = superimpose(mobile, target, mask)
    w = _weights(mobile, mask)
    sq = ((mobile - target) ** 2).sum(-1)
    return torch.sqrt((w * sq).sum(-1) / w.sum(-1).clamp_min(1e-12))
