"""scripts/bench_score_throughput.py runs end to end on a few structures with a tiny model."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO_ROOT


def test_bench_score_throughput_end_to_end(tiny_backbone_model):
    """--n 6: JSON with the three settings, their structure counts and positive speed-ups."""
    script = str(REPO_ROOT / "scripts" / "bench_score_throughput.py")
    argv = [sys.executable, script, "--n", "6", "--single-n", "2", "--batch-size", "4"]
    argv += ["--model", str(tiny_backbone_model), "--length", "60"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run(argv, capture_output=True, text=True, check=True, env=env, cwd=REPO_ROOT)
    report = json.loads(out.stdout)
    settings = report["settings"]
    assert [settings[k]["structures"] for k in ("one_at_a_time", "batched", "workers")] == [2, 6, 6]
    assert settings["workers"]["workers"] == 2 and settings["batched"]["batch_size"] == 4
    assert report["speedup_batched"] > 0 and report["speedup_workers"] > 0
    assert all(s["peak_mib"] > 0 for s in settings.values())
