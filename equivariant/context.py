r"""A pooled per-graph channel: every node hears a summary of its whole graph at linear cost."""

from __future__ import annotations

import torch
from e3nn import o3
from torch import Tensor, nn
from torch_geometric.utils import scatter

__all__ = ["GraphContext"]


class GraphContext(nn.Module):
    r"""Add an MLP of the graph's mean even scalars to each node's even scalars.

    .. math::
        g_G = \frac{1}{|G|} \sum_{j \in G} h_j^{0e}, \qquad
        h_i^{0e} \leftarrow h_i^{0e} + W_2\, \mathrm{SiLU}(W_1 [g_{G(i)}, h_i^{0e}] + b_1)

    for node :math:`i` of graph :math:`G(i)`. Only invariant (``0e``) features are read and
    written, so the layer commutes with O(3); the pooling is a mean, so its cost is
    :math:`O(N)` and a graph of any size gives an O(1) summary. :math:`W_2` starts at zero:
    the layer is the identity until trained, so it can be added to a trained network.

    Parameters
    ----------
    irreps : str or e3nn.o3.Irreps
        Node features (read and returned); must contain ``0e``.
    hidden_dim : int
        Width of the MLP.

    Shapes
    ------
    node_attr ``[N, irreps.dim]``, batch ``[N]`` (sorted graph index) -> ``[N, irreps.dim]``.
    """

    def __init__(self, irreps: str | o3.Irreps, hidden_dim: int = 64) -> None:
        super().__init__()
        self.irreps_in = self.irreps_out = o3.Irreps(irreps)
        even = o3.Irrep("0e")
        index = [
            torch.arange(s.start, s.stop)
            for (_, ir), s in zip(self.irreps_in, self.irreps_in.slices(), strict=True)
            if ir == even
        ]
        if not index:
            raise ValueError(f"irreps {self.irreps_in} has no 0e part to pool")
        self.register_buffer("scalar_index", torch.cat(index))
        num = len(self.scalar_index)
        self.mlp = nn.Sequential(
            nn.Linear(2 * num, hidden_dim), nn.SiLU(), nn.Linear(hidden_dim, num)
        )
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, node_attr: Tensor, batch: Tensor) -> Tensor:
        scalars = node_attr[:, self.scalar_index]  # [N, S]
        pooled = scatter(scalars, batch, dim=0, reduce="mean")  # [G, S]
        update = self.mlp(torch.cat([pooled[batch], scalars], dim=-1))  # [N, S]
        return node_attr.index_add(1, self.scalar_index, update)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.irreps_in} -> {self.irreps_out})"
