r"""Backbone ``model_score``: log-odds that a chain is real-like, from its whole-chain features.

:func:`plausibility_scores` computes :func:`molgen.scoring.features.chain_features` of each
backbone and evaluates a :class:`molgen.models.PlausibilityClassifier` (bundled as
``plausibility``, trained by ``scripts/train_plausibility.py`` on train chains against
molgen's own samples and synthetic decoys). The score
:math:`\ell = \log\frac{p(\text{real}\mid f)}{p(\text{decoy}\mid f)}` (equal class priors) is
0 where the classifier cannot tell, positive for real-like chains; the share of val chains
above each threshold is in the classifier's model card.

Why a classifier and not the denoising error (:mod:`molgen.scoring.backbone`, kept as the
``denoising_score`` column): a score model rates its own samples as likely (ROC AUC 0.56 real
vs generated, issue 21), while what a generator gets wrong is global (too little strand, loose
loops, poor packing) and shows in chain statistics.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from molgen.errors import InputError
from molgen.models.plausibility import PlausibilityClassifier
from molgen.scoring.features import FEATURE_NAMES, chain_features

__all__ = ["plausibility_scores"]


@torch.no_grad()
def plausibility_scores(
    classifier: nn.Module, backbones: Sequence[np.ndarray]
) -> list[float | None]:
    """``model_score`` of each backbone ``(L, 4, 3)`` (Angstrom), None for a chain with fewer
    than 2 residues with N, CA and C.

    Raises
    ------
    InputError
        Not a plausibility classifier, or one trained on other features than
        :data:`FEATURE_NAMES`.
    """
    if not isinstance(classifier, PlausibilityClassifier):
        raise InputError(f"not a plausibility classifier: a {type(classifier).__name__}")
    if list(classifier.config.feature_names) != list(FEATURE_NAMES):
        raise InputError("this plausibility classifier was trained on other features")
    rows: list[np.ndarray | None] = []
    for atoms in backbones:
        try:
            rows.append(chain_features(atoms))
        except ValueError:
            rows.append(None)
    first = next(classifier.parameters())
    out: list[float | None] = []
    for row in rows:  # one at a time: a score never depends on what else is scored with it
        if row is None:
            out.append(None)
            continue
        features = torch.tensor(row[None], dtype=first.dtype, device=first.device)
        value = float(classifier(features)[0])
        out.append(float(f"{value:.9g}"))
    return out
