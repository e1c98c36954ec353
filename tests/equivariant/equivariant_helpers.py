"""Shared pieces of the equivariant tests: irreps and a small graph network on positions."""

from __future__ import annotations

import torch
from e3nn import o3

from equivariant.conv import TensorProductConv
from equivariant.embeddings import RadialEmbedding
from equivariant.graphs import edge_vectors, radius_graph

NODE_IRREPS = o3.Irreps("16x0e + 4x1o + 4x1e + 4x0o")
SH_IRREPS = o3.Irreps.spherical_harmonics(2)


class TinyNetwork(torch.nn.Module):
    """Positions -> radius graph (cutoff c) -> two TensorProductConv layers -> node features.

    The node input features are random but fixed per node, so they permute with the nodes.
    """

    def __init__(self, cutoff: float = 8.0, irreps_out: str | o3.Irreps = NODE_IRREPS):
        super().__init__()
        self.cutoff = cutoff
        self.radial = RadialEmbedding(8, cutoff)
        self.conv1 = TensorProductConv("8x0e", SH_IRREPS, NODE_IRREPS, 8, hidden_dim=16)
        self.conv2 = TensorProductConv(NODE_IRREPS, SH_IRREPS, irreps_out, 8, hidden_dim=16)

    def forward(self, pos, node_scalars, batch):
        edge_index = radius_graph(pos, self.cutoff, batch)  # [2, E]
        vec = edge_vectors(pos, edge_index)  # [E, 3]
        sh = o3.spherical_harmonics(SH_IRREPS, vec, True, normalization="component")
        radial = self.radial(vec.norm(dim=-1))  # [E, 8]
        h = self.conv1(node_scalars, edge_index, sh, radial)
        return self.conv2(h, edge_index, sh, radial)  # [N, irreps_out.dim]
