"""Atomic writes, RNG capture/restore and weights_only training states."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch

from molgen.io.atomic import atomic_write
from molgen.train import (
    capture_rng_state,
    load_training_state,
    restore_rng_state,
    save_training_state,
    write_config,
)


def test_failed_write_keeps_previous_file(tmp_path):
    """A writer that raises midway leaves the old file intact and no temporary behind."""
    path = tmp_path / "last.pt"
    save_training_state(path, {"step": 1})

    def broken(tmp):
        tmp.write_bytes(b"partial")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        atomic_write(path, broken)
    assert load_training_state(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_rng_restore_replays_all_streams():
    """After restore, Python, NumPy, torch and a torch.Generator repeat the same draws."""
    gen = torch.Generator().manual_seed(3)
    random.random(), np.random.rand(), torch.rand(1), torch.rand(1, generator=gen)  # noqa: NPY002
    state = capture_rng_state(gen)

    def draw():
        return (random.random(), np.random.rand(), np.random.randn(),  # noqa: NPY002
                float(torch.rand(1)), float(torch.rand(1, generator=gen)))  # fmt: skip

    first = draw()
    restore_rng_state(state, gen)
    assert draw() == first


def test_rng_state_survives_weights_only_file(tmp_path):
    """A saved RNG state loads with weights_only=True and still replays the draws."""
    gen = torch.Generator().manual_seed(7)
    save_training_state(tmp_path / "s.pt", {"rng": capture_rng_state(gen)})
    first = (np.random.rand(), float(torch.randn(1, generator=gen)))  # noqa: NPY002
    restore_rng_state(load_training_state(tmp_path / "s.pt")["rng"], gen)
    assert (np.random.rand(), float(torch.randn(1, generator=gen))) == first  # noqa: NPY002


def test_write_config_json(tmp_path):
    """The resolved config is written as JSON (paths as strings) and read back equal."""
    path = write_config(tmp_path / "sub" / "config.json", {"lr": 1e-3, "data": tmp_path})
    assert json.loads(path.read_text()) == {"lr": 1e-3, "data": str(tmp_path)}
