"""scripts/bench_score_molecules.py end to end with tiny models."""

from __future__ import annotations

import json

from tests.scoring.conftest import tiny_conformer_model, tiny_molecule_classifier  # noqa: F401
from tests.scripts.script_loader import load_script


def test_bench_end_to_end(tiny_conformer_model, tiny_molecule_classifier, capsys):  # noqa: F811
    """--n 4 with tiny models: JSON with an AUC in [0, 1] per score for every decoy class."""
    argv = ["--n", "4", "--model", str(tiny_conformer_model)]
    report = load_script("bench_score_molecules").main(
        [*argv, "--classifier", str(tiny_molecule_classifier)]
    )
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(report))
    assert report["n_molecules"] == 4 and "random_torsions" in report["decoys"]
    for row in report["decoys"].values():
        assert 0.0 <= row["model_score_auc"] <= 1.0 and 0.0 <= row["denoising_score_auc"] <= 1.0
        assert 0.0 <= row["caught_by_checks"] <= 1.0
