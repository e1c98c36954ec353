r"""The rotation group SO(3): hat/vee, exponential and logarithm maps, random rotations.

A rotation vector :math:`v \in \mathbb{R}^3` has angle :math:`\omega = \|v\|` (radians) and
axis :math:`v / \omega`. The exponential map is Rodrigues' formula

.. math::

    \exp(\hat v) = I + \frac{\sin\omega}{\omega}\hat v + \frac{1-\cos\omega}{\omega^2}\hat v^2 ,

with :math:`\hat v` the skew-symmetric matrix such that :math:`\hat v u = v \times u`.

All functions take any leading batch dimensions, work in float32 and float64 (never cast),
are differentiable, and leave their inputs unchanged. Small-angle branches use Taylor series
so that values and gradients stay finite at :math:`\omega = 0`; the logarithm near
:math:`\omega = \pi` reads the axis off the symmetric part of the matrix, where the usual
:math:`(R - R^T) / (2\sin\omega)` formula loses all precision.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "hat",
    "vee",
    "rotvec_to_matrix",
    "matrix_to_rotvec",
    "rotation_angle",
    "geodesic_distance",
    "random_rotation",
]

# Below this angle (radians) the Taylor series replace the closed forms; the series are exact
# to float64 round-off there (next term ~ omega^6 / 5040).
_SMALL_ANGLE = 1e-3


def hat(v: torch.Tensor) -> torch.Tensor:
    r"""Skew-symmetric matrix of a vector, :math:`\hat v u = v \times u`.

    Parameters
    ----------
    v : torch.Tensor, shape ``(..., 3)``

    Returns
    -------
    torch.Tensor, shape ``(..., 3, 3)``

    Examples
    --------
    >>> hat(torch.tensor([1.0, 2.0, 3.0]))
    tensor([[ 0., -3.,  2.],
            [ 3.,  0., -1.],
            [-2.,  1.,  0.]])
    """
    x, y, z = v.unbind(-1)
    zero = torch.zeros_like(x)
    rows = (
        torch.stack([zero, -z, y], dim=-1),
        torch.stack([z, zero, -x], dim=-1),
        torch.stack([-y, x, zero], dim=-1),
    )
    return torch.stack(rows, dim=-2)


def vee(m: torch.Tensor) -> torch.Tensor:
    r"""Inverse of :func:`hat`: the vector of the skew-symmetric part of ``m``.

    .. math:: \mathrm{vee}(M) = \tfrac12 (M_{32} - M_{23},\; M_{13} - M_{31},\; M_{21} - M_{12})

    Parameters
    ----------
    m : torch.Tensor, shape ``(..., 3, 3)``

    Returns
    -------
    torch.Tensor, shape ``(..., 3)``
    """
    return 0.5 * torch.stack(
        [m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]],
        dim=-1,
    )


def _sinc_terms(omega_sq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Return :math:`a = \sin\omega/\omega` and :math:`b = (1-\cos\omega)/\omega^2`.

    Uses Taylor series below ``_SMALL_ANGLE`` (safe ``where``: the unused branch never sees
    a zero denominator, so gradients stay finite).
    """
    small = omega_sq < _SMALL_ANGLE**2
    safe_sq = torch.where(small, torch.ones_like(omega_sq), omega_sq)
    omega = torch.sqrt(safe_sq)
    a_closed = torch.sin(omega) / omega
    b_closed = (1.0 - torch.cos(omega)) / safe_sq
    a_series = 1.0 - omega_sq / 6.0 + omega_sq**2 / 120.0
    b_series = 0.5 - omega_sq / 24.0 + omega_sq**2 / 720.0
    return torch.where(small, a_series, a_closed), torch.where(small, b_series, b_closed)


def rotvec_to_matrix(rotvec: torch.Tensor) -> torch.Tensor:
    r"""Exponential map: rotation vector (radians) to rotation matrix (Rodrigues' formula).

    .. math:: R = I + a(\omega)\,\hat v + b(\omega)\,\hat v^2,\quad
        a = \frac{\sin\omega}{\omega},\; b = \frac{1-\cos\omega}{\omega^2}

    Parameters
    ----------
    rotvec : torch.Tensor, shape ``(..., 3)``
        Axis times angle, angle in radians.

    Returns
    -------
    matrix : torch.Tensor, shape ``(..., 3, 3)``

    Notes
    -----
    Below :math:`\omega = 10^{-3}` the coefficients come from their Taylor series.

    Examples
    --------
    A 90 degree rotation about x maps y to z:

    >>> R = rotvec_to_matrix(torch.tensor([math.pi / 2, 0.0, 0.0], dtype=torch.float64))
    >>> (R @ torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64)).round(decimals=12)
    tensor([0., 0., 1.], dtype=torch.float64)
    """
    omega_sq = (rotvec * rotvec).sum(-1)
    a, b = _sinc_terms(omega_sq)
    k = hat(rotvec)
    eye = torch.eye(3, dtype=rotvec.dtype, device=rotvec.device).expand(k.shape)
    return eye + a[..., None, None] * k + b[..., None, None] * (k @ k)


