"""train_conformer: config file in; log, checkpoint, exported model out; resume continues."""

from __future__ import annotations

import csv

import pytest

from molgen.errors import InputError
from molgen.models import TorsionScoreNetwork, load
from molgen.train.conformer import load_conformer_config, train_conformer
from tests.conftest import DATA_DIR

CONFIG = """
data: {{path: {split}, split: val, limit: 8, batch_size: 4, seed: 0}}
model: {{hidden_irreps: "8x0e + 2x1o + 2x1e + 2x0o", num_layers: 1}}
train: {{max_steps: {steps}, log_every: 1, checkpoint_every: 1, device: cpu, lr: 0.001}}
"""


def _config(tmp_path, steps):
    # Smoke test only: real training uses the train split (scripts/configs/conformer.yaml).
    path = tmp_path / "conformer.yaml"
    path.write_text(CONFIG.format(split=DATA_DIR / "qm9_split.npz", steps=steps))
    return load_conformer_config(path)


def test_train_writes_log_checkpoint_model_and_resumes(tmp_path):
    """3 steps write log rows 1..3, last.pt and model/; max_steps 5 resumes at 4 and 5."""
    out = tmp_path / "run"
    exported = train_conformer(_config(tmp_path, 3), out, quiet=True)
    assert isinstance(load(exported), TorsionScoreNetwork)
    assert (out / "checkpoints" / "last.pt").is_file() and (out / "config.json").is_file()
    train_conformer(_config(tmp_path, 5), out, quiet=True)
    with open(out / "log.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5]
    assert all(0 < float(r["loss"]) < 100 for r in rows)
    assert load(exported).config.num_layers == 1


def test_unknown_setting_is_an_input_error(tmp_path):
    """A misspelt data key is one InputError naming the file."""
    path = tmp_path / "bad.yaml"
    path.write_text("data: {limt: 3}\n")
    with pytest.raises(InputError, match="limt"):
        load_conformer_config(path)
