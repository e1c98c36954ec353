r"""ROC AUC from the Mann-Whitney U statistic (no scikit-learn in the environment).

.. math::

    \mathrm{AUC} = \frac{1}{n_+ n_-} \sum_{i \in +} \sum_{j \in -}
        \big([s_i > s_j] + \tfrac12 [s_i = s_j]\big)
        = \frac{R_+ - n_+(n_+ + 1)/2}{n_+ n_-},

with :math:`R_+` the sum of the positives' ranks in the pooled sample (average ranks for
ties, :func:`scipy.stats.rankdata`).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

__all__ = ["aucs_by_class", "roc_auc"]


def roc_auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties count 1/2).

    Parameters
    ----------
    positive, negative : array-like of float, shape ``(n_+,)``, ``(n_-,)``
        Scores; higher means "more positive". Both must be non-empty and finite.
    """
    pos, neg = np.asarray(positive, dtype=float), np.asarray(negative, dtype=float)
    if pos.size == 0 or neg.size == 0:
        raise ValueError("roc_auc needs at least one positive and one negative score")
    ranks = rankdata(np.concatenate([pos, neg]))
    u = ranks[: pos.size].sum() - pos.size * (pos.size + 1) / 2
    return float(u / (pos.size * neg.size))


def aucs_by_class(
    scores: np.ndarray, classes: np.ndarray, select: np.ndarray, positive: str = "real"
) -> dict[str, float]:
    """:func:`roc_auc` of the selected ``positive`` rows against the selected rows of each
    other class (in order of first appearance; classes with no selected row are left out);
    ``scores``, ``classes``, ``select`` ``[N]``."""
    scores, classes = np.asarray(scores, dtype=float), np.asarray(classes)
    real = scores[(classes == positive) & select]
    others = [name for name in dict.fromkeys(classes.tolist()) if name != positive]
    rows = {name: scores[(classes == name) & select] for name in others}
    return {name: roc_auc(real, values) for name, values in rows.items() if len(values)}
