"""Fixtures for the equivariant tests: real CA clouds."""

from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.fixture(scope="module")
def ca_batch(val_backbones):
    """CA atoms of 6 real val chains as one sorted batch (float64, Angstrom)."""
    chains = val_backbones[:6]
    pos = torch.from_numpy(np.concatenate([c[:, 1] for c in chains]))
    batch = torch.repeat_interleave(torch.arange(6), torch.tensor([len(c) for c in chains]))
    return pos, batch
