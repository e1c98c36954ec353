"""scripts/calibrate_score.py writes a calibration into a checkpoint; bad input exits 2."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from molgen.models import load
from molgen.scoring import DEFAULT_T_GRID, ScoreCalibration
from tests.conftest import REPO_ROOT

SCRIPT = str(REPO_ROOT / "scripts" / "calibrate_score.py")
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def test_calibrate_score_writes_extra(tiny_backbone_model, tmp_path):
    """--n 4 train chains: the printed calibration is the one load() then finds for the grid."""
    folder = shutil.copytree(tiny_backbone_model, tmp_path / "model")
    argv = [sys.executable, SCRIPT, str(folder), "--n", "4"]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, env=ENV, cwd=REPO_ROOT)
    printed = json.loads(out.stdout)
    assert printed["chains"] == 4 and printed["t_grid"] == list(DEFAULT_T_GRID)
    stored = ScoreCalibration.from_model(load(folder), DEFAULT_T_GRID)
    assert list(stored.mean) == printed["mean"] and all(s > 0 for s in stored.std)


def test_calibrate_score_bad_model_exits_2(tmp_path):
    """A folder that is not a checkpoint: one error line, exit status 2."""
    argv = [sys.executable, SCRIPT, str(tmp_path), "--n", "4"]
    out = subprocess.run(argv, capture_output=True, text=True, env=ENV, cwd=REPO_ROOT)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "error" in out.stderr
