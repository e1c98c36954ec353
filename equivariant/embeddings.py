r"""Invariant embeddings: radial basis of edge lengths with a smooth cutoff, and sinusoidal
embeddings of the diffusion time.

Edge directions are embedded with e3nn's spherical harmonics,
``e3nn.o3.spherical_harmonics(irreps_sh, edge_vec, normalize=True, normalization="component")``;
nothing is wrapped here for that.
"""

from __future__ import annotations

import math

import torch
from e3nn.math import soft_one_hot_linspace
from torch import Tensor, nn

__all__ = ["RadialEmbedding", "polynomial_envelope", "sinusoidal_embedding"]


def polynomial_envelope(x: Tensor, p: int = 6) -> Tensor:
    r"""Smooth cutoff :math:`u(x)` of DimeNet (Gasteiger et al. 2020, eq. 8) on :math:`x = d/c`.

    .. math::
        u(x) = 1 - \tfrac{(p+1)(p+2)}{2} x^p + p(p+2) x^{p+1} - \tfrac{p(p+1)}{2} x^{p+2}

    for :math:`0 \le x < 1` and 0 beyond; :math:`u(1) = u'(1) = u''(1) = 0` and :math:`u(0) = 1`.
    e3nn has no polynomial cutoff, hence this function.

    Parameters
    ----------
    x : Tensor
        Distances divided by the cutoff, any shape.
    p : int
        Polynomial order, ``p >= 2``.
    """
    a, b, c = (p + 1) * (p + 2) / 2, p * (p + 2), p * (p + 1) / 2
    u = 1 - a * x.pow(p) + b * x.pow(p + 1) - c * x.pow(p + 2)
    return torch.where(x < 1, u, torch.zeros_like(x))


class RadialEmbedding(nn.Module):
    r"""Radial basis of edge lengths that vanishes smoothly at the cutoff.

    ``basis="bessel"`` (NequIP/MACE, DimeNet): :math:`e_n(d) = \sqrt{2/c}\,
    \sin(n \pi d / c) / d \cdot u(d/c)` for :math:`n = 1..K` with the polynomial envelope
    :math:`u` (value and first two derivatives 0 at :math:`d = c`).
    ``basis="smooth_finite"``: e3nn's ``soft_one_hot_linspace(d, 0, c, K, "smooth_finite",
    cutoff=True)``, :math:`K` bumps of compact support whose derivatives of all orders are 0
    at :math:`0` and :math:`c`, scaled by :math:`\sqrt{K}`.

    Parameters
    ----------
    num_basis : int
        Number of basis functions :math:`K`.
    cutoff : float
        Cutoff distance :math:`c` (Angstrom); all features are 0 for :math:`d \ge c`.
    basis : {"bessel", "smooth_finite"}
        Basis family.

    Shapes
    ------
    lengths ``[...]`` (Angstrom) -> ``[..., num_basis]``, same dtype.
    """

    def __init__(self, num_basis: int, cutoff: float, basis: str = "bessel") -> None:
        super().__init__()
        if num_basis < 1:
            raise ValueError(f"num_basis must be >= 1, got {num_basis}")
        if not cutoff > 0:
            raise ValueError(f"cutoff must be positive, got {cutoff}")
        if basis not in ("bessel", "smooth_finite"):
            raise ValueError(f"basis must be 'bessel' or 'smooth_finite', got {basis!r}")
        self.num_basis, self.cutoff, self.basis = int(num_basis), float(cutoff), basis

    def forward(self, lengths: Tensor) -> Tensor:
        c = self.cutoff
        if self.basis == "smooth_finite":
            out = soft_one_hot_linspace(lengths, 0.0, c, self.num_basis, "smooth_finite", True)
            return out * math.sqrt(self.num_basis)
        n = torch.arange(1, self.num_basis + 1, dtype=lengths.dtype, device=lengths.device)
        # sin(n pi d / c) / d -> n pi / c at d = 0; clamp so that self-loops stay finite.
        d = lengths.clamp_min(1e-6 * c)[..., None]  # [..., 1]
        out = math.sqrt(2 / c) * torch.sin(n * math.pi * d / c) / d  # [..., K]
        return out * polynomial_envelope(d / c)

    def extra_repr(self) -> str:
        return f"num_basis={self.num_basis}, cutoff={self.cutoff}, basis={self.basis!r}"


def sinusoidal_embedding(
    t: Tensor, dim: int, max_period: float = 10000.0, scale: float = 1000.0
) -> Tensor:
    r"""Transformer-style sinusoidal embedding of a time or noise level (Vaswani et al. 2017).

    .. math::
        \mathrm{emb}(t) = [\cos(s t \omega_k), \sin(s t \omega_k)]_{k=0}^{D/2-1},
        \qquad \omega_k = P^{-k/(D/2)}

    with :math:`s` = ``scale`` and :math:`P` = ``max_period``. Diffusion time
    :math:`t \in [0, 1]` is scaled by ``scale=1000`` so that the fastest frequency turns
    about 160 times over the interval, as for the 1000 discrete steps of DDPM; pass
    ``scale=1`` for a quantity already on that range (e.g. :math:`\log \sigma` times a
    constant).

    Parameters
    ----------
    t : Tensor
        Floating tensor of any shape ``[...]``.
    dim : int
        Embedding size :math:`D`, even.
    max_period : float
        Longest period :math:`P` (in units of ``scale * t``).
    scale : float
        Factor applied to ``t`` first.

    Returns
    -------
    Tensor
        ``[..., dim]``, dtype and device of ``t``.
    """
    if dim < 2 or dim % 2:
        raise ValueError(f"dim must be a positive even number, got {dim}")
    if not torch.is_floating_point(t):
        raise ValueError(f"t must be a floating tensor, got {t.dtype}")
    half = dim // 2
    k = torch.arange(half, dtype=t.dtype, device=t.device)
    freqs = torch.exp(-math.log(max_period) * k / half)  # [D/2]
    angles = scale * t[..., None] * freqs  # [..., D/2]
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)
