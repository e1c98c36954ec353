r"""Radius and k-nearest-neighbour graphs for batched point clouds, in plain torch.

torch-cluster and pyg-lib (the compiled back ends of ``torch_geometric.nn.radius_graph`` and
``knn_graph``) cannot be installed here, so both builders are written with dense distance
blocks: target nodes are processed ``chunk_size`` at a time and each target only scans the
nodes of its own graph, so the work space is ``chunk_size x (largest graph)`` whatever the
number of graphs in the batch, and the output is ``O(E)``.

Conventions follow torch-geometric (``flow="source_to_target"``): an edge :math:`j \to i`
is stored as ``edge_index[:, e] = (j, i)``, source in row 0 and target in row 1, and messages
flow from ``edge_index[0]`` to ``edge_index[1]``. The batch vector must be sorted (each graph a
contiguous block), as a torch-geometric ``Batch`` makes it.

Edge order is deterministic: sorted by target, then by distance, then by source index.
Lengths are in the unit of ``pos`` (Angstrom in molgen).
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["edge_vectors", "knn_graph", "radius_graph", "random_distance_graph"]


def _graph_pointers(pos: Tensor, batch: Tensor | None) -> tuple[Tensor, Tensor]:
    """Check ``pos`` and ``batch``; return ``batch [N]`` and graph start pointers ``ptr [G+1]``."""
    if pos.dim() != 2 or pos.shape[1] != 3:
        raise ValueError(f"pos must have shape [N, 3], got {tuple(pos.shape)}")
    n = pos.shape[0]
    if batch is None:
        batch = torch.zeros(n, dtype=torch.long, device=pos.device)
    if batch.shape != (n,) or batch.dtype != torch.long:
        raise ValueError(
            f"batch must be a LongTensor of shape [{n}], got {batch.dtype} {tuple(batch.shape)}"
        )
    if n > 0 and (batch.min() < 0 or (batch[1:] < batch[:-1]).any()):
        raise ValueError("batch must be sorted and non-negative (each graph a contiguous block)")
    counts = torch.bincount(batch) if n > 0 else batch.new_zeros(0)
    ptr = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
    return batch, ptr


def _neighbours(
    pos: Tensor,
    batch: Tensor | None,
    loop: bool,
    chunk_size: int,
    r: float | None = None,
    max_neighbours: int | None = None,
) -> Tensor:
    """Edges to each target from the sources of its graph, nearest first, optionally
    restricted to ``|x_j - x_i| < r`` and to the ``max_neighbours`` nearest."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    batch, ptr = _graph_pointers(pos, batch)
    n = pos.shape[0]
    sizes = ptr[1:] - ptr[:-1]
    width = int(sizes.max()) if n > 0 else 0
    if max_neighbours is not None:
        width_out = min(width, max_neighbours)
    else:
        width_out = width
    offsets = torch.arange(width, device=pos.device)
    edges = []
    for start in range(0, n, chunk_size):
        tgt = torch.arange(start, min(start + chunk_size, n), device=pos.device)  # [C]
        first = ptr[batch[tgt]]  # [C]
        src = first[:, None] + offsets  # [C, W] candidate sources, ascending
        valid = offsets < sizes[batch[tgt]][:, None]  # [C, W]
        src = torch.where(valid, src, tgt[:, None])
        d2 = (pos[src] - pos[tgt][:, None]).pow(2).sum(-1)  # [C, W]
        if not loop:
            valid &= src != tgt[:, None]
        if r is not None:
            valid &= d2 < r * r
        d2 = d2.masked_fill(~valid, float("inf"))
        if width_out < width:  # k-NN: keep the candidates up to the k-th distance only
            kth = torch.topk(d2, width_out, dim=1, largest=False).values[:, -1:]  # [C, 1]
            # Ties at the k-th distance go to the lower source index: rank them by column.
            tied = d2 == kth
            room = width_out - (d2 < kth).sum(1, keepdim=True)
            d2 = torch.where((d2 > kth) | (tied & (tied.cumsum(1) > room)), float("inf"), d2)
            # The (at most k) kept candidates, then ordered by (distance, source): O(k log k).
            d2, order = torch.topk(d2, width_out, dim=1, largest=False)  # [C, K]
            order, perm = torch.sort(order, dim=1)
            d2, perm = torch.sort(d2.gather(1, perm), dim=1, stable=True)
            order = order.gather(1, perm)
        else:  # stable sort: ties in distance keep ascending source order
            d2, order = torch.sort(d2, dim=1, stable=True)  # [C, W]
        keep = torch.isfinite(d2[:, :width_out])  # [C, W_out]
        rows, cols = keep.nonzero(as_tuple=True)  # row-major: by target, then rank
        edges.append(torch.stack([src[rows, order[rows, cols]], tgt[rows]]))
    if not edges:
        return torch.empty(2, 0, dtype=torch.long, device=pos.device)
    return torch.cat(edges, dim=1)


