"""Shared test fixtures: the real PDB chain set in the repository (``data/pdb_chains.npz``).

The suite reads only files of the repository: ``$MOLGEN_SHARED_DATA`` is removed from the
environment of the test process (and so of the scripts it runs), so that configurations and
scripts under test resolve their data to the repository's ``data/`` folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

# The suite is dominated by small tensor ops, which run fastest (and most reproducibly) on one
# thread; intra-op threading on a loaded 2-core machine slows them by orders of magnitude.
torch.set_num_threads(1)

os.environ.pop("MOLGEN_SHARED_DATA", None)

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The repository's data folder: ``pdb_chains.npz`` and ``qm9_split.npz`` (``data/README.md``).
DATA_DIR = REPO_ROOT / "data"


@pytest.fixture(scope="session")
def chain_set_path() -> Path:
    path = DATA_DIR / "pdb_chains.npz"
    if not path.exists():
        pytest.fail(f"chain set missing from the repository: {path}")
    return path


@pytest.fixture(scope="session")
def val_backbones(chain_set_path: Path) -> list[np.ndarray]:
    """The first 200 val chains as float64 arrays ``[L, 4, 3]`` (N, CA, C, O) in Angstrom."""
    data = np.load(chain_set_path, allow_pickle=False)
    offsets = data["offsets"]
    coords = data["coords_centi_A"]
    val = np.flatnonzero(data["split"] == "val")[:200]
    return [coords[offsets[i] : offsets[i + 1]].astype(np.float64) / 100.0 for i in val]
