r"""Fit a :class:`~molgen.models.PlausibilityClassifier` on feature rows of real and decoy
structures (the backbone and the molecule classifiers share this).

Loss: class-weighted logistic loss, full batch, AdamW (lr 3e-3),

.. math::

    L = \sum_i w_i\, \mathrm{BCE}(\ell_i, \tilde y_i), \qquad
    \tilde y_i = y_i (1 - \varepsilon) + \varepsilon / 2,

with :math:`y = 1` for class ``"real"``, the positives sharing weight 1 and the negatives
weight 1 split between their classes as ``shares`` says (equal shares by default), held-out
rows weight 0. The smoothing :math:`\varepsilon` keeps the log-odds within about
:math:`\pm\log(2/\varepsilon - 1)` on separable classes, so that they stay a calibrated
scale rather than growing without bound. The feature standardisation comes from the
training rows of all classes.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from molgen.models.plausibility import PlausibilityClassifier, PlausibilityClassifierConfig

__all__ = ["class_weights", "fit_classifier"]


def class_weights(
    classes: np.ndarray, held: np.ndarray, shares: Mapping[str, float] | None = None
) -> np.ndarray:
    """Per-row loss weights (module docstring): ``"real"`` rows share 1, each negative class
    its share of 1 (``shares``, default equal), held-out rows 0."""
    negatives = [name for name in dict.fromkeys(classes.tolist()) if name != "real"]
    shares = dict(shares or {name: 1.0 / len(negatives) for name in negatives})
    weight = np.zeros(len(classes))
    for name in ["real", *negatives]:
        train_rows = (classes == name) & ~held
        if train_rows.any():
            weight[train_rows] = (1.0 if name == "real" else shares[name]) / train_rows.sum()
    return weight


def fit_classifier(
    features: np.ndarray,
    classes: np.ndarray,
    held: np.ndarray,
    config: PlausibilityClassifierConfig,
    *,
    shares: Mapping[str, float] | None = None,
    epochs: int = 1500,
    label_smoothing: float = 0.01,
    weight_decay: float = 0.05,
) -> tuple[PlausibilityClassifier, float]:
    """The trained classifier (eval mode) and its final training loss.

    Parameters
    ----------
    features : numpy.ndarray
        ``[N, F]`` rows in the order of ``config.feature_names``.
    classes : numpy.ndarray
        ``[N]`` class names, ``"real"`` for the positives.
    held : numpy.ndarray
        ``[N]`` bool, rows left out of the fit (and of the standardisation).
    config : PlausibilityClassifierConfig
    shares, epochs, label_smoothing, weight_decay
        See the module docstring.
    """
    x = torch.tensor(features, dtype=torch.float32)
    y = torch.tensor(classes == "real", dtype=torch.float32)
    target = y * (1.0 - label_smoothing) + label_smoothing / 2
    weight = torch.tensor(class_weights(classes, held, shares), dtype=torch.float32)
    model = PlausibilityClassifier(config)
    model.set_standardisation(x[torch.from_numpy(~held)])
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=weight_decay)
    for _ in range(epochs):
        optimiser.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            model(x), target, weight=weight, reduction="sum"
        )
        loss.backward()
        optimiser.step()
    return model.eval(), float(loss.detach())
