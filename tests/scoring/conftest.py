"""Tiny randomly initialised score networks saved as checkpoints (mechanics only, no accuracy)."""

from __future__ import annotations

import pytest
import torch

from molgen.models import (
    FrameScoreNetwork,
    FrameScoreNetworkConfig,
    TorsionScoreNetwork,
    TorsionScoreNetworkConfig,
    save,
)


@pytest.fixture(scope="session")
def tiny_backbone_model(tmp_path_factory):
    """Directory of a 1-layer FrameScoreNetwork checkpoint."""
    torch.manual_seed(0)
    config = FrameScoreNetworkConfig(
        hidden_irreps="8x0e + 2x1o + 2x1e", num_layers=1, mlp_dim=16, edge_dim=8, time_dim=8
    )
    return save(FrameScoreNetwork(config), tmp_path_factory.mktemp("models") / "backbone")


@pytest.fixture(scope="session")
def tiny_conformer_model(tmp_path_factory):
    """Directory of a 1-layer TorsionScoreNetwork checkpoint."""
    torch.manual_seed(0)
    config = TorsionScoreNetworkConfig(
        hidden_irreps="8x0e + 2x1o + 2x1e + 2x0o", num_layers=1, mlp_dim=16, edge_dim=8,
        time_dim=8, final_dim=4,
    )  # fmt: skip
    return save(TorsionScoreNetwork(config), tmp_path_factory.mktemp("models") / "conformer")


@pytest.fixture(scope="session")
def tiny_molecule_classifier(tmp_path_factory):
    """Directory of an untrained PlausibilityClassifier over the molecule features."""
    from molgen.models import PlausibilityClassifier, PlausibilityClassifierConfig
    from molgen.scoring.molecule_features import FEATURE_NAMES

    torch.manual_seed(0)
    config = PlausibilityClassifierConfig(feature_names=list(FEATURE_NAMES), hidden=4)
    path = tmp_path_factory.mktemp("models") / "molecule_plausibility"
    return save(PlausibilityClassifier(config), path)
