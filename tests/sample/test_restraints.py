"""Tests for molgen.sample.restraints: the steric / chain-continuity restraint on CA atoms."""

from __future__ import annotations

import numpy as np
import torch

from molgen.checks.clashes import ca_clashes
from molgen.geometry import random_rotation
from molgen.models.residue_graph import flatten_mask
from molgen.sample.restraints import (
    _flat,
    _gradient,
    _pairs,
    nonlocal_ca_pairs,
    restrain_ca,
    restraint_energy,
)


def _ca(backbone: np.ndarray, dtype=torch.float32) -> torch.Tensor:
    return torch.tensor(backbone[:, 1], dtype=dtype)


def _batch(chains: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad chains ``[L_i, 3]`` into ``x [B, Lmax, 3]`` and ``mask [B, Lmax]``."""
    lmax = max(len(c) for c in chains)
    x = chains[0].new_zeros(len(chains), lmax, 3)
    mask = torch.zeros(len(chains), lmax, dtype=torch.bool)
    for i, c in enumerate(chains):
        x[i, : len(c)], mask[i, : len(c)] = c, True
    return x, mask


def _ca_clash_fraction(ca: torch.Tensor) -> float:
    """Fraction of residues in a non-local CA clash, by molgen's own check."""
    return float(ca_clashes(ca.numpy(), np.ones(len(ca), dtype=bool)).mean())


def test_analytic_gradient_matches_autograd(val_backbones):
    """On a squeezed real chain (many clashes, stretched bonds) the hand-written gradient
    equals autograd's gradient of the per-chain energy, in float64."""
    x = _ca(val_backbones[1], torch.float64)[None] * 0.7
    mask = torch.ones(x.shape[:2], dtype=torch.bool)
    _, batch, res, flat_x = _flat(x, mask)
    near, bonded = _pairs(flat_x, batch, res, 16)
    leaf = x.clone().requires_grad_(True)
    energy = restraint_energy(leaf, mask).sum()
    (auto,) = torch.autograd.grad(energy, leaf)
    assert energy > 10.0  # the squeeze really creates overlaps
    torch.testing.assert_close(_gradient(flat_x, near, bonded), auto[0], rtol=1e-10, atol=1e-10)


def test_real_chains_barely_move(val_backbones):
    """PDB chains already satisfy the restraint: the median largest CA move is < 0.1 A (cis
    peptides, CA-CA 2.9 A, are the residues that move most)."""
    moves = []
    for backbone in val_backbones[:30]:
        x = _ca(backbone)[None]
        mask = torch.ones(x.shape[:2], dtype=torch.bool)
        moves.append(float((restrain_ca(x, mask) - x).norm(dim=-1).max()))
    assert np.median(moves) < 0.1


def test_restraint_removes_clashes_and_lowers_the_energy(val_backbones):
    """A real chain squeezed to 60% of its size clashes at a quarter of its residues;
    restraining removes the CA clashes and cuts the energy 20-fold, more with more iterations."""
    x = _ca(val_backbones[0])[None] * 0.6
    mask = torch.ones(x.shape[:2], dtype=torch.bool)
    assert _ca_clash_fraction(x[0]) > 0.2
    energies = [
        float(restraint_energy(restrain_ca(x, mask, iterations=n), mask)) for n in (0, 5, 20)
    ]
    assert energies[0] > energies[1] > energies[2]
    assert energies[2] < 0.05 * energies[0]
    assert _ca_clash_fraction(restrain_ca(x, mask, iterations=200)[0]) == 0.0


def test_restraint_is_equivariant_and_padding_is_ignored(val_backbones):
    """restrain(R x + t) = R restrain(x) + t to 1e-4 A in float32; chains restrained in one
    padded batch equal chains restrained alone, and padding stays zero."""
    chains = [_ca(b) * 0.8 for b in val_backbones[2:5]]
    x, mask = _batch(chains)
    out = restrain_ca(x, mask)
    rot = random_rotation(generator=torch.Generator().manual_seed(0))
    shift = torch.tensor([12.0, -7.0, 3.0])
    moved = restrain_ca(x @ rot.T + shift, mask)
    flat, _ = flatten_mask(mask)
    expected = (out @ rot.T + shift).reshape(-1, 3)[flat]
    assert (moved.reshape(-1, 3)[flat] - expected).abs().max() < 1e-4
    for i, chain in enumerate(chains):
        alone = restrain_ca(chain[None], torch.ones(1, len(chain), dtype=torch.bool))[0]
        torch.testing.assert_close(out[i, : len(chain)], alone, rtol=0, atol=1e-5)
    assert (out[~mask] == 0).all()


def test_nonlocal_pairs_are_unique_and_cover_close_contacts(val_backbones):
    """Every CA pair >= 3 residues apart and under 5 A appears exactly once, as (i, j), i < j,
    indexed into the flattened batch."""
    chains = [_ca(b, torch.float64) for b in val_backbones[:2]]
    x, mask = _batch(chains)
    pairs = nonlocal_ca_pairs(x, mask)
    assert (pairs[0] < pairs[1]).all()
    assert len({tuple(p) for p in pairs.T.tolist()}) == pairs.shape[1]
    length = x.shape[1]
    found = {tuple(p) for p in pairs.T.tolist()}
    for b, ca in enumerate(chains):
        d = torch.cdist(ca, ca)
        i, j = torch.nonzero((d < 5.0) & torch.ones_like(d).triu(3).bool(), as_tuple=True)
        expected = {(b * length + int(u), b * length + int(v)) for u, v in zip(i, j, strict=True)}
        assert expected and expected <= found
        assert all(u // length == v // length for u, v in found)
