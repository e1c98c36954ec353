"""scripts/nll_by_crowding.py: ProteinMPNN NLL split by C-beta crowding."""

from __future__ import annotations

import numpy as np
import pytest

from molgen.evaluation import mpnn_available, mpnn_scores, reference_set
from tests.scripts.script_loader import load_script


def test_weighting_by_other_shares_uses_only_weighted_classes():
    """The reweighted NLL is the share-weighted sum of the class means; an empty class
    counts only when it carries weight."""
    probe = load_script("nll_by_crowding")
    table = {"class_nll": [0.5, None, 1.0, 1.2, 1.4]}
    assert probe.at_shares(table, [0.1, 0.0, 0.2, 0.3, 0.4]) == pytest.approx(
        0.05 + 0.2 + 0.36 + 0.56
    )
    assert probe.at_shares(table, [0.1, 0.1, 0.2, 0.2, 0.4]) is None


@pytest.mark.skipif(not mpnn_available(), reason="proteinmpnn not installed")
def test_table_pools_the_per_residue_nll_of_eval_backbones(chain_set_path):
    """On 3 real val chains the classes' shares sum to 1, their share-weighted NLL is the
    pooled per-residue mean, and that mean, chain by chain, is eval_backbones' NLL."""
    probe = load_script("nll_by_crowding")
    chains = reference_set(chain_set_path, "val", [70], 3, seed=4)
    table = probe.crowding_table(chains, [0])
    assert sum(table["share"]) == pytest.approx(1.0)
    weighted = probe.at_shares(table, table["share"])
    assert weighted == pytest.approx(table["nll"], rel=1e-5)
    assert table["nll"] == pytest.approx(np.mean(mpnn_scores(chains, seed=0)), rel=1e-5)
    assert table["share"][-1] > 0.3 and table["share"][0] < 0.05  # real chains: room for C-beta
