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

__all__ = ["roc_auc"]


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
