r"""Ladder edge updates: a pair track that carries strand-pairing evidence along sheet diagonals.

In a beta ladder, residues :math:`i` and :math:`j` paired means their neighbours are paired
too: :math:`(i+1, j-1)` and :math:`(i-1, j+1)` in an antiparallel ladder, :math:`(i+1, j+1)`
and :math:`(i-1, j-1)` in a parallel one. A node-only message-passing network can pass that
register only through the nodes, one hop per layer and blurred with every other neighbour.
:class:`LadderEdgeUpdate` gives every residue-graph edge :math:`j \to i` a state
:math:`e_{ij}` that is updated after each convolution from its own value, the scalar
features of both residues and the states of its four diagonal edges (zero where an edge is
absent from the graph):

.. math::

    e_{ij} \leftarrow e_{ij} + \mathrm{MLP}\big(e_{ij}, s_i, s_j, e_{i+1, j-1}, e_{i-1, j+1},
    e_{i+1, j+1}, e_{i-1, j-1}\big),

with the MLP's last layer zero-initialised, so a trained network extended with it starts as
the same function. The states are invariant (built from invariant features and scalars), so
the network stays equivariant. Cost: one MLP per edge and layer plus one sort of the edge
keys, linear in the number of edges up to the sort's log factor.

Written here because neither e3nn nor torch-geometric has an edge update keyed on sequence
offsets (AlphaFold's triangle updates do this job at quadratic cost).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["LadderEdgeUpdate", "ladder_diagonals"]

#: Offsets ``(di, dj)`` of the diagonal edges ``(j + dj -> i + di)`` read by the update:
#: antiparallel up and down, parallel up and down.
DIAGONALS = ((1, -1), (-1, 1), (1, 1), (-1, -1))


def _shifted(node: Tensor, step: int, batch: Tensor, res: Tensor) -> Tensor:
    """The node holding residue ``res[node] + step`` of the same chain, -1 where there is
    none (chain end or gap). Nodes are flattened residues in chain order."""
    other = node + step
    inside = (other >= 0) & (other < len(res))
    other_c = other.clamp(0, len(res) - 1)
    ok = inside & (batch[other_c] == batch[node]) & (res[other_c] == res[node] + step)
    return torch.where(ok, other_c, torch.full_like(node, -1))


def ladder_diagonals(edge_index: Tensor, batch: Tensor, res: Tensor) -> Tensor:
    """Edge ids ``[E, 4]`` of the diagonal edges of each edge ``j -> i`` (``edge_index [2, E]``,
    rows source, target), in the order of :data:`DIAGONALS`; -1 where the diagonal edge is not
    in the graph. ``batch`` and ``res`` ``[N]``: each node's chain and residue number."""
    src, tgt = edge_index
    n = len(res)
    key = tgt * n + src
    order = torch.argsort(key)
    sorted_key = key[order]
    found = []
    for di, dj in DIAGONALS:
        i2, j2 = _shifted(tgt, di, batch, res), _shifted(src, dj, batch, res)
        valid = (i2 >= 0) & (j2 >= 0)
        query = i2.clamp_min(0) * n + j2.clamp_min(0)
        pos = torch.searchsorted(sorted_key, query).clamp_max(len(key) - 1)
        hit = valid & (sorted_key[pos] == query)
        found.append(torch.where(hit, order[pos], torch.full_like(pos, -1)))
    return torch.stack(found, dim=-1)


class LadderEdgeUpdate(nn.Module):
    """One residual update of the edge states (see the module docstring).

    Parameters
    ----------
    edge_dim : int
        Width of the edge states.
    num_scalars : int
        Number of scalar node features read (the first columns of the node features).
    hidden_dim : int
        Hidden width of the MLP.
    """

    def __init__(self, edge_dim: int, num_scalars: int, hidden_dim: int) -> None:
        super().__init__()
        self.num_scalars = num_scalars
        self.mlp = nn.Sequential(
            nn.Linear(5 * edge_dim + 2 * num_scalars, hidden_dim), nn.SiLU(),
            nn.Linear(hidden_dim, edge_dim),
        )  # fmt: skip
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, e: Tensor, h: Tensor, edge_index: Tensor, diagonals: Tensor) -> Tensor:
        """New edge states ``[E, edge_dim]`` from states ``e``, node features ``h [N, *]``,
        ``edge_index [2, E]`` and :func:`ladder_diagonals` ``[E, 4]``."""
        scalars = h[:, : self.num_scalars]
        padded = torch.cat([e, e.new_zeros(1, e.shape[1])])  # row -1: an absent edge
        diag = padded[diagonals].reshape(len(e), -1)  # [E, 4 * edge_dim]
        src, tgt = edge_index
        return e + self.mlp(torch.cat([e, scalars[tgt], scalars[src], diag], dim=-1))
