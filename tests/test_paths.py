"""molgen.paths: data files default to the repository's data/; $MOLGEN_SHARED_DATA overrides."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from molgen.paths import data_dir, default_data_path, expand_data_path
from molgen.train.backbone import load_training_config
from molgen.train.config import resolve_data_path
from molgen.train.conformer import load_conformer_config
from tests.conftest import DATA_DIR, REPO_ROOT


def test_default_is_the_repository_data_folder():
    """Without the variable (the suite removes it) the files are the repository's own."""
    assert "MOLGEN_SHARED_DATA" not in os.environ
    assert data_dir() == DATA_DIR
    assert default_data_path("pdb_chains.npz") == DATA_DIR / "pdb_chains.npz"
    with np.load(DATA_DIR / "pdb_chains.npz") as chains, np.load(DATA_DIR / "qm9_split.npz") as qm9:
        assert set(chains["split"].tolist()) == {"train", "val"}
        assert len(qm9["train_index"]) == 111207 and len(qm9["val_index"]) == 6541


def test_variable_overrides_and_environment_is_untouched(monkeypatch, tmp_path):
    """$MOLGEN_SHARED_DATA wins when set; resolving a path never writes os.environ."""
    before = dict(os.environ)
    assert resolve_data_path("$MOLGEN_SHARED_DATA/x.npz", tmp_path) == DATA_DIR / "x.npz"
    assert expand_data_path("${MOLGEN_SHARED_DATA}/x.npz") == str(DATA_DIR / "x.npz")
    assert dict(os.environ) == before
    monkeypatch.setenv("MOLGEN_SHARED_DATA", str(tmp_path))
    assert default_data_path("pdb_chains.npz") == tmp_path / "pdb_chains.npz"
    assert resolve_data_path("$MOLGEN_SHARED_DATA/x.npz", Path("/")) == tmp_path / "x.npz"


def test_relative_and_explicit_paths(tmp_path):
    """Relative paths are taken from the config's folder; absolute ones are kept."""
    assert resolve_data_path("../d.npz", tmp_path / "cfg") == tmp_path / "d.npz"
    assert resolve_data_path(str(tmp_path / "e.npz"), Path("/")) == tmp_path / "e.npz"
    assert expand_data_path("$MOLGEN_SHARED_DATA_OTHER/y") == "$MOLGEN_SHARED_DATA_OTHER/y"


def test_bundled_configs_use_the_repository_data():
    """scripts/configs/*.yaml resolve to data/pdb_chains.npz and data/qm9_split.npz."""
    configs = REPO_ROOT / "scripts" / "configs"
    backbone = load_training_config(configs / "backbone.yaml")["data"].path
    conformer = load_conformer_config(configs / "conformer.yaml")["data"].path
    assert Path(backbone) == DATA_DIR / "pdb_chains.npz"
    assert Path(conformer) == DATA_DIR / "qm9_split.npz"


def test_backbone_configs_warm_start_from_committed_weights():
    """Every scripts/configs/backbone*.yaml builds its network, and the weights it warm-starts
    from (``train.init_weights``: a folder relative to the repository root, or a bundled
    model's name) are in the repository and fit that network, so a run can be started again
    from a clean checkout."""
    from molgen.models import FrameScoreNetwork, load

    configs = sorted((REPO_ROOT / "scripts" / "configs").glob("backbone*.yaml"))
    warm = 0
    for path in configs:
        config = load_training_config(path)
        net = FrameScoreNetwork(config["model"])
        source = config["train"].init_weights
        if source is None:
            continue
        warm += 1
        own = net.state_dict()
        folder = REPO_ROOT / source
        state = load(folder if folder.exists() else source).state_dict()  # or a bundled name
        misfits = [k for k, v in state.items() if k not in own or own[k].shape != v.shape]
        assert misfits == [], path.name
    assert warm >= 3
