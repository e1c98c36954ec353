r"""Rigid transforms :math:`T = (R, x)` acting as :math:`T(p) = R p + x` (lengths in Angstrom).

A transform is a pair of tensors, rotations ``(..., 3, 3)`` and translations ``(..., 3)``,
with matching leading dimensions (they batch like tensors). Composition follows function
composition, :math:`(T_1 \circ T_2)(p) = T_1(T_2(p))`, so
:math:`T_1 \circ T_2 = (R_1 R_2,\; R_1 x_2 + x_1)`. A residue frame maps local coordinates
into the world; composing a perturbation on the right, :math:`T \circ \Delta`, perturbs the
residue in its own frame (right composition).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["Frames", "apply_rigid", "center", "compose_rigid", "invert_apply_rigid", "invert_rigid"]

Rigid = tuple[torch.Tensor, torch.Tensor]


def compose_rigid(r1: torch.Tensor, x1: torch.Tensor, r2: torch.Tensor, x2: torch.Tensor) -> Rigid:
    r"""Compose two transforms: :math:`(R_1, x_1)\circ(R_2, x_2) = (R_1R_2,\; R_1x_2 + x_1)`.

    Parameters
    ----------
    r1, r2 : torch.Tensor, shape ``(..., 3, 3)``
    x1, x2 : torch.Tensor, shape ``(..., 3)``, Angstrom

    Returns
    -------
    rotation : torch.Tensor, shape ``(..., 3, 3)``
    translation : torch.Tensor, shape ``(..., 3)``, Angstrom
    """
    return r1 @ r2, (r1 @ x2[..., None])[..., 0] + x1


def invert_rigid(r: torch.Tensor, x: torch.Tensor) -> Rigid:
    r"""Inverse transform :math:`(R, x)^{-1} = (R^T, -R^T x)`.

    Parameters
    ----------
    r : torch.Tensor, shape ``(..., 3, 3)``
    x : torch.Tensor, shape ``(..., 3)``, Angstrom
    """
    rt = r.transpose(-1, -2)
    return rt, -(rt @ x[..., None])[..., 0]


def apply_rigid(r: torch.Tensor, x: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    r"""Apply :math:`p \mapsto R p + x` to points.

    Parameters
    ----------
    r : torch.Tensor, shape ``(..., 3, 3)``
    x : torch.Tensor, shape ``(..., 3)``, Angstrom
    points : torch.Tensor, shape ``(..., 3)`` or ``(..., M, 3)``
        With an extra ``M`` dimension, every point of a transform's group is moved by it.

    Returns
    -------
    torch.Tensor, same shape as ``points``, Angstrom
    """
    if points.dim() == x.dim() + 1:
        return points @ r.transpose(-1, -2) + x[..., None, :]
    return (r @ points[..., None])[..., 0] + x


def invert_apply_rigid(r: torch.Tensor, x: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    r"""Apply the inverse transform, :math:`p \mapsto R^T (p - x)` (world to local frame).

    Shapes as in :func:`apply_rigid`.
    """
    if points.dim() == x.dim() + 1:
        return (points - x[..., None, :]) @ r
    return (r.transpose(-1, -2) @ (points - x)[..., None])[..., 0]


def center(x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    r"""Subtract the centroid of the present points: :math:`x_i - \sum_j m_j x_j / \sum_j m_j`.

    Parameters
    ----------
    x : torch.Tensor, shape ``(..., L, 3)``, Angstrom
    mask : torch.Tensor, shape ``(..., L)``, optional
        1 for points that count in the centroid; masked points move too (the same shift).

    Returns
    -------
    torch.Tensor, shape ``(..., L, 3)``, Angstrom

    Examples
    --------
    >>> center(torch.tensor([[0.0, 0, 0], [2, 0, 0], [9, 9, 9]]), torch.tensor([1, 1, 0]))
    tensor([[-1.,  0.,  0.],
            [ 1.,  0.,  0.],
            [ 8.,  9.,  9.]])
    """
    if mask is None:
        return x - x.mean(-2, keepdim=True)
    m = mask.to(x.dtype)[..., None]
    return x - (m * x).sum(-2, keepdim=True) / m.sum(-2, keepdim=True).clamp_min(1.0)


@dataclass(frozen=True)
class Frames:
    r"""Residue frames as one value: rotations ``(..., L, 3, 3)``, translations ``(..., L, 3)``
    (Angstrom) and an optional padding mask ``(..., L)`` (True for present residues).

    It batches like a tensor: indexing, ``to`` and ``detach`` act on all three parts, the
    leading ``shape`` is ``(..., L)``. Frames compose as transforms (:func:`compose_rigid`,
    :math:`T_1 \circ T_2`) and act on points (:func:`apply_rigid`).

    Examples
    --------
    >>> f = Frames(torch.eye(3).expand(2, 5, 3, 3), torch.zeros(2, 5, 3))
    >>> f.shape, f[0].shape
    (torch.Size([2, 5]), torch.Size([5]))
    """

    rotations: torch.Tensor
    translations: torch.Tensor
    mask: torch.Tensor | None = None

    @property
    def shape(self) -> torch.Size:
        """Leading dimensions ``(..., L)``."""
        return self.translations.shape[:-1]

    def __getitem__(self, index) -> Frames:
        mask = None if self.mask is None else self.mask[index]
        return Frames(self.rotations[index], self.translations[index], mask)

    def to(self, *args, **kwargs) -> Frames:
        """``Tensor.to`` on rotations and translations (the mask keeps its dtype)."""
        x = self.translations.to(*args, **kwargs)
        mask = None if self.mask is None else self.mask.to(x.device)
        return Frames(self.rotations.to(*args, **kwargs), x, mask)

    def detach(self) -> Frames:
        return Frames(self.rotations.detach(), self.translations.detach(), self.mask)

    def compose(self, other: Frames) -> Frames:
        r""":math:`T_{self} \circ T_{other}`, keeping this value's mask."""
        rot, x = compose_rigid(
            self.rotations, self.translations, other.rotations, other.translations
        )
        return Frames(rot, x, self.mask)

    def apply(self, points: torch.Tensor) -> torch.Tensor:
        """Local points to the world, :math:`R p + x` (shapes as in :func:`apply_rigid`)."""
        return apply_rigid(self.rotations, self.translations, points)

    def where(self, keep: torch.Tensor, other: Frames) -> Frames:
        """Per residue, these frames where ``keep`` ``(..., L)`` is True, else ``other``'s."""
        rot = torch.where(keep[..., None, None], self.rotations, other.rotations)
        x = torch.where(keep[..., None], self.translations, other.translations)
        return Frames(rot, x, self.mask)
