"""Learned scores: deterministic, independent of batch composition, conformer scores per row."""

from __future__ import annotations

import numpy as np
import torch
from rdkit import Chem
from rdkit.Chem import AllChem

from molgen.models import load, update_extra
from molgen.scoring import (
    ScoreCalibration,
    backbone_model_scores,
    calibrate,
    conformer_model_scores,
)
from molgen.scoring.backbone import denoising_errors


def test_backbone_score_deterministic(tiny_backbone_model, val_backbones):
    """The same backbones and seed give identical scores; another seed gives different ones."""
    model = load(tiny_backbone_model)
    chains = val_backbones[:3]
    first = backbone_model_scores(model, chains, seed=0)
    assert first == backbone_model_scores(model, chains, seed=0)
    other = backbone_model_scores(model, chains, seed=1)
    pairs = zip(first, other, strict=True)
    assert all(a["denoising_score"] != b["denoising_score"] for a, b in pairs)
    assert all(r["denoising_score"] < 0 and r["model_trans_error"] > 0 for r in first)


def test_backbone_score_independent_of_batch(tiny_backbone_model, val_backbones):
    """A chain's score alone equals its score batched with chains of other lengths (1e-5)."""
    model = load(tiny_backbone_model)
    chains = val_backbones[:6]
    alone = [backbone_model_scores(model, [c])[0]["denoising_score"] for c in chains[:2]]
    batched = backbone_model_scores(model, chains[::-1], batch_size=4)[::-1]
    together = [r["denoising_score"] for r in batched[:2]]
    np.testing.assert_allclose(together, alone, rtol=1e-5)


def test_backbone_score_order_and_short_chain(tiny_backbone_model, val_backbones):
    """Results come back in input order; a 1-residue chain has no score (None)."""
    model = load(tiny_backbone_model)
    chains = [val_backbones[0], val_backbones[1][:1], val_backbones[1]]
    result = backbone_model_scores(model, chains, batch_size=2)
    assert result[1]["denoising_score"] is None
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


def test_calibration_standardises_the_calibration_set(tiny_backbone_model, val_backbones):
    """On its own calibration chains, z_k = (log E_k - mu_k) / s_k has mean 0 and std 1 per k,
    and denoising_score = -max_k z_k."""
    model = load(tiny_backbone_model)
    chains = val_backbones[:8]
    cal = calibrate(model, chains, seed=0)
    errors, _, _ = denoising_errors(model, chains, seed=0)
    z = (np.log(errors) - np.array(cal.mean)) / np.array(cal.std)
    np.testing.assert_allclose(z.mean(0), 0.0, atol=1e-9)
    np.testing.assert_allclose(z.std(0, ddof=1), 1.0, rtol=1e-9)
    model.extra = {"score_calibration": cal.to_dict()}
    scores = [r["denoising_score"] for r in backbone_model_scores(model, chains, seed=0)]
    np.testing.assert_allclose(scores, -z.max(1), rtol=1e-8)  # scores: 9 digits


def test_calibration_is_stored_with_the_weights(tiny_backbone_model, val_backbones, tmp_path):
    """update_extra writes the calibration into config.json; load() returns it as model.extra;
    a calibration for another time grid is ignored (identity)."""
    import shutil

    folder = shutil.copytree(tiny_backbone_model, tmp_path / "model")
    cal = calibrate(load(folder), val_backbones[:4], seed=0)
    update_extra(folder, score_calibration=cal.to_dict())
    model = load(folder)
    assert ScoreCalibration.from_model(model, cal.t_grid) == cal
    identity = ScoreCalibration.from_model(model, (0.05, 0.5))
    assert identity.mean == (0.0, 0.0) and identity.std == (1.0, 1.0)
