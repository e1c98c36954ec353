"""Shared test fixtures: the real PDB chain set beside the repository (``../shared/data``)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

# The suite is dominated by small tensor ops, which run fastest (and most reproducibly) on one
# thread; intra-op threading on a loaded 2-core machine slows them by orders of magnitude.
torch.set_num_threads(1)

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """``$MOLGEN_SHARED_DATA`` or ``../shared/data`` next to the repository."""
    return Path(os.environ.get("MOLGEN_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def chain_set_path() -> Path:
    path = shared_data_dir() / "pdb_chains.npz"
    if not path.exists():
        pytest.fail(f"shared chain set not found at {path}; set MOLGEN_SHARED_DATA")
    return path


@pytest.fixture(scope="session")
def val_backbones(chain_set_path: Path) -> list[np.ndarray]:
    """The first 200 val chains as float64 arrays ``[L, 4, 3]`` (N, CA, C, O) in Angstrom."""
    data = np.load(chain_set_path, allow_pickle=False)
    offsets = data["offsets"]
    coords = data["coords_centi_A"]
    val = np.flatnonzero(data["split"] == "val")[:200]
    return [coords[offsets[i] : offsets[i + 1]].astype(np.float64) / 100.0 for i in val]
