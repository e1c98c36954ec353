r"""Learned plausibility of molecular conformers: torsional denoising error of the torsion model.

For a conformer and each noise level :math:`\sigma_k` (radians) of a fixed grid, every
rotatable torsion is turned by wrapped-normal noise :math:`\delta = \mathrm{wrap}(\sigma_k z)`
(:func:`molgen.models.denoising.perturb_torsions`) and the network's torsion scores are
compared with the true wrapped-normal score, on the training loss's scale:

.. math::

    \text{model\_score} = -\frac1K \sum_k \frac1T \sum_t
        \frac{(\hat s_t - \partial_\delta \log p_{\sigma_k}(\delta_t))^2}
             {\mathbb E_{p_{\sigma_k}}[s^2]},

0 for a perfect denoiser, about -1 for the zero predictor; higher is more plausible. A
conformer in a strained or unusual torsional state is hard to denoise. Conformers without a
rotatable bond have no score (None). The noise comes from a generator seeded by
``(seed, conformer position)``, so the same input always gives the same score.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from rdkit import Chem
from torch import nn
from torch_geometric.data import Batch

from molgen.chem.torsion_graph import torsion_graph
from molgen.geometry.torsions import rotating_side
from molgen.models.denoising import perturb_torsions, torsion_errors
from molgen.seeding import seeded_generator

__all__ = ["DEFAULT_SIGMA_GRID", "conformer_model_scores"]

#: Torsion noise levels of the score (radians): small to moderate, where strain shows.
DEFAULT_SIGMA_GRID = (0.1, 0.3, 0.6)


@torch.no_grad()
def conformer_model_scores(
    model: nn.Module,
    mol: Chem.Mol,
    conf_ids: Sequence[int] | None = None,
    *,
    seed: int = 0,
    sigma_grid: Sequence[float] = DEFAULT_SIGMA_GRID,
    device: str | torch.device = "cpu",
) -> list[float | None]:
    """Learned plausibility of conformers of ``mol`` (see the module docstring).

    Parameters
    ----------
    model : TorsionScoreNetwork
        Torsion score network (eval mode, on ``device``).
    mol : rdkit.Chem.Mol
        Molecule with 3D conformers (Angstrom), hydrogens as the model was trained with.
    conf_ids : sequence of int, optional
        Conformers to score; default all, in order.
    seed : int
        Seed of the torsion noise.
    sigma_grid : sequence of float
        Noise levels in radians.
    device : str or torch.device

    Returns
    -------
    list of float or None
        One score per conformer; None when the molecule has no rotatable torsion.
    """
    ids = [c.GetId() for c in mol.GetConformers()] if conf_ids is None else list(conf_ids)
    dtype = next(model.parameters()).dtype
    sigma = torch.tensor(list(sigma_grid), dtype=dtype)
    side_mask = None
    scores: list[float | None] = []
    for position, conf_id in enumerate(ids):
        graph = torsion_graph(mol, conf_id, side_mask)
        if len(graph.torsion_index) == 0:
            scores.append(None)
            continue
        if side_mask is None:
            side_mask = rotating_side(mol, graph.torsion_index)
        for key in ("pos", "x", "bond_attr"):
            graph[key] = graph[key].to(dtype)
        batch = Batch.from_data_list([graph] * len(sigma))  # one copy per noise level
        noisy, delta, sigma_t = perturb_torsions(batch, sigma, seeded_generator(seed, position))
        pred = model(noisy.to(device), sigma.to(device)).cpu()
        error, _ = torsion_errors(pred, delta, sigma_t)  # [K T]
        scores.append(-float(error.double().mean()))
    return scores
