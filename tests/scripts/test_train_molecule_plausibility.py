"""scripts/train_molecule_plausibility.py end to end on a few train molecules."""

from __future__ import annotations

import json

from molgen.models import PlausibilityClassifier, load
from molgen.scoring.molecule_features import FEATURE_NAMES
from tests.scoring.conftest import tiny_conformer_model  # noqa: F401
from tests.scripts.script_loader import load_script


def test_trains_and_saves_a_classifier(tiny_conformer_model, tmp_path, capsys):  # noqa: F811
    """--n 14: a loadable classifier over the molecule features, JSON with counts per class
    (one random-torsion decoy per rotatable molecule at most) and a held-out AUC per class."""
    argv = ["--n", "14", "--epochs", "20", "--model", str(tiny_conformer_model),
            "--out", str(tmp_path / "clf")]  # fmt: skip
    result = load_script("train_molecule_plausibility").main(argv)
    out = capsys.readouterr().out  # the progress bar, then the JSON
    assert json.loads(out[out.index("{\n") :]) == result
    model = load(tmp_path / "clf")
    assert isinstance(model, PlausibilityClassifier)
    assert model.config.feature_names == list(FEATURE_NAMES)
    counts = result["counts"]
    assert counts["real"] <= 14 and 0 < counts["random_torsions"] <= counts["real"]
    assert set(result["holdout_auc"]) <= {"random_torsions", "etkdg_raw", "wrong_stereo"}
