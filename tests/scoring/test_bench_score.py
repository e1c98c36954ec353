"""scripts/bench_score.py runs end to end on a few val chains with a tiny model."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO_ROOT


def test_bench_score_end_to_end(tiny_backbone_model):
    """--n 6: JSON with an AUC in [0, 1] and a catch fraction for every decoy type."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    script = str(REPO_ROOT / "scripts" / "bench_score.py")
    argv = [sys.executable, script, "--n", "6", "--model", str(tiny_backbone_model)]
    argv += ["--timing-n", "4", "--batch-size", "4"]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, env=env, cwd=REPO_ROOT)
    report = json.loads(out.stdout)
    assert report["n_chains"] == 6
    assert set(report["decoys"]) == {"noise_0.5", "noise_1", "noise_2", "swap", "helix", "mirror"}
    for row in report["decoys"].values():
        assert 0.0 <= row["auc"] <= 1.0 and 0.0 <= row["caught_by_checks"] <= 1.0
    assert report["decoys"]["mirror"]["caught_by_checks"] >= 5 / 6
    assert report["timing"]["seconds_batched"] > 0
