"""Tests for ``molgen score``: a table with a row per structure, errors as rows, exit codes."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from molgen.cli import main
from molgen.models import FrameScoreNetwork, FrameScoreNetworkConfig, save

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    config = FrameScoreNetworkConfig(hidden_irreps="8x0e + 2x1o + 2x1e", num_layers=1, k=6)
    return save(FrameScoreNetwork(config), tmp_path_factory.mktemp("m"), overwrite=True)


def test_folder_with_a_bad_file_scores_the_rest(tiny_model, tmp_path):
    """A bad file becomes a row with its error; good ones get model_score; exit 0."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(EXAMPLES / "1s3v.pdb", folder)
    (folder / "broken.pdb").write_text("ATOM  garbage\n")
    out = tmp_path / "scores.csv"
    args = ["score", str(folder), "--out", str(out), "--model", str(tiny_model), "-q"]
    assert main([*args, "--device", "cpu"]) == 0
    rows = {Path(r["path"]).name: r for r in csv.DictReader(out.open())}
    assert {"path", "chain", "model_score", "pass", "reasons", "error"} <= set(rows["1s3v.pdb"])
    assert rows["1s3v.pdb"]["model_score"] != "" and rows["1s3v.pdb"]["error"] == ""
    assert rows["broken.pdb"]["error"] and rows["broken.pdb"]["pass"] == "False"


def test_missing_path_and_existing_output_are_errors(tiny_model, tmp_path, capsys):
    """A missing input or an existing --out without --overwrite: one line, exit 2."""
    assert main(["score", str(tmp_path / "nope.pdb"), "-q"]) == 2
    out = tmp_path / "keep.csv"
    out.write_text("keep")
    args = ["score", str(EXAMPLES / "1s3v.pdb"), "--out", str(out), "-q"]
    assert main([*args, "--model", str(tiny_model)]) == 2
    assert out.read_text() == "keep"
    assert len(capsys.readouterr().err.strip().splitlines()) == 2
