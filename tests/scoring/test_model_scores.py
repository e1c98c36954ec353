"""Learned scores: deterministic, independent of batch composition, conformer scores per row."""

from __future__ import annotations

import numpy as np
import torch
from rdkit import Chem
from rdkit.Chem import AllChem

from molgen.models import load
from molgen.scoring import backbone_model_scores, conformer_model_scores


def test_backbone_score_deterministic(tiny_backbone_model, val_backbones):
    """The same backbones and seed give identical scores; another seed gives different ones."""
    model = load(tiny_backbone_model)
    chains = val_backbones[:3]
    first = backbone_model_scores(model, chains, seed=0)
    assert first == backbone_model_scores(model, chains, seed=0)
    other = backbone_model_scores(model, chains, seed=1)
    assert all(a["model_score"] != b["model_score"] for a, b in zip(first, other, strict=True))
    assert all(r["model_score"] < 0 and r["model_trans_error"] > 0 for r in first)


def test_backbone_score_independent_of_batch(tiny_backbone_model, val_backbones):
    """A chain's score alone equals its score batched with chains of other lengths (1e-5)."""
    model = load(tiny_backbone_model)
    chains = val_backbones[:6]
    alone = [backbone_model_scores(model, [c])[0]["model_score"] for c in chains[:2]]
    batched = backbone_model_scores(model, chains[::-1], batch_size=4)[::-1]
    together = [r["model_score"] for r in batched[:2]]
    np.testing.assert_allclose(together, alone, rtol=1e-5)


def test_backbone_score_order_and_short_chain(tiny_backbone_model, val_backbones):
    """Results come back in input order; a 1-residue chain has no score (None)."""
    model = load(tiny_backbone_model)
    chains = [val_backbones[0], val_backbones[1][:1], val_backbones[1]]
    result = backbone_model_scores(model, chains, batch_size=2)
    assert result[1]["model_score"] is None
    assert result[0] == backbone_model_scores(model, chains[:1])[0]


def test_conformer_scores_per_conformer(tiny_conformer_model):
    """One score per conformer, deterministic; a rigid molecule (benzene) has None."""
    model = load(tiny_conformer_model)
    mol = Chem.AddHs(Chem.MolFromSmiles("CCCCOc1ccccc1"))
    AllChem.EmbedMultipleConfs(mol, 3, randomSeed=1)
    scores = conformer_model_scores(model, mol, seed=0)
    assert len(scores) == 3 and all(s is not None and s < 0 for s in scores)
    assert scores == conformer_model_scores(model, mol, seed=0)
    torch.manual_seed(0)
    benzene = Chem.AddHs(Chem.MolFromSmiles("c1ccccc1"))
    AllChem.EmbedMolecule(benzene, randomSeed=1)
    assert conformer_model_scores(model, benzene) == [None]
