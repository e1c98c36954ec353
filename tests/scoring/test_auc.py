"""ROC AUC via Mann-Whitney U against hand-counted examples."""

from __future__ import annotations

import pytest

from molgen.scoring import roc_auc


def test_auc_hand_example():
    """Positives (3, 1, 2) vs negatives (0, 2): pairs 2 + 1 + (1 + 0.5 tie) = 4.5 of 6."""
    assert roc_auc([3.0, 1.0, 2.0], [0.0, 2.0]) == pytest.approx(4.5 / 6)


def test_auc_perfect_and_reversed():
    """Complete separation gives 1; swapping the classes gives 0; all ties give 1/2."""
    assert roc_auc([2.0, 3.0], [0.0, 1.0]) == 1.0
    assert roc_auc([0.0, 1.0], [2.0, 3.0]) == 0.0
    assert roc_auc([1.0, 1.0], [1.0]) == 0.5
