r"""SE(3)-equivariant score network over residue frames (protein backbones).

Each residue is a frame :math:`(R_i, x_i)` (columns of :math:`R_i` the local axes, :math:`x_i`
the CA position in Angstrom). The network reads a residue graph (k nearest CA neighbours plus
sequence neighbours, :mod:`molgen.models.residue_graph`) with e3nn tensor-product
convolutions (:class:`equivariant.TensorProductConv`). Node inputs are the time embedding
(``0e``) and the three frame axes (``3x1o``); feeding :math:`e_3 = e_1 \times e_2` as a polar
vector makes the network equivariant under proper rotations only, as befits chiral proteins.

Outputs use an :math:`x_0` parameterisation. With translations centred over the present
residues (:math:`\bar x` their centroid, :math:`x^c = x - \bar x`), a vector head gives a
world-frame displacement :math:`\Delta_i` and rotation vector :math:`v_i`:

.. math::
    \hat x_0 = \mathrm{centre}(x^c_t + s\,\sigma_t\,\Delta), \qquad
    \nabla_{x}\log p_t = -c^2 (x^c_t - \alpha_t \hat x_0) / \sigma_t^2 ,

    w_i = \sigma_R(t)\,R_{t,i}^\top v_i, \qquad \hat R_{0,i} = R_{t,i}\exp(\hat w_i), \qquad
    \text{rot score}_i = \mathrm{IGSO3score}(-w_i;\ \sigma_R(t)),

with :math:`s` = ``trans_scale`` (Angstrom), :math:`c, \alpha_t, \sigma_t` from
:class:`~molgen.diffusion.R3Diffuser` (score with respect to the **Angstrom** coordinates,
unit 1/Angstrom), and :math:`R_t = \hat R_0 \exp(\widehat{-w})` the right-composition noise
of :class:`~molgen.diffusion.SO3Diffuser` (score in the residue's own frame, radian^-1).
The head outputs are scaled by the noise level (:math:`\sigma_t \in (0, 1)` of the VP SDE,
:math:`\sigma_R(t)` of IGSO(3), radians), a preconditioning in the spirit of EDM (Karras et
al. 2022): an O(1) output then means an O(noise) correction at every :math:`t`, so neither
loss term starts orders of magnitude above the zero predictor at small :math:`t`.
The translation score rotates with the input and ignores translations; the rotation score and
:math:`\psi` (unit ``(cos, sin)``, for placing O) are invariant. Cost and memory are linear in
the number of residues at fixed ``k``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import torch
from e3nn import o3
from torch import Tensor, nn
from torch.nn import functional as F

# Submodule imports: under pytest, tests/equivariant/ can shadow the package's __init__.
from equivariant.context import GraphContext
from equivariant.conv import TensorProductConv
from equivariant.embeddings import sinusoidal_embedding
from equivariant.graphs import random_distance_graph
from equivariant.heads import ScalarHead, VectorHead
from molgen.diffusion import SE3Diffuser
from molgen.geometry import center, rotvec_to_matrix
from molgen.io.blueprint import BLUEPRINT_LETTERS
from molgen.models.ladder import LadderEdgeUpdate, ladder_diagonals
from molgen.models.residue_graph import (
    edge_features,
    flatten_mask,
    gaussian_rbf,
    residue_edges,
    unflatten,
    union_edges,
)

__all__ = ["FrameScoreNetwork", "FrameScoreNetworkConfig"]


def _partner_edges(partners: Tensor, flat: Tensor, shape: tuple[int, int]) -> Tensor:
    """Edges ``[2, P]`` between flattened nodes of strand partners ``[B, L, K]`` (positions in
    the chain, -1 none), both directions; partners at padding or out of range are dropped."""
    b, length = shape
    node_of = torch.full((b * length,), -1, dtype=torch.long, device=flat.device)
    node_of[flat] = torch.arange(len(flat), device=flat.device)
    part = partners.reshape(b * length, -1)[flat]  # [N, K]
    chain = torch.div(flat, length, rounding_mode="floor")[:, None].expand_as(part)
    valid = (part >= 0) & (part < length)
    src = node_of[(chain * length + part.clamp(0, length - 1))[valid]]
    tgt = torch.arange(len(flat), device=flat.device)[:, None].expand_as(part)[valid]
    keep = (src >= 0) & (src != tgt)
    src, tgt = src[keep], tgt[keep]
    return union_edges([torch.stack([src, tgt]), torch.stack([tgt, src])], len(flat))


def _default_diffuser() -> dict[str, Any]:
    return {
        "so3": {"min_sigma": 0.1, "max_sigma": 1.5, "schedule": "logarithmic"},
        "r3": {"min_b": 0.1, "max_b": 20.0, "coordinate_scale": 0.1},
    }


@dataclass
class FrameScoreNetworkConfig:
    r"""Architecture and diffuser settings of :class:`FrameScoreNetwork` (lengths in Angstrom).

    ``k`` nearest CA neighbours and ``seq_neighbours`` sequence neighbours per residue;
    sequence offsets one-hot up to ``max_offset``; ``num_rbf`` Gaussians on ``[0, rbf_max]``;
    ``num_layers`` convolutions on ``hidden_irreps``; ``time_dim`` sinusoidal time features;
    ``edge_dim`` embedded edge features; ``mlp_dim`` hidden width of the weight MLPs;
    ``trans_scale`` Angstrom per unit of the predicted displacement; ``self_condition``
    accepts a previous :math:`x_0` prediction, and ``self_cond_neighbours`` more edges join
    each residue to its nearest residues in that prediction (so segments about to meet see
    each other while still far apart in the noisy input); ``long_range_edges`` more edges
    per residue drawn at random with probability falling as distance^-3
    (:func:`equivariant.graphs.random_distance_graph`); ``global_context`` adds a pooled
    per-chain channel after every convolution (:class:`equivariant.context.GraphContext`);
    ``ss_condition`` reads a per-residue secondary-structure label (X, H, E, L as 0-3,
    :mod:`molgen.io.blueprint`; X means unspecified); ``pair_condition`` reads strand partners
    (:mod:`molgen.io.strand_pairing`): each residue is joined to its partners by an edge that
    carries a learned pair embedding, wherever they are in the noisy input; ``pair_head``
    (with ``pair_condition``) refines the clean estimate along those edges,
    :math:`\hat x_{0,i} \mathrel{+}= \sum_j w_{ij} (\hat x_{0,j} - \hat x_{0,i})` with an
    invariant weight :math:`w_{ij} \in (-\tfrac12, \tfrac12)` of both residues' scalars and
    their distances; ``pair_turn`` (with ``pair_head``) turns each paired residue's clean
    frame towards its partners, :math:`\hat w_i \mathrel{+}= R_{t,i}^\top \sum_j a_{ij}\,
    (R_{t,i} c_i) \times \hat u_{ij}` with :math:`c_i` an invariant, learned local axis,
    :math:`\hat u_{ij}` the unit vector from :math:`\hat x_{0,i}` to :math:`\hat x_{0,j}` and
    :math:`a_{ij} \in (-1, 1)` invariant like :math:`w_{ij}` (a small rotation about
    :math:`c \times u` swings the axis :math:`c` towards :math:`u`; backbone hydrogen bonds
    across a sheet need the carbonyls to face the partner strand); ``ladder_edges`` updates
    the edge states after every convolution but the last from both residues' scalars and the
    states of the edges on the same ladder's diagonals (:mod:`molgen.models.ladder`);
    ``diffuser`` is passed to
    :meth:`molgen.diffusion.SE3Diffuser.from_config`.
    """

    k: int = 16
    seq_neighbours: int = 2
    max_offset: int = 32
    num_rbf: int = 16
    rbf_max: float = 24.0
    hidden_irreps: str = "64x0e + 16x1o + 16x1e"
    num_layers: int = 4
    time_dim: int = 32
    edge_dim: int = 32
    mlp_dim: int = 128
    trans_scale: float = 10.0
    self_condition: bool = True
    self_cond_neighbours: int = 0
    long_range_edges: int = 0
    global_context: bool = False
    ss_condition: bool = False
    pair_condition: bool = False
    pair_head: bool = False
    pair_turn: bool = False
    ladder_edges: bool = False
    diffuser: dict[str, Any] = field(default_factory=_default_diffuser)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FrameScoreNetworkConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown FrameScoreNetwork config keys {unknown}")
        return cls(**data)


class FrameScoreNetwork(nn.Module):
    r"""Score network for residue frames; see the module docstring for the math.

    Parameters
    ----------
    config : FrameScoreNetworkConfig, optional
        Defaults if ``None``.

    Shapes
    ------
    ``R [B, L, 3, 3]``, ``x [B, L, 3]`` (Angstrom), ``t [B]``, ``mask [B, L]`` ->
    dict of ``trans_score [B, L, 3]`` (1/Angstrom, world frame), ``rot_score [B, L, 3]``
    (radian^-1, local frame), ``psi [B, L, 2]`` (cos, sin), ``x0 [B, L, 3]`` (Angstrom),
    ``R0 [B, L, 3, 3]``; zeros at padding.
    """

    def __init__(self, config: FrameScoreNetworkConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or FrameScoreNetworkConfig()
        self.diffuser = SE3Diffuser.from_config(config.diffuser)
        hidden = o3.Irreps(config.hidden_irreps)
        num_scalars = sum(mul for mul, ir in hidden if ir == o3.Irrep("0e"))
        if num_scalars == 0 or config.num_layers < 1:
            raise ValueError(f"need 0e features and >= 1 layer, got {config}")
        sc_node, sc_edge = (3, config.num_rbf) if config.self_condition else (0, 0)
        self.node_embed = nn.Sequential(
            nn.Linear(config.time_dim + sc_node, num_scalars), nn.SiLU(),
            nn.Linear(num_scalars, num_scalars),
        )  # fmt: skip
        edge_in = config.num_rbf + 2 * config.max_offset + 2 + 12 + sc_edge
        self.edge_embed = nn.Sequential(
            nn.Linear(edge_in, config.edge_dim), nn.SiLU(),
            nn.Linear(config.edge_dim, config.edge_dim),
        )  # fmt: skip
        self.irreps_sh = o3.Irreps.spherical_harmonics(2)
        irreps_in = o3.Irreps(f"{num_scalars}x0e + 3x1o")
        self.convs = nn.ModuleList(
            TensorProductConv(
                irreps_in if layer == 0 else hidden,
                self.irreps_sh,
                hidden,
                config.edge_dim,
                hidden_dim=config.mlp_dim,
            )  # fmt: skip
            for layer in range(config.num_layers)
        )
        # Added capacity starts as the identity (zero-initialised), so a trained network
        # can be extended and fine-tuned.
        self.contexts = nn.ModuleList(
            GraphContext(hidden, config.mlp_dim) for _ in range(config.num_layers)
        ) if config.global_context else None  # fmt: skip
        self.ladders = nn.ModuleList(
            LadderEdgeUpdate(config.edge_dim, num_scalars, config.mlp_dim)
            for _ in range(config.num_layers - 1)
        ) if config.ladder_edges else None  # fmt: skip
        self.ss_embed = None
        if config.ss_condition:
            self.ss_embed = nn.Embedding(len(BLUEPRINT_LETTERS), num_scalars)
            nn.init.zeros_(self.ss_embed.weight)
        self.pair_embed = None
        if config.pair_condition:
            self.pair_embed = nn.Linear(1, config.edge_dim, bias=False)
            nn.init.zeros_(self.pair_embed.weight)
        self.pair_head = None
        if config.pair_condition and config.pair_head:
            self.pair_head = nn.Sequential(
                nn.Linear(2 * num_scalars + 2 * config.num_rbf, config.mlp_dim), nn.SiLU(),
                nn.Linear(config.mlp_dim, 1),
            )  # fmt: skip
            nn.init.zeros_(self.pair_head[-1].weight)
            nn.init.zeros_(self.pair_head[-1].bias)
        self.pair_turn, self.turn_axis = None, None
        if self.pair_head is not None and config.pair_turn:
            self.pair_turn = nn.Sequential(
                nn.Linear(2 * num_scalars + 2 * config.num_rbf, config.mlp_dim), nn.SiLU(),
                nn.Linear(config.mlp_dim, 1),
            )  # fmt: skip
            # The axis starts at zero (so does the turn); the weight does not, or neither
            # would get a gradient.
            self.turn_axis = nn.Linear(num_scalars, 3)
            nn.init.zeros_(self.turn_axis.weight)
            nn.init.zeros_(self.turn_axis.bias)
        self.num_scalars = num_scalars
        self.vector_head = VectorHead(hidden, 2)  # displacement, rotation vector (world)
        self.psi_head = ScalarHead(hidden, 2)

    def _pair_features(self, h: Tensor, pos: Tensor, x0: Tensor, pair_edges: Tensor) -> Tensor:
        """Invariant features ``[P, F]`` of the partner edges ``[2, P]``: both residues'
        scalars and RBFs of their distance in the clean estimate and in the noisy input."""
        cfg, (src, tgt) = self.config, pair_edges
        scalars = h[:, : self.num_scalars]
        d0 = torch.linalg.vector_norm(x0[src] - x0[tgt], dim=-1)  # [P]
        dt = torch.linalg.vector_norm(pos[src] - pos[tgt], dim=-1)  # [P]
        return torch.cat([
            scalars[tgt], scalars[src],
            gaussian_rbf(d0, cfg.num_rbf, cfg.rbf_max), gaussian_rbf(dt, cfg.num_rbf, cfg.rbf_max),
        ], dim=-1)  # fmt: skip

    def _pair_pull(self, h: Tensor, pos: Tensor, x0: Tensor, pair_edges: Tensor) -> Tensor:
        r""":math:`\sum_j w_{ij} (\hat x_{0,j} - \hat x_{0,i})` ``[N, 3]`` (Angstrom) over the
        partner edges ``[2, P]`` (see the config's ``pair_head``)."""
        src, tgt = pair_edges
        weight = 0.5 * torch.tanh(self.pair_head(self._pair_features(h, pos, x0, pair_edges)))
        return torch.zeros_like(x0).index_add_(0, tgt, weight * (x0[src] - x0[tgt]))

    def _pair_rotation(
        self, h: Tensor, pos: Tensor, rot: Tensor, x0: Tensor, pair_edges: Tensor
    ) -> Tensor:
        r"""Local rotation vector ``[N, 3]`` (radians) turning each residue's learned axis
        towards its partners in the clean estimate (see the config's ``pair_turn``)."""
        src, tgt = pair_edges
        axis = (rot @ self.turn_axis(h[:, : self.num_scalars])[:, :, None])[:, :, 0]  # world
        toward = F.normalize(x0[src] - x0[tgt], dim=-1, eps=1e-6)  # [P, 3]
        amount = torch.tanh(self.pair_turn(self._pair_features(h, pos, x0, pair_edges)))
        turn = torch.zeros_like(x0).index_add_(
            0, tgt, amount * torch.linalg.cross(axis[tgt], toward)
        )  # [N, 3], world frame
        return (rot.transpose(-1, -2) @ turn[:, :, None])[:, :, 0]

    @classmethod
    def from_config(cls, config: FrameScoreNetworkConfig | dict[str, Any]) -> FrameScoreNetwork:
        """Build from a config or its :meth:`FrameScoreNetworkConfig.to_dict`."""
        if isinstance(config, dict):
            config = FrameScoreNetworkConfig.from_dict(config)
        return cls(config)

    def scores(
        self,
        R: Tensor,
        x: Tensor,
        t: Tensor,
        mask: Tensor,
        self_cond: Tensor | None = None,
        residue_index: Tensor | None = None,
        ss: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> dict[str, Tensor]:
        """Scores and :math:`x_0` predictions; the stable public entry point (see ``forward``)."""
        return self(R, x, t, mask, self_cond, residue_index, ss, generator)

    def forward(
        self,
        R: Tensor,
        x: Tensor,
        t: Tensor,
        mask: Tensor,
        self_cond: Tensor | None = None,
        residue_index: Tensor | None = None,
        ss: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> dict[str, Tensor]:
        r"""Predict scores of noisy frames.

        Parameters
        ----------
        R : Tensor
            Rotations ``[B, L, 3, 3]`` at time ``t``.
        x : Tensor
            CA positions ``[B, L, 3]`` (Angstrom) at time ``t``; need not be centred.
        t : Tensor
            Diffusion times ``[B]`` in (0, 1] (a number is broadcast).
        mask : Tensor
            ``[B, L]``, 1 for present residues.
        self_cond : Tensor, optional
            Previous :math:`\hat x_0` ``[B, L, 3]`` (Angstrom); read only if
            ``config.self_condition`` (its features are zero when ``None``).
        residue_index : Tensor, optional
            Long ``[B, L]`` residue numbers (for chain breaks); default ``arange(L)``.
        ss : Tensor, optional
            Long ``[B, L]`` secondary-structure labels (0 X, 1 H, 2 E, 3 L), read only if
            ``config.ss_condition`` (``None``: all unspecified); or ``[B, L, 1 + P]``: the
            labels followed by ``P`` strand-partner positions in the same chain (-1 none),
            read only if ``config.pair_condition``.
        generator : torch.Generator, optional
            Draws the random long-range edges (``config.long_range_edges``); ``None`` uses a
            fixed seed, so the output is a deterministic function of the input.

        Returns
        -------
        dict
            ``trans_score``, ``rot_score``, ``psi``, ``x0``, ``R0`` (see the class Shapes).
        """
        cfg, (b, length) = self.config, mask.shape
        if self_cond is not None and not cfg.self_condition:
            raise ValueError("self_cond given to a network built with self_condition=False")
        t = torch.as_tensor(t, dtype=x.dtype, device=x.device).expand(b)
        x_c = center(x, mask)  # [B, L, 3]
        centroid = x - x_c  # [B, L, 3], the same row for each residue of a chain
        flat, batch = flatten_mask(mask)  # [N], [N]
        if residue_index is None:
            residue_index = torch.arange(length, device=x.device).expand(b, length)
        res = residue_index.reshape(-1)[flat]  # [N]
        rot, pos = R.reshape(-1, 3, 3)[flat], x_c.reshape(-1, 3)[flat]  # [N, 3, 3], [N, 3]
        prev = None
        if self_cond is not None:
            prev = (self_cond - centroid).reshape(-1, 3)[flat]  # [N, 3], previous x0
        labels, partners = (ss, None) if ss is None or ss.dim() == 2 else (ss[..., 0], ss[..., 1:])
        edge_index = residue_edges(
            pos, batch, res, cfg.k, cfg.seq_neighbours, prev, cfg.self_cond_neighbours
        )  # [2, E]
        pair_edges = None
        if partners is not None and self.pair_embed is not None:
            pair_edges = _partner_edges(partners, flat, mask.shape)  # [2, P]
            edge_index = union_edges([edge_index, pair_edges], len(pos))
        if cfg.long_range_edges > 0:
            if generator is None:
                generator = torch.Generator(device=pos.device).manual_seed(0)
            far = random_distance_graph(pos, cfg.long_range_edges, batch, generator)
            edge_index = union_edges([edge_index, far], len(pos))  # [2, E']
        e_feat = edge_features(
            rot, pos, res, edge_index, cfg.num_rbf, cfg.rbf_max, cfg.max_offset
        )  # [E, F]
        n_feat = sinusoidal_embedding(t[batch], cfg.time_dim)  # [N, T]
        if cfg.self_condition:
            sc_node = pos.new_zeros(len(pos), 3)
            sc_edge = pos.new_zeros(edge_index.shape[1], cfg.num_rbf)
            if prev is not None:
                local = rot.transpose(-1, -2) @ (prev - pos)[:, :, None]
                sc_node = local[:, :, 0] / 10.0  # [N, 3], units of 10 Angstrom
                d = torch.linalg.vector_norm(prev[edge_index[0]] - prev[edge_index[1]], dim=-1)
                sc_edge = gaussian_rbf(d, cfg.num_rbf, cfg.rbf_max)  # [E, K]
            n_feat, e_feat = torch.cat([n_feat, sc_node], -1), torch.cat([e_feat, sc_edge], -1)
        axes = rot.transpose(-1, -2).reshape(-1, 9)  # [N, 9]: columns of R as 3x1o
        scalars = self.node_embed(n_feat)  # [N, S]
        if self.ss_embed is not None:
            if labels is None:
                labels = torch.zeros(b, length, dtype=torch.long, device=x.device)
            scalars = scalars + self.ss_embed(labels.reshape(-1)[flat])
        h = torch.cat([scalars, axes], dim=-1)  # [N, S + 9]
        e = self.edge_embed(e_feat)  # [E, edge_dim]
        if pair_edges is not None:
            n = len(pos)
            paired = torch.isin(
                edge_index[1] * n + edge_index[0], pair_edges[1] * n + pair_edges[0]
            )
            e = e + self.pair_embed(paired[:, None].to(e.dtype))
        vec = pos[edge_index[0]] - pos[edge_index[1]]  # [E, 3]
        sh = o3.spherical_harmonics(self.irreps_sh, vec, True, normalization="component")
        diagonals = None if self.ladders is None else ladder_diagonals(edge_index, batch, res)
        for layer, conv in enumerate(self.convs):
            h = conv(h, edge_index, sh, e)  # [N, hidden.dim]
            if self.contexts is not None:
                h = self.contexts[layer](h, batch)
            if self.ladders is not None and layer < len(self.ladders):
                e = self.ladders[layer](e, h, edge_index, diagonals)  # [E, edge_dim]
        out = self.vector_head(h)  # [N, 2, 3]
        step = cfg.trans_scale * self.diffuser.r3.marginal(t[batch])[1]  # [N], Angstrom
        x0_flat = pos + step[:, None] * out[:, 0]  # [N, 3], Angstrom
        if self.pair_head is not None and pair_edges is not None:
            x0_flat = x0_flat + self._pair_pull(h, pos, x0_flat, pair_edges)
        sigma_rot = self.diffuser.so3.sigma(t[batch])  # [N], radians
        w = sigma_rot[:, None] * (rot.transpose(-1, -2) @ out[:, 1, :, None])[:, :, 0]  # [N, 3]
        if self.pair_turn is not None and pair_edges is not None:
            w = w + self._pair_rotation(h, pos, rot, x0_flat, pair_edges)
        rot0 = rot @ rotvec_to_matrix(w)  # [N, 3, 3]
        rot_score = self.diffuser.so3.kernel_score(-w, sigma_rot)  # [N, 3]
        psi = F.normalize(self.psi_head(h), dim=-1, eps=1e-6)  # [N, 2]
        shape = (b, length)
        x0 = center(unflatten(x0_flat, flat, shape), mask)
        m = mask.to(x.dtype)[..., None]
        trans_score = self.diffuser.r3.score(x_c, x0, t) * m  # [B, L, 3]
        return {
            "trans_score": trans_score,
            "rot_score": unflatten(rot_score, flat, shape),
            "psi": unflatten(psi, flat, shape),
            "x0": (x0 + centroid) * m,
            "R0": unflatten(rot0, flat, shape),
        }
