"""fit_classifier / class_weights: the class-balanced logistic fit behind both plausibility
classifiers."""

from __future__ import annotations

import numpy as np
import torch

from molgen.models import PlausibilityClassifierConfig
from molgen.scoring import aucs_by_class, roc_auc
from molgen.train.plausibility import class_weights, fit_classifier


def test_class_weights_balance_classes_and_skip_held_rows():
    """Real rows share 1, the negatives 1 split by shares (default equal), held rows 0."""
    classes = np.array(["real"] * 4 + ["a"] * 2 + ["b"] * 6)
    held = np.zeros(12, dtype=bool)
    held[0] = True
    weight = class_weights(classes, held)
    assert weight[0] == 0 and np.isclose(weight[classes == "real"].sum(), 1.0)
    assert np.isclose(weight[classes == "a"].sum(), 0.5)
    assert np.isclose(weight[classes == "b"].sum(), 0.5)
    weight = class_weights(classes, held, {"a": 0.8, "b": 0.2})
    assert np.isclose(weight[classes == "a"].sum(), 0.8)


def _gaussians(shift: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """300 real rows ~ N(+shift, 1) and 150 of each of two decoy classes ~ N(-shift, 1)."""
    x = np.concatenate([rng.normal(shift, 1, (300, 3)), rng.normal(-shift, 1, (300, 3))])
    return x, np.array(["real"] * 300 + ["a"] * 150 + ["b"] * 150)


def _fit(x, classes, held, **settings) -> np.ndarray:
    torch.manual_seed(0)
    config = PlausibilityClassifierConfig(feature_names=["f0", "f1", "f2"], hidden=8)
    model, loss = fit_classifier(x, classes, held, config, **settings)
    assert np.isfinite(loss) and not model.training
    with torch.no_grad():
        return model(torch.tensor(x, dtype=torch.float32)).numpy()


def test_fit_separates_overlapping_classes():
    """Real ~ N(+1, 1) vs decoys ~ N(-1, 1) in 3 features: held-out AUC > 0.9 (the Bayes
    AUC is about 0.99)."""
    x, classes = _gaussians(1.0, np.random.default_rng(0))
    held = np.arange(600) % 5 == 0
    logit = _fit(x, classes, held, epochs=300)
    assert roc_auc(logit[held & (classes == "real")], logit[held & (classes != "real")]) > 0.9


def test_holdout_aucs_per_negative_class():
    """aucs_by_class gives one AUC per negative class over the held-out rows: high for a
    separated class, about 0.5 for a class drawn like the positives."""
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.normal(1, 1, (300, 3)), rng.normal(-2, 1, (150, 3)),
                        rng.normal(1, 1, (150, 3))])  # fmt: skip
    classes = np.array(["real"] * 300 + ["far"] * 150 + ["alike"] * 150)
    held = np.arange(600) % 3 == 0
    torch.manual_seed(0)
    config = PlausibilityClassifierConfig(feature_names=["f0", "f1", "f2"], hidden=8)
    model, _ = fit_classifier(x, classes, held, config, epochs=300)
    with torch.no_grad():
        logit = model(torch.tensor(x, dtype=torch.float32)).numpy()
    aucs = aucs_by_class(logit, classes, held)
    assert set(aucs) == {"far", "alike"}
    assert aucs["far"] > 0.95 and abs(aucs["alike"] - 0.5) < 0.15


def test_label_smoothing_bounds_the_log_odds_of_separable_classes():
    """Separable classes (means +-4): with smoothing 0.01 the typical training log-odds is the
    smoothed target's, log(2 / 0.01 - 1) = 5.3 (median |logit| within 0.5 of it, none past
    twice it); without smoothing they keep growing (median past 7)."""
    x, classes = _gaussians(4.0, np.random.default_rng(1))
    held = np.zeros(600, dtype=bool)
    target = np.log(2 / 0.01 - 1)
    smoothed = np.abs(_fit(x, classes, held, epochs=1500, label_smoothing=0.01))
    assert abs(np.median(smoothed) - target) < 0.5 and smoothed.max() < 2 * target
    assert np.median(np.abs(_fit(x, classes, held, epochs=1500, label_smoothing=0.0))) > 7
