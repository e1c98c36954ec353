r"""Residue graphs for the backbone score network: flattened nodes, edges, invariant features.

A padded batch ``[B, L]`` with mask ``[B, L]`` becomes ``N`` nodes (the present residues, in
order) with a sorted graph vector ``batch [N]``, as a torch-geometric ``Batch`` would store it,
so padding costs nothing. Each residue :math:`i` receives edges :math:`j \to i` from its ``k``
nearest CA atoms within its own chain and from its sequence neighbours
:math:`0 < |r_j - r_i| \le s` (residue index :math:`r`); the union is de-duplicated. At fixed
``k`` and ``s`` there are at most :math:`(k + 2s) N` edges, so the graph is linear in length.

Edge features are invariant under a global rigid motion :math:`(R, x) \mapsto (QR, Qx + b)`:
a Gaussian basis of the CA-CA distance (Angstrom), a one-hot of the signed sequence offset
:math:`r_j - r_i` clipped to :math:`\pm` ``max_offset`` (plus a bucket for farther pairs), and
the relative orientation :math:`R_i^\top R_j` (9 entries) and position
:math:`R_i^\top (x_j - x_i) / 10` (in units of 10 Angstrom) of the source frame seen from the
target frame; both are unchanged under :math:`R \mapsto QR`, :math:`x \mapsto Qx + b`.
"""

from __future__ import annotations

import torch
from e3nn.math import soft_one_hot_linspace
from torch import Tensor
from torch.nn import functional as F

from equivariant.graphs import edge_vectors, knn_graph

__all__ = [
    "edge_features",
    "flatten_mask",
    "gaussian_rbf",
    "residue_edges",
    "unflatten",
    "union_edges",
]


def flatten_mask(mask: Tensor) -> tuple[Tensor, Tensor]:
    """Nodes of the present residues of a padded batch.

    Parameters
    ----------
    mask : Tensor
        Bool or 0/1 ``[B, L]``, 1 for present residues.

    Returns
    -------
    flat : Tensor
        Long ``[N]``: index of each node in the flattened ``B * L`` array, ascending.
    batch : Tensor
        Long ``[N]``: chain of each node (sorted).
    """
    flat = mask.reshape(-1).bool().nonzero(as_tuple=True)[0]  # [N]
    return flat, torch.div(flat, mask.shape[1], rounding_mode="floor")


def unflatten(values: Tensor, flat: Tensor, batch_shape: tuple[int, int]) -> Tensor:
    """Scatter node values ``[N, ...]`` back to ``[B, L, ...]`` with zeros at padding."""
    out = values.new_zeros(batch_shape[0] * batch_shape[1], *values.shape[1:])
    out[flat] = values
    return out.reshape(*batch_shape, *values.shape[1:])


def residue_edges(
    ca: Tensor,
    batch: Tensor,
    residue_index: Tensor,
    k: int,
    seq_neighbours: int,
    guide: Tensor | None = None,
    guide_k: int = 0,
) -> Tensor:
    r"""k-nearest-CA edges within each chain united with sequence-neighbour edges.

    With ``guide`` (other positions of the same residues, e.g. the network's previous
    :math:`\hat x_0` prediction) the ``guide_k`` nearest residues in ``guide`` are connected
    too, so residues predicted to end up in contact exchange messages before they are close
    in the noisy ``ca``.

    Parameters
    ----------
    ca : Tensor
        CA positions ``[N, 3]`` (Angstrom).
    batch : Tensor
        Long ``[N]``, sorted chain index.
    residue_index : Tensor
        Long ``[N]``, residue number, increasing within each chain.
    k : int
        Nearest neighbours per residue (fewer in chains shorter than ``k + 1``).
    seq_neighbours : int
        :math:`s`: also connect :math:`j \to i` whenever :math:`0 < |r_j - r_i| \le s`.
    guide : Tensor, optional
        Second positions ``[N, 3]`` (Angstrom) for ``guide_k`` more nearest-neighbour edges.
    guide_k : int
        Neighbours per residue in ``guide`` (ignored without ``guide``).

    Returns
    -------
    edge_index : Tensor
        Long ``[2, E]``, source row 0, target row 1, no self-loops or duplicates, sorted by
        target then source.
    """
    n = ca.shape[0]
    edges = [knn_graph(ca, k, batch)]
    if guide is not None and guide_k > 0:
        edges.append(knn_graph(guide, guide_k, batch))
    node = torch.arange(n, device=ca.device)
    # Residues are sorted within a chain, so sequence neighbours sit within s positions.
    for d in range(1, seq_neighbours + 1):
        i, j = node[:-d], node[d:]
        keep = (batch[i] == batch[j]) & (residue_index[j] - residue_index[i] <= seq_neighbours)
        i, j = i[keep], j[keep]
        edges += [torch.stack([i, j]), torch.stack([j, i])]
    return union_edges(edges, n)