def radius_graph(
    pos: Tensor,
    r: float,
    batch: Tensor | None = None,
    loop: bool = False,
    max_num_neighbors: int | None = None,
    chunk_size: int = 4096,
) -> Tensor:
    r"""All edges :math:`j \to i` within a graph with :math:`\lVert x_j - x_i \rVert < r`.

    Parameters
    ----------
    pos : Tensor
        Node positions, float ``[N, 3]`` (Angstrom).
    r : float
        Cutoff radius (same unit as ``pos``); the comparison is strict.
    batch : Tensor, optional
        Graph index of each node, long ``[N]``, sorted; ``None`` means one graph.
    loop : bool
        Include self-loops :math:`i \to i`.
    max_num_neighbors : int, optional
        Keep only the nearest this many sources per target (torch-geometric keeps an
        arbitrary subset instead); ``None`` keeps all.
    chunk_size : int
        Number of target nodes per distance block; the output does not depend on it.

    Returns
    -------
    edge_index : Tensor
        Long ``[2, E]``: sources in row 0, targets in row 1, sorted by target, distance, source.

    Shapes
    ------
    pos ``[N, 3]``, batch ``[N]`` -> edge_index ``[2, E]``; work space ``[chunk, max graph size]``.
    """
    if not r > 0:
        raise ValueError(f"r must be positive, got {r}")
    return _neighbours(pos, batch, loop, chunk_size, r=float(r), max_neighbours=max_num_neighbors)


