"""Training-state checkpoints: atomic writes, random-number-generator states, the config file.

A training checkpoint is the trainer's own file (model, EMA, optimiser, step, RNG states), so
it is written with ``torch.save`` and read back with ``torch.load(weights_only=True)``: it
holds only tensors and Python containers and scalars, never arbitrary pickles. Files are
written to a temporary name in the same directory and moved into place with ``os.replace``,
so a run killed while saving leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from molgen.io.atomic import atomic_write

__all__ = [
    "capture_rng_state",
    "load_training_state",
    "restore_rng_state",
    "save_training_state",
    "write_config",
]


def save_training_state(path: str | Path, state: Mapping[str, Any]) -> Path:
    """Atomically ``torch.save`` a training state (tensors, dicts, lists, scalars, strings)."""
    return atomic_write(path, lambda tmp: torch.save(dict(state), tmp))


def load_training_state(path: str | Path, device: torch.device | str = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_training_state` (``weights_only=True``)."""
    return torch.load(path, map_location=device, weights_only=True)


def write_config(path: str | Path, config: Mapping[str, Any]) -> Path:
    """Atomically write a resolved configuration as indented JSON (paths become strings)."""
    text = json.dumps(config, indent=2, sort_keys=True, default=str) + "\n"
    return atomic_write(path, lambda tmp: tmp.write_text(text))


def capture_rng_state(generator: torch.Generator | None = None) -> dict[str, Any]:
    """States of Python's, NumPy's and torch's global generators (and CUDA's, and ``generator``).

    Everything is a tensor, list or scalar so the result loads with ``weights_only=True``.
    """
    version, internal, gauss = random.getstate()
    np_state = np.random.get_state(legacy=False)  # noqa: NPY002 (global state others use)
    state: dict[str, Any] = {
        "python": [version, list(internal), gauss],
        "numpy": {
            "key": torch.from_numpy(np_state["state"]["key"].astype(np.int64)),
            "pos": int(np_state["state"]["pos"]),
            "has_gauss": int(np_state["has_gauss"]),
            "gauss": float(np_state["gauss"]),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    if generator is not None:
        state["generator"] = generator.get_state()
    return state


def restore_rng_state(state: Mapping[str, Any], generator: torch.Generator | None = None) -> None:
    """Inverse of :func:`capture_rng_state`: set all global generators (and ``generator``)."""
    version, internal, gauss = state["python"]
    random.setstate((int(version), tuple(int(v) for v in internal), gauss))
    np_state = state["numpy"]
    np.random.set_state(  # noqa: NPY002
        {
            "bit_generator": "MT19937",
            "state": {"key": np_state["key"].numpy().astype(np.uint32), "pos": np_state["pos"]},
            "has_gauss": np_state["has_gauss"],
            "gauss": np_state["gauss"],
        }
    )
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])
    if generator is not None and "generator" in state:
        generator.set_state(state["generator"].cpu())