def union_edges(edges: list[Tensor], num_nodes: int) -> Tensor:
    """Union of edge sets ``[2, E_k]`` over ``num_nodes`` nodes: no duplicates, sorted by
    target then source (long ``[2, E]``)."""
    edge_index = torch.cat(edges, dim=1)
    n = num_nodes
    key = torch.unique(edge_index[1] * n + edge_index[0])  # sorted by target, then source
    return torch.stack([key % n, torch.div(key, n, rounding_mode="floor")])


def gaussian_rbf(d: Tensor, num: int, d_max: float) -> Tensor:
    """Gaussian basis of distances ``d [...]`` (Angstrom) centred on ``linspace(0, d_max, num)``.

    e3nn's ``soft_one_hot_linspace(..., basis="gaussian", cutoff=False)``: no cutoff, since
    k-nearest-neighbour edges may be long in a noisy chain; smooth in ``d``. ``[..., num]``.
    """
    return soft_one_hot_linspace(d, 0.0, d_max, num, basis="gaussian", cutoff=False)


def edge_features(
    rot: Tensor,
    ca: Tensor,
    residue_index: Tensor,
    edge_index: Tensor,
    num_rbf: int,
    rbf_max: float,
    max_offset: int,
) -> Tensor:
    r"""Invariant features of each edge :math:`j \to i`.

    Parameters
    ----------
    rot, ca : Tensor
        Frames of the nodes, ``[N, 3, 3]`` and ``[N, 3]`` (Angstrom).
    residue_index : Tensor
        Long ``[N]``.
    edge_index : Tensor
        Long ``[2, E]``.
    num_rbf, rbf_max : int, float
        Gaussian basis of :math:`|x_j - x_i|` on ``[0, rbf_max]`` Angstrom.
    max_offset : int
        Offsets :math:`r_j - r_i` beyond :math:`\pm` this share one "far" bucket.

    Returns
    -------
    Tensor
        ``[E, num_rbf + 2 * max_offset + 2 + 12]``: distance basis, offset one-hot,
        :math:`R_i^\top R_j` (row-major) and :math:`R_i^\top (x_j - x_i) / 10`.
    """
    src, tgt = edge_index
    vec = edge_vectors(ca, edge_index)  # [E, 3]
    rbf = gaussian_rbf(torch.linalg.vector_norm(vec, dim=-1), num_rbf, rbf_max)  # [E, K]
    offset = residue_index[src] - residue_index[tgt]  # [E]
    far = offset.abs() > max_offset
    bucket = torch.where(far, 2 * max_offset + 1, offset + max_offset)
    onehot = F.one_hot(bucket, 2 * max_offset + 2).to(ca.dtype)  # [E, 2m+2]
    rot_t = rot[tgt].transpose(-1, -2)  # [E, 3, 3]
    rel_rot = (rot_t @ rot[src]).reshape(-1, 9)  # [E, 9]
    rel_pos = (rot_t @ vec[:, :, None])[:, :, 0] / 10.0  # [E, 3]
    return torch.cat([rbf, onehot, rel_rot, rel_pos], dim=-1)