def knn_graph(
    pos: Tensor,
    k: int,
    batch: Tensor | None = None,
    loop: bool = False,
    chunk_size: int = 4096,
) -> Tensor:
    r"""Edges :math:`j \to i` from the ``k`` nearest nodes :math:`j` of the same graph.

    Each target gets ``min(k, n_g - 1)`` sources (``min(k, n_g)`` with ``loop``), where
    ``n_g`` is the size of its graph; ties in distance go to the lower source index.

    Parameters
    ----------
    pos : Tensor
        Node positions, float ``[N, 3]`` (Angstrom).
    k : int
        Number of neighbours per target, ``k >= 1``.
    batch : Tensor, optional
        Graph index of each node, long ``[N]``, sorted; ``None`` means one graph.
    loop : bool
        Count the node itself as a neighbour (at distance 0).
    chunk_size : int
        Number of target nodes per distance block; the output does not depend on it.

    Returns
    -------
    edge_index : Tensor
        Long ``[2, E]``: sources in row 0, targets in row 1, sorted by target, distance, source.

    Shapes
    ------
    pos ``[N, 3]``, batch ``[N]`` -> edge_index ``[2, E]`` with ``E <= k N``.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    return _neighbours(pos, batch, loop, chunk_size, max_neighbours=int(k))


def random_distance_graph(
    pos: Tensor,
    num: int,
    batch: Tensor | None = None,
    generator: torch.Generator | None = None,
    exponent: float = 3.0,
    candidates: int = 4,
    min_distance: float = 1.0,
) -> Tensor:
    r"""Random edges :math:`j \to i` within a graph, drawn with probability falling as a power
    of the distance (the long-range edges of Chroma, Ingraham et al. 2023).

    Each target draws ``candidates * num`` sources uniformly from its own graph and keeps
    ``num`` of them without replacement with weights

    .. math:: w_{ij} \propto \max(\lVert x_j - x_i \rVert, d_{\min})^{-a},

    by the Gumbel top-k trick. Sampling from candidates instead of from the whole graph keeps
    the cost at :math:`O(N \cdot num)` (Chroma weighs all :math:`N^2` pairs); the resulting
    distribution still favours near sources by :math:`d^{-a}` among the candidates.

    Parameters
    ----------
    pos : Tensor
        Node positions, float ``[N, 3]`` (Angstrom).
    num : int
        Edges per target (fewer in graphs of one node; repeated draws of one source are kept
        once by callers that de-duplicate, and may appear twice otherwise).
    batch : Tensor, optional
        Graph index of each node, long ``[N]``, sorted; ``None`` means one graph.
    generator : torch.Generator, optional
        Source of randomness (on ``pos.device``); ``None`` uses torch's global generator.
    exponent : float
        :math:`a`, the power of the distance.
    candidates : int
        Uniform candidates per kept edge.
    min_distance : float
        :math:`d_{\min}` (unit of ``pos``), bounding the weight of coincident nodes.

    Returns
    -------
    edge_index : Tensor
        Long ``[2, E]``: sources in row 0, targets in row 1 (ascending), no self-loops.

    Shapes
    ------
    pos ``[N, 3]``, batch ``[N]`` -> edge_index ``[2, E]`` with ``E <= num N``.
    """
    if num < 1 or candidates < 1:
        raise ValueError(f"num and candidates must be >= 1, got {num}, {candidates}")
    batch, ptr = _graph_pointers(pos, batch)
    n = pos.shape[0]
    if n == 0:
        return torch.empty(2, 0, dtype=torch.long, device=pos.device)
    sizes = (ptr[1:] - ptr[:-1])[batch]  # [N], size of each node's graph
    width = candidates * num
    u = torch.rand(n, width, generator=generator, device=pos.device, dtype=pos.dtype)
    src = ptr[batch][:, None] + (u * sizes[:, None]).long().clamp_max(sizes[:, None] - 1)
    tgt = torch.arange(n, device=pos.device)[:, None].expand(n, width)  # [N, W]
    dist = torch.linalg.vector_norm(pos[src] - pos[tgt], dim=-1).clamp_min(min_distance)
    log_w = (-exponent * torch.log(dist)).masked_fill(src == tgt, float("-inf"))  # [N, W]
    g = torch.rand(n, width, generator=generator, device=pos.device, dtype=pos.dtype)
    gumbel = -torch.log(-torch.log(g.clamp(1e-12, 1 - 1e-7)))
    keys, pick = torch.topk(log_w + gumbel, min(num, width), dim=1)  # [N, num]
    keep = torch.isfinite(keys)
    return torch.stack([src.gather(1, pick)[keep], tgt[:, : pick.shape[1]][keep]])


def edge_vectors(pos: Tensor, edge_index: Tensor) -> Tensor:
    r"""Relative positions :math:`x_j - x_i` of each edge :math:`j \to i`.

    Parameters
    ----------
    pos : Tensor
        Node positions ``[N, 3]`` (Angstrom).
    edge_index : Tensor
        Long ``[2, E]``, source ``j`` in row 0 and target ``i`` in row 1.

    Returns
    -------
    Tensor
        ``[E, 3]`` vectors from the target to the source (Angstrom); translation invariant,
        they rotate (and reflect) with ``pos``.
    """
    return pos[edge_index[0]] - pos[edge_index[1]]