def rotation_angle(matrix: torch.Tensor) -> torch.Tensor:
    r"""Rotation angle :math:`\omega \in [0, \pi]` (radians) of rotation matrices ``(..., 3, 3)``.

    Computed as :math:`\mathrm{atan2}(\|\mathrm{vee}(R)\|, (\mathrm{tr} R - 1)/2)`, which is
    accurate over the whole range (``acos`` of the trace loses half the digits near 0 and pi).
    """
    sin_omega = torch.linalg.vector_norm(vee(matrix), dim=-1)
    cos_omega = 0.5 * (matrix.diagonal(dim1=-2, dim2=-1).sum(-1) - 1.0)
    return torch.atan2(sin_omega, cos_omega)


def matrix_to_rotvec(matrix: torch.Tensor) -> torch.Tensor:
    r"""Logarithm map: rotation matrix to rotation vector with angle in :math:`[0, \pi]`.

    .. math:: v = \frac{\omega}{\sin\omega}\,\mathrm{vee}(R), \qquad
        \omega = \mathrm{atan2}(\|\mathrm{vee}(R)\|, (\mathrm{tr}R - 1)/2)

    Parameters
    ----------
    matrix : torch.Tensor, shape ``(..., 3, 3)``
        Rotation matrices (orthonormal, det +1).

    Returns
    -------
    rotvec : torch.Tensor, shape ``(..., 3)``
        Axis times angle, angle in radians in :math:`[0, \pi]`.

    Notes
    -----
    Three branches: a Taylor series :math:`\omega/\sin\omega \approx 1 + \omega^2/6` for small
    angles; the closed form in the middle; and for :math:`\omega > \pi - 10^{-2}`, where
    :math:`\sin\omega \to 0`, the axis from the symmetric part
    :math:`(R + R^T)/2 = I + (1-\cos\omega)(nn^T - I)`, its sign fixed by :math:`\mathrm{vee}(R)`.
    """
    omega = rotation_angle(matrix)
    v = vee(matrix)
    # Small and middle angles: v * omega / sin(omega).
    small = omega < _SMALL_ANGLE
    near_pi = omega > math.pi - 1e-2
    sin_omega = torch.sin(omega)
    safe_sin = torch.where(small | near_pi, torch.ones_like(sin_omega), sin_omega)
    scale = torch.where(small, 1.0 + omega**2 / 6.0, omega / safe_sin)
    regular = v * scale[..., None]

    # Near pi: n n^T = ((R + R^T)/2 - cos w I) / (1 - cos w); take the largest diagonal column.
    cos_omega = torch.cos(omega)
    sym = 0.5 * (matrix + matrix.transpose(-1, -2))
    eye = torch.eye(3, dtype=matrix.dtype, device=matrix.device)
    denom = torch.where(near_pi, 1.0 - cos_omega, torch.ones_like(cos_omega))
    nnt = (sym - cos_omega[..., None, None] * eye) / denom[..., None, None]
    best = nnt.diagonal(dim1=-2, dim2=-1).argmax(-1)
    column = torch.gather(nnt, -1, best[..., None, None].expand(*nnt.shape[:-1], 1)).squeeze(-1)
    pivot = torch.gather(column, -1, best[..., None]).clamp_min(1e-12).sqrt()
    axis = column / pivot
    # The axis sign: vee(R) = sin(w) n points along +n for w < pi.
    sign = torch.where((axis * v).sum(-1) < 0, -1.0, 1.0).to(matrix.dtype)
    axis = axis * sign[..., None]
    axis = axis / torch.linalg.vector_norm(axis, dim=-1, keepdim=True).clamp_min(1e-12)
    return torch.where(near_pi[..., None], axis * omega[..., None], regular)


def geodesic_distance(r1: torch.Tensor, r2: torch.Tensor) -> torch.Tensor:
    r"""Geodesic distance (radians) on SO(3): the angle of :math:`R_1^T R_2`, in :math:`[0,\pi]`.

    Parameters
    ----------
    r1, r2 : torch.Tensor, shape ``(..., 3, 3)`` (broadcastable)

    Returns
    -------
    torch.Tensor, shape ``(...)``
    """
    return rotation_angle(r1.transpose(-1, -2) @ r2)


def random_rotation(
    *shape: int,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Rotation matrices drawn uniformly (Haar measure) from SO(3).

    Normalises standard-normal 4-vectors to unit quaternions (uniform on :math:`S^3`, which
    double-covers SO(3) with Haar measure) and converts them to matrices.

    Parameters
    ----------
    *shape : int
        Batch shape of the output.
    generator : torch.Generator, optional
        Source of randomness (same seed, same device: same rotations).

    Returns
    -------
    torch.Tensor, shape ``(*shape, 3, 3)``
    """
    if generator is not None and device is None:
        device = generator.device
    q = torch.randn(*shape, 4, dtype=dtype, device=device, generator=generator)
    q = q / torch.linalg.vector_norm(q, dim=-1, keepdim=True)
    w, x, y, z = q.unbind(-1)
    rows = (
        torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
        torch.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
        torch.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
    )
    return torch.stack(rows, dim=-2)
