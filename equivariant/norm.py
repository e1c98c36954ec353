r"""Equivariant layer normalisation of e3nn features (per node, per irreps block).

e3nn ships ``e3nn.nn.BatchNorm`` (statistics over the batch, running averages) but no layer
norm, which is what a diffusion score network wants (no batch coupling, same behaviour in
training and sampling); hence this module.
"""

from __future__ import annotations

import torch
from e3nn import o3
from torch import Tensor, nn

__all__ = ["EquivariantLayerNorm"]


class EquivariantLayerNorm(nn.Module):
    r"""Layer norm that commutes with O(3): scalars as usual, other irreps by their mean norm.

    For each block :math:`(m \times l_p)` of the irreps, with channels
    :math:`x_c \in \mathbb{R}^{2l+1}`, :math:`c = 1..m`:

    .. math::
        y_c = w_c \, \frac{x_c - \mu}{\sqrt{\tfrac{1}{m}\sum_{c'} \lVert x_{c'} - \mu
        \rVert^2 / (2l+1) + \epsilon}} + b_c

    where :math:`\mu` is the channel mean for even scalars (``0e`` blocks with :math:`m > 1`)
    and 0 otherwise, and the bias :math:`b_c` exists only for ``0e``. Norms are invariant and
    the weights are scalars, so :math:`y(D x) = D\, y(x)` for every irrep, parity included.
    (After Ba et al. 2016 and the per-degree norm of Equiformer, Liao & Smidt 2023.)

    Parameters
    ----------
    irreps : str or e3nn.o3.Irreps
        Irreps of the features.
    eps : float
        Added to the mean squared norm.
    affine : bool
        Learn the per-channel scale :math:`w` (init 1) and ``0e`` bias :math:`b` (init 0).

    Shapes
    ------
    x ``[..., irreps.dim]`` -> ``[..., irreps.dim]``.
    """

    def __init__(self, irreps: str | o3.Irreps, eps: float = 1e-5, affine: bool = True) -> None:
        super().__init__()
        try:
            self.irreps_in = self.irreps_out = o3.Irreps(irreps)
        except (ValueError, AssertionError) as err:
            raise ValueError(f"bad irreps {irreps!r}") from err
        self.eps = eps
        num_channels = self.irreps_in.num_irreps
        num_bias = sum(mul for mul, ir in self.irreps_in if ir == o3.Irrep("0e"))
        self.weight = nn.Parameter(torch.ones(num_channels)) if affine else None
        self.bias = nn.Parameter(torch.zeros(num_bias)) if affine else None

    def forward(self, x: Tensor) -> Tensor:
        out, w_at, b_at = [], 0, 0
        for (mul, ir), sl in zip(self.irreps_in, self.irreps_in.slices(), strict=True):
            block = x[..., sl].reshape(*x.shape[:-1], mul, ir.dim)  # [..., m, 2l+1]
            even_scalar = ir == o3.Irrep("0e")
            if even_scalar and mul > 1:
                block = block - block.mean(dim=-2, keepdim=True)
            var = block.pow(2).mean(dim=(-2, -1), keepdim=True)  # [..., 1, 1]
            block = block * torch.rsqrt(var + self.eps)
            if self.weight is not None:
                block = block * self.weight[w_at : w_at + mul, None]
                if even_scalar:
                    block = block + self.bias[b_at : b_at + mul, None]
                    b_at += mul
            w_at += mul
            out.append(block.reshape(*x.shape[:-1], mul * ir.dim))
        return torch.cat(out, dim=-1) if out else x

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.irreps_in} -> {self.irreps_out})"
