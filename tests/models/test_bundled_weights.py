"""The bundled models load by name, come with a model card, and produce valid output."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from molgen.models import (
    FrameScoreNetwork,
    TorsionScoreNetwork,
    bundled_names,
    load,
    read_config,
)
from molgen.models.checkpoint import WEIGHTS_DIR


@pytest.mark.parametrize(
    "name, cls", [("backbone", FrameScoreNetwork), ("conformer", TorsionScoreNetwork)]
)
def test_bundled_model_loads_with_card(name, cls):
    """Each bundled model is listed, loads as its class with finite weights, has a card."""
    assert name in bundled_names()
    model = load(name)
    assert isinstance(model, cls)
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert read_config(name)["extra"]["step"] > 0
    card = (WEIGHTS_DIR / name / "MODEL_CARD.md").read_text()
    assert "Data" in card and "steps" in card


def test_bundled_backbone_samples_finite_chains():
    """A short run of the bundled backbone model gives finite N, CA, C, O for every residue."""
    from molgen.sample import sample_backbones

    samples = sample_backbones(load("backbone"), [24], 2, steps=5, progress=False)
    assert all(s.atoms.shape == (24, 4, 3) and np.isfinite(s.atoms).all() for s in samples)


def test_bundled_weights_are_small():
    """Bundled weight files stay well under the 20 MB budget."""
    sizes = [p.stat().st_size for p in WEIGHTS_DIR.glob("*/model.safetensors")]
    assert sizes and max(sizes) < 20 * 2**20
