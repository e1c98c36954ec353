r"""Output heads: read vectors (``1o``), scalars (``0e``) and pseudoscalars (``0o``) off
e3nn node features, and pseudoscalars off bonds (for torsion scores)."""

from __future__ import annotations

from e3nn import o3
from torch import Tensor, nn

__all__ = ["BondPseudoscalarHead", "PseudoscalarHead", "ScalarHead", "VectorHead"]


class _LinearHead(nn.Module):
    """``e3nn.o3.Linear`` from ``irreps_in`` to ``num x ir``; the input must contain ``ir``."""

    ir = o3.Irrep("0e")

    def __init__(self, irreps_in: str | o3.Irreps, num: int = 1) -> None:
        super().__init__()
        try:
            self.irreps_in = o3.Irreps(irreps_in)
        except (ValueError, AssertionError) as err:
            raise ValueError(f"irreps_in is not a valid irreps: {irreps_in!r}") from err
        if self.ir not in [ir for _, ir in self.irreps_in]:
            raise ValueError(f"irreps_in {self.irreps_in} has no {self.ir} part to read from")
        if num < 1:
            raise ValueError(f"num must be >= 1, got {num}")
        self.num = num
        self.irreps_out = o3.Irreps([(num, self.ir)])
        self.linear = o3.Linear(self.irreps_in, self.irreps_out, biases=self.ir == o3.Irrep("0e"))

    def forward(self, node_attr: Tensor) -> Tensor:
        return self.linear(node_attr)  # [N, num * (2l+1)]

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.irreps_in} -> {self.irreps_out})"


class ScalarHead(_LinearHead):
    r"""Invariant (``0e``) outputs, :math:`s = W h^{0e} + b`.

    Shapes
    ------
    node_attr ``[N, irreps_in.dim]`` -> ``[N, num]``.
    """


class PseudoscalarHead(_LinearHead):
    r"""Pseudoscalar (``0o``) outputs, :math:`s = W h^{0o}`: invariant under rotations and
    sign-flipped under reflections (no bias, which would break the parity).

    Shapes
    ------
    node_attr ``[N, irreps_in.dim]`` -> ``[N, num]``.
    """

    ir = o3.Irrep("0o")


class VectorHead(_LinearHead):
    r"""Polar vectors (``1o``), :math:`\vec v_k = \sum_c W_{kc} \vec h^{1o}_c`: they rotate with
    the input, :math:`\vec v(g h) = Q \vec v(h)` for every :math:`Q \in O(3)` (so they flip
    under inversion like positions), in Cartesian (x, y, z) order.

    Shapes
    ------
    node_attr ``[N, irreps_in.dim]`` -> ``[N, num_vectors, 3]``.
    """

    ir = o3.Irrep("1o")

    def __init__(self, irreps_in: str | o3.Irreps, num_vectors: int = 1) -> None:
        super().__init__(irreps_in, num_vectors)

    def forward(self, node_attr: Tensor) -> Tensor:
        return self.linear(node_attr).reshape(-1, self.num, 3)  # [N, num_vectors, 3]


class BondPseudoscalarHead(nn.Module):
    r"""Pseudoscalars per bond :math:`(a, b)`, e.g. the score of the torsion about it.

    With :math:`\hat d = (x_b - x_a)/|x_b - x_a|`, :math:`Y^{\text{even}}` / :math:`Y^{\text{odd}}`
    the spherical harmonics of even / odd degree up to ``lmax`` and :math:`\otimes_W` an
    ``e3nn.o3.FullyConnectedTensorProduct`` with output ``num x 0o``:

    .. math::
        s_{ab} = (h_a + h_b) \otimes_{W_1} Y^{\text{even}}(\hat d)
        + (h_b - h_a) \otimes_{W_2} Y^{\text{odd}}(\hat d)

    Both terms are unchanged when :math:`a` and :math:`b` are swapped (as is a torsion score,
    since turning the b side by :math:`\theta` about :math:`a \to b` is turning the a side by
    :math:`\theta` about :math:`b \to a`), invariant under rotations and translations, and
    change sign under reflections. (After the torsion head of DiffDock, Corso et al. 2023.)

    Parameters
    ----------
    irreps_in : str or e3nn.o3.Irreps
        Node features.
    num : int
        Pseudoscalars per bond.
    lmax : int
        Highest spherical-harmonic degree of the bond direction.

    Shapes
    ------
    node_attr ``[N, irreps_in.dim]``, pos ``[N, 3]`` (Angstrom), bonds ``[2, B]``
    -> ``[B, num]``.
    """

    def __init__(self, irreps_in: str | o3.Irreps, num: int = 1, lmax: int = 2) -> None:
        super().__init__()
        try:
            self.irreps_in = o3.Irreps(irreps_in)
        except (ValueError, AssertionError) as err:
            raise ValueError(f"irreps_in is not a valid irreps: {irreps_in!r}") from err
        if lmax < 1:
            raise ValueError(f"lmax must be >= 1, got {lmax}")
        self.irreps_out = o3.Irreps(f"{num}x0o")
        sh = o3.Irreps.spherical_harmonics(lmax)
        self.irreps_even = o3.Irreps([(1, ir) for _, ir in sh if ir.l % 2 == 0])
        self.irreps_odd = o3.Irreps([(1, ir) for _, ir in sh if ir.l % 2 == 1])
        self.tp_even = o3.FullyConnectedTensorProduct(
            self.irreps_in, self.irreps_even, self.irreps_out
        )
        self.tp_odd = o3.FullyConnectedTensorProduct(
            self.irreps_in, self.irreps_odd, self.irreps_out
        )
        if self.tp_even.weight_numel + self.tp_odd.weight_numel == 0:
            raise ValueError(f"irreps_in {self.irreps_in} cannot give a 0o with lmax={lmax}")

    def forward(self, node_attr: Tensor, pos: Tensor, bonds: Tensor) -> Tensor:
        a, b = bonds  # [B], [B]
        d = pos[b] - pos[a]  # [B, 3]
        y_even = o3.spherical_harmonics(self.irreps_even, d, True, normalization="component")
        y_odd = o3.spherical_harmonics(self.irreps_odd, d, True, normalization="component")
        h_sum, h_diff = node_attr[a] + node_attr[b], node_attr[b] - node_attr[a]  # [B, dim]
        return self.tp_even(h_sum, y_even) + self.tp_odd(h_diff, y_odd)  # [B, num]

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.irreps_in} -> {self.irreps_out})"
