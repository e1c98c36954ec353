"""The bundled plausibility classifier: real chains above decoys, calibrated sign, checkpoints."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from molgen.errors import InputError
from molgen.models import PlausibilityClassifier, PlausibilityClassifierConfig, load, save
from molgen.scoring import plausibility_scores, roc_auc, swap_decoy, torsion_noise_decoy
from molgen.scoring.features import FEATURE_NAMES


@pytest.fixture(scope="module")
def classifier():
    return load("plausibility")


def test_real_val_chains_score_above_decoys(classifier, val_backbones):
    """30 real val chains vs their rebuilt-with-noisy-torsions and segment-swapped decoys:
    AUC >= 0.95, and most real chains score above 0 (log-odds of real-like)."""
    real = val_backbones[:30]
    rng = np.random.default_rng(0)
    real_scores = np.array(plausibility_scores(classifier, real))
    torsion = plausibility_scores(
        classifier, [torsion_noise_decoy(a, math.radians(15.0), rng) for a in real]
    )
    swapped = plausibility_scores(classifier, [swap_decoy(a, rng) for a in real if len(a) >= 20])
    assert roc_auc(real_scores, np.array(torsion)) >= 0.95
    assert roc_auc(real_scores, np.array(swapped)) >= 0.95
    assert (real_scores > 0).mean() >= 0.8


def test_short_chain_has_no_score_and_order_is_kept(classifier, val_backbones):
    """A 1-residue chain gets None; the others keep their scores and order."""
    chains = [val_backbones[0], val_backbones[0][:1], val_backbones[1]]
    scores = plausibility_scores(classifier, chains)
    assert scores[1] is None
    assert scores[0] == plausibility_scores(classifier, [val_backbones[0]])[0]
    assert scores[2] == plausibility_scores(classifier, [val_backbones[1]])[0]


def test_other_features_are_refused(val_backbones):
    """A classifier trained on other feature names, or another kind of model, is an
    InputError, not a silent misuse or a traceback."""
    other = PlausibilityClassifier(PlausibilityClassifierConfig(["a", "b"], hidden=4))
    with pytest.raises(InputError, match="other features"):
        plausibility_scores(other, val_backbones[:1])
    with pytest.raises(InputError, match="not a plausibility classifier"):
        plausibility_scores(torch.nn.Linear(2, 1), val_backbones[:1])


def test_checkpoint_round_trip(tmp_path):
    """save then load gives the same logits (standardisation buffers included)."""
    torch.manual_seed(0)
    model = PlausibilityClassifier(PlausibilityClassifierConfig(list(FEATURE_NAMES), hidden=8))
    x = torch.randn(16, len(FEATURE_NAMES))
    model.set_standardisation(x * 3 + 1)
    again = load(save(model, tmp_path / "clf"))
    torch.testing.assert_close(again(x), model.eval()(x))
