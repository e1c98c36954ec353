r"""Torsion score network for conformer generation by torsional diffusion (Jing et al. 2022).

For each rotatable bond :math:`b - c` of a molecule with atom positions :math:`x` (Angstrom)
at noise level :math:`\sigma` (radians) the network predicts the score
:math:`\partial_\theta \log p_\sigma` of the torsion :math:`\theta = \angle(a, b, c, d)`
(radian^-1). Its symmetries are those of a dihedral angle: invariant under rotations and
translations of :math:`x`, sign flipped under reflections (a pseudoscalar, ``0o``),
equivariant under renumbering the atoms, and unchanged when the quadruple is reversed to
:math:`(d, c, b, a)`, since :math:`\angle(d, c, b, a) = \angle(a, b, c, d)`.

Architecture: RDKit atom features and a sinusoidal embedding of :math:`\log\sigma` give
invariant node scalars; edges are the bonds plus a radius graph, with a radial basis of the
length and the bond features (zero for non-bonded pairs) as edge scalars; a stack of
:class:`equivariant.TensorProductConv` layers carries even and odd scalars and vectors; a
bond-centred final layer then convolves, for each rotatable bond, the atoms :math:`j`
within ``bond_radius`` of the bond centre :math:`m = (x_b + x_c)/2`:

.. math::
    s_{bc} = \mathrm{MLP}_{\text{odd}}\Big(\operatorname{mean}_j\;
    h_j \otimes_{W_{j}} \big(Y^{2}(\hat u_{bc}) \otimes Y(\widehat{x_j - m})\big)\Big),
    \qquad W_j = \mathrm{MLP}\big([\mathrm{rbf}(|x_j - m|), h_b^{0e} + h_c^{0e}, h_j^{0e}]\big)

with :math:`\hat u_{bc}` the bond axis, whose degree-2 harmonics :math:`Y^2` do not change
when :math:`b, c` swap, ``0o`` outputs of the tensor product, and an odd MLP (no biases,
tanh) to one number. As in Torsional Diffusion the output is finally multiplied by
:math:`\sqrt{\mathbb E[s^2]}` of the wrapped normal at :math:`\sigma`, so the layers work at
unit scale.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import torch
from e3nn import o3
from rdkit import Chem
from torch import Tensor, nn
from torch_geometric.data import Batch, Data
from torch_geometric.utils import scatter

# Submodules, not the package: under pytest, tests/equivariant/ can shadow `equivariant` as
# an empty namespace package (the editable install's finder comes after sys.path).
from equivariant.conv import TensorProductConv
from equivariant.embeddings import RadialEmbedding, sinusoidal_embedding
from equivariant.graphs import radius_graph
from molgen.chem.molecule_graph import (
    ATOM_FEATURES,
    BOND_FEATURES,
    HYDROGEN_FEATURE,
    molecule_graph,
)
from molgen.diffusion.torus import TorusDiffuser

__all__ = ["TorsionScoreNetwork", "TorsionScoreNetworkConfig"]


@dataclasses.dataclass
class TorsionScoreNetworkConfig:
    r"""Hyper-parameters of :class:`TorsionScoreNetwork` (lengths in Angstrom).

    Attributes
    ----------
    hidden_irreps : str
        Node features of the convolution layers; need ``0e`` and, for a ``0o`` output, odd
        parts (``0o``, ``1o``/``1e`` vectors).
    num_layers : int
        Number of convolution layers.
    sh_lmax : int
        Highest degree of the edge spherical harmonics.
    radius : float
        Radius of the atom graph (bonds are always edges).
    bond_radius : float
        Radius of the neighbourhood of a bond centre in the final layer.
    num_radial : int
        Radial basis functions of an edge length.
    edge_dim : int
        Size of the learnt invariant edge features.
    time_dim : int
        Size of the sinusoidal embedding of :math:`\log\sigma` (sigma in radians).
    mlp_dim : int
        Hidden width of the embedding and tensor-product weight MLPs.
    final_dim : int
        Pseudoscalars per bond before the final odd MLP.
    scale_by_score_norm : bool
        Multiply the output by the wrapped normal's root-mean-square score at sigma.
    heavy_atoms : bool
        Build the graph over heavy atoms only; hydrogens enter through each heavy atom's
        hydrogen count feature (a torsion turns heavy atoms about heavy atoms, so its score
        needs no hydrogen node, and a drug-like molecule has about half as many heavy atoms
        as atoms, a quarter as many radius edges).
    """

    hidden_irreps: str = "32x0e + 8x1o + 8x1e + 8x0o"
    num_layers: int = 4
    sh_lmax: int = 2
    radius: float = 5.0
    bond_radius: float = 5.0
    num_radial: int = 16
    edge_dim: int = 32
    time_dim: int = 32
    mlp_dim: int = 64
    final_dim: int = 16
    scale_by_score_norm: bool = True
    heavy_atoms: bool = False


def _mlp(dim_in: int, dim_hidden: int, dim_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim_in, dim_hidden), nn.SiLU(), nn.Linear(dim_hidden, dim_out))


def _even_scalar_index(irreps: o3.Irreps) -> Tensor:
    parts = [
        torch.arange(s.start, s.stop)
        for (_, ir), s in zip(irreps, irreps.slices(), strict=True)
        if ir == o3.Irrep("0e")
    ]
    return torch.cat(parts)


class TorsionScoreNetwork(nn.Module):
    r"""Score of every rotatable torsion of a batch of molecules; see the module docstring.

    Parameters
    ----------
    config : TorsionScoreNetworkConfig, optional
        Hyper-parameters; the defaults when ``None``.

    Shapes
    ------
    ``forward(data, sigma)``: a batch of :func:`~molgen.chem.molecule_graph.molecule_graph`
    graphs with ``N`` atoms, ``G`` molecules and ``T`` torsions in all, ``sigma`` ``[]`` or
    ``[G]`` (radians) -> scores ``[T]`` (radian^-1), in the order of ``data.torsion_index``.
    Build the module under ``equivariant.default_dtype(torch.float64)`` for float64.
    """

    def __init__(self, config: TorsionScoreNetworkConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config if config is not None else TorsionScoreNetworkConfig()
        hidden = o3.Irreps(cfg.hidden_irreps)
        if o3.Irrep("0e") not in [ir for _, ir in hidden]:
            raise ValueError(f"hidden_irreps {hidden} has no 0e part")
        if cfg.num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {cfg.num_layers}")
        self.irreps_sh = o3.Irreps.spherical_harmonics(cfg.sh_lmax)
        self.register_buffer("scalar_index", _even_scalar_index(hidden), persistent=False)
        num_scalars = len(self.scalar_index)

        self.node_embedding = _mlp(ATOM_FEATURES + cfg.time_dim, cfg.mlp_dim, num_scalars)
        self.radial = RadialEmbedding(cfg.num_radial, cfg.radius)
        self.edge_embedding = _mlp(cfg.num_radial + BOND_FEATURES + 1, cfg.mlp_dim, cfg.edge_dim)
        irreps_in = [o3.Irreps(f"{num_scalars}x0e")] + [hidden] * (cfg.num_layers - 1)
        self.layers = nn.ModuleList(
            TensorProductConv(irreps, self.irreps_sh, hidden, cfg.edge_dim, cfg.mlp_dim)
            for irreps in irreps_in
        )

        # Bond-centred final layer.
        self.bond_radial = RadialEmbedding(cfg.num_radial, cfg.bond_radius)
        self.axis_irreps = o3.Irreps("2e")  # even in the axis: symmetric under b <-> c
        lmax_hidden = max(ir.l for _, ir in hidden)
        self.pair_tp = o3.FullTensorProduct(
            self.axis_irreps,
            self.irreps_sh,
            filter_ir_out=[ir for _, ir in o3.Irreps.spherical_harmonics(lmax_hidden, p=1)]
            + [ir for _, ir in o3.Irreps.spherical_harmonics(lmax_hidden, p=-1)],
        )
        self.bond_tp = o3.FullyConnectedTensorProduct(
            hidden, self.pair_tp.irreps_out, f"{cfg.final_dim}x0o", shared_weights=False
        )
        if self.bond_tp.weight_numel == 0:
            raise ValueError(f"hidden_irreps {hidden} cannot give a 0o torsion score")
        self.bond_weights = _mlp(
            cfg.num_radial + 2 * num_scalars, cfg.mlp_dim, self.bond_tp.weight_numel
        )
        # Odd in its input (no biases, tanh), so the output stays a pseudoscalar.
        self.output = nn.Sequential(
            nn.Linear(cfg.final_dim, cfg.final_dim, bias=False),
            nn.Tanh(),
            nn.Linear(cfg.final_dim, 1, bias=False),
        )

    @classmethod
    def from_config(
        cls, config: TorsionScoreNetworkConfig | Mapping[str, Any]
    ) -> TorsionScoreNetwork:
        """Build from a :class:`TorsionScoreNetworkConfig` or a mapping of its fields."""
        if isinstance(config, Mapping):
            config = TorsionScoreNetworkConfig(**config)
        return cls(config)

    def forward(self, data: Data, sigma: float | Tensor) -> Tensor:
        cfg = self.config
        pos, x, n = data.pos, data.x, data.num_nodes  # [N, 3], [N, ATOM_FEATURES]
        batch = data.batch if data.batch is not None else pos.new_zeros(n, dtype=torch.long)
        num_graphs = int(data.num_graphs) if isinstance(data, Batch) else 1
        bonds, torsions = data.bond_index, data.torsion_index
        bond_features = data.bond_attr
        if cfg.heavy_atoms:
            heavy = x[:, HYDROGEN_FEATURE] == 0  # [N]
            new_index = torch.cumsum(heavy, 0) - 1  # old atom -> heavy atom index
            kept = heavy[bonds[0]] & heavy[bonds[1]]
            bonds, bond_features = new_index[bonds[:, kept]], bond_features[kept]
            torsions = new_index[torsions]  # rotatable torsions are heavy-atom quadruples
            pos, x, batch, n = pos[heavy], x[heavy], batch[heavy], int(heavy.sum())
        sigma = torch.as_tensor(sigma, dtype=pos.dtype, device=pos.device).expand(num_graphs)
        time = sinusoidal_embedding(torch.log(sigma), cfg.time_dim, max_period=100.0, scale=4.0)
        h = self.node_embedding(torch.cat([x, time[batch]], -1))  # [N, S]

        # Edges: bonds U radius graph, deduplicated (the order is irrelevant to the layers).
        radius_edges = radius_graph(pos, cfg.radius, batch)
        keys, inverse = torch.unique(
            torch.cat([bonds[0] * n + bonds[1], radius_edges[0] * n + radius_edges[1]]),
            return_inverse=True,
        )
        edge_index = torch.stack([keys // n, keys % n])  # [2, E]
        bond_attr = bond_features.new_zeros(len(keys), BOND_FEATURES + 1)
        bond_attr[inverse[: bonds.shape[1]]] = torch.cat(
            [bond_features, bond_features.new_ones(bonds.shape[1], 1)], -1
        )
        vec = pos[edge_index[0]] - pos[edge_index[1]]  # [E, 3]
        edge_sh = o3.spherical_harmonics(self.irreps_sh, vec, True, normalization="component")
        edge_scalars = self.edge_embedding(
            torch.cat([self.radial(vec.norm(dim=-1)), bond_attr], -1)
        )  # [E, edge_dim]
        for layer in self.layers:
            h = layer(h, edge_index, edge_sh, edge_scalars)  # [N, hidden.dim]

        return self._bond_scores(h, pos, batch, torsions, sigma)

    def _bond_scores(
        self, h: Tensor, pos: Tensor, batch: Tensor, torsions: Tensor, sigma: Tensor
    ) -> Tensor:
        """The bond-centred final layer: ``[T]`` scores of the torsions ``[T, 4]``."""
        b, c = torsions[:, 1], torsions[:, 2]  # [T]
        centre = (pos[b] + pos[c]) / 2  # [T, 3]
        # Candidates: the atoms of the torsion's own molecule only (the batch is sorted), so
        # the work is [T, largest molecule], linear in the number of conformers batched.
        counts = torch.bincount(batch)
        first = torch.cat([counts.new_zeros(1), counts.cumsum(0)[:-1]])
        graph = batch[b]  # [T]
        offsets = torch.arange(int(counts.max()), device=pos.device)  # [W]
        inside = offsets < counts[graph][:, None]  # [T, W]
        candidates = torch.where(inside, first[graph][:, None] + offsets, b[:, None])  # [T, W]
        rel = pos[candidates] - centre[:, None, :]  # [T, W, 3]
        near = inside & (rel.norm(dim=-1) < self.config.bond_radius)
        bond, column = near.nonzero(as_tuple=True)  # [P], [P]: by torsion, then atom index
        atom = candidates[bond, column]
        rel = rel[bond, column]  # [P, 3]
        axis_sh = o3.spherical_harmonics(
            self.axis_irreps, pos[c] - pos[b], True, normalization="component"
        )  # [T, 5]
        rel_sh = o3.spherical_harmonics(self.irreps_sh, rel, True, normalization="component")
        pair_sh = self.pair_tp(axis_sh[bond], rel_sh)  # [P, pair_tp.irreps_out.dim]
        scalars = h[:, self.scalar_index]  # [N, S]
        bond_scalars = scalars[b] + scalars[c]  # [T, S]
        weights = self.bond_weights(
            torch.cat([self.bond_radial(rel.norm(dim=-1)), bond_scalars[bond], scalars[atom]], -1)
        )
        messages = self.bond_tp(h[atom], pair_sh, weights)  # [P, final_dim]
        odd = scatter(messages, bond, dim=0, dim_size=len(torsions), reduce="mean")  # [T, F]
        out = self.output(odd)[:, 0]  # [T]
        if self.config.scale_by_score_norm:
            out = out * TorusDiffuser.kernel_score_norm(sigma).sqrt()[batch[b]]
        return out

    @torch.no_grad()
    def scores(self, mol: Chem.Mol | Data, sigma: float | Tensor, conf_id: int = -1) -> Tensor:
        """Torsion scores ``[T]`` (radian^-1) of one RDKit conformer or of a batch, no grad.

        A molecule is featurised by :func:`~molgen.chem.molecule_graph.molecule_graph`
        (``conf_id``); its torsions are ``molgen.geometry.torsions.rotatable_bonds(mol)``.
        """
        if isinstance(mol, Chem.Mol):
            mol = Batch.from_data_list([molecule_graph(mol, conf_id)])
        param = next(self.parameters())
        mol = mol.clone().to(param.device)  # leave the caller's batch alone
        for key in ("pos", "x", "bond_attr"):
            mol[key] = mol[key].to(param.dtype)
        return self(mol, sigma)
