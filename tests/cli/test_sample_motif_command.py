"""Tests for ``molgen sample backbone --motif/--contig`` and ``--input/--partial-t``: files
written (motif residue names, REMARKs, report and config columns), exact motif placement,
and every error path as one line with exit status 2."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from molgen.cli import main
from molgen.geometry import rmsd
from molgen.io import read_structure
from molgen.models import FrameScoreNetwork, FrameScoreNetworkConfig, save
from molgen.sample.contig import Contig, extract_motif

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "examples" / "1s3v.pdb"
TINY = {"hidden_irreps": "8x0e + 2x1o + 2x1e", "num_layers": 1, "k": 6, "mlp_dim": 16}
CONTIG = "3-6/A24-32/4-8/A60-64/3-6"


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A randomly initialised, tiny FrameScoreNetwork checkpoint folder."""
    folder = tmp_path_factory.mktemp("model")
    return save(FrameScoreNetwork(FrameScoreNetworkConfig(**TINY)), folder, overwrite=True)


def _run(tiny_model, out, *extra):
    base = ["sample", "backbone", "--steps", "3", "--model", str(tiny_model), "-q"]
    return main([*base, "--out", str(out), *extra])


def _positions(spans: str) -> list[int]:
    """``9-11;40`` -> [9, 10, 11, 40]."""
    out = []
    for span in spans.split(";"):
        first, _, last = span.partition("-")
        out += list(range(int(first), int(last or first) + 1))
    return out


def test_motif_scaffolding_writes_the_motif_where_it_went_in(tiny_model, tmp_path):
    """--motif --contig --length LO-HI: each PDB holds the motif's N, CA, C, O to 1e-3 A after
    superposition at the reported positions, with the motif residue names (glycine
    elsewhere) and a REMARK per motif residue; report.csv has motif_ca_rmsd,
    motif_positions and scaffold_lengths; config.json the contig and the drawn lengths."""
    out = tmp_path / "motif"
    extra = ["--motif", str(EXAMPLE), "--contig", CONTIG, "--length", "26-30", "--num", "3"]
    assert _run(tiny_model, out, *extra) == 0
    motif = extract_motif(read_structure(EXAMPLE), Contig.parse(CONTIG), "x")
    rows = list(csv.DictReader((out / "report.csv").open()))
    settings = json.loads((out / "config.json").read_text())
    assert len(rows) == 3 and settings["contig"] == CONTIG
    assert settings["length_range"] == [26, 30]
    for row in rows:
        protein = read_structure(out / row["path"])[0]
        assert 26 <= len(protein) <= 30
        positions = _positions(row["motif_positions"])
        assert len(positions) == 14 and float(row["motif_ca_rmsd"]) >= 0
        got = torch.tensor(protein.atoms[np.asarray(positions) - 1]).reshape(-1, 3)
        assert float(rmsd(got, torch.tensor(motif.atoms).reshape(-1, 3))) < 1e-3
        letters = "".join(protein.sequence[p - 1] for p in positions)
        assert letters == motif.sequence
        others = set(protein.sequence) - set(letters)
        assert others <= {"G"}
        assert settings["scaffold_lengths"][row["path"]] == row["scaffold_lengths"]
        lengths = [int(n) for n in row["scaffold_lengths"].split(";")]
        assert len(protein) == 14 + sum(lengths)
        remarks = [ln for ln in (out / row["path"]).read_text().splitlines()
                   if ln.startswith("REMARK 950 MOTIF ")]  # fmt: skip
        assert len(remarks) == 15 and f"MOTIF {positions[0]:4d} A24" in remarks[1]


def test_partial_diffusion_writes_input_length(tiny_model, tmp_path):
    """--input --partial-t: samples of the input's length; held residues keep their names."""
    out = tmp_path / "partial"
    extra = ["--input", str(EXAMPLE), "--partial-t", "0.3", "--num", "2", "--contig", "A20-25"]
    assert _run(tiny_model, out, *extra) == 0
    rows = list(csv.DictReader((out / "report.csv").open()))
    assert [r["motif_positions"] for r in rows] == ["20-25", "20-25"]
    source = read_structure(EXAMPLE)[0]
    protein = read_structure(out / rows[0]["path"])[0]
    assert len(protein) == len(source)
    assert protein.sequence[19:25] == source.sequence[19:25]


def test_plain_integer_lengths_still_work(tiny_model, tmp_path):
    """--length 12 --length 14 without a contig: two lengths as before."""
    out = tmp_path / "plain"
    assert _run(tiny_model, out, "--length", "12", "--length", "14", "--num", "1") == 0
    assert sorted(p.name for p in out.glob("*.pdb")) == ["sample_L12_000.pdb",
                                                        "sample_L14_000.pdb"]  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--contig", "10-25/A42-24", "--motif", str(EXAMPLE)], "ends before it starts"),
     (["--contig", "10-25", "--motif", str(EXAMPLE)], "no motif"),
     (["--contig", "5/A1-5/x", "--motif", str(EXAMPLE)], "bad segment"),
     (["--contig", "5/A300-305/5", "--motif", str(EXAMPLE)], "A300 is not in the file"),
     (["--contig", "5/B1-5/5", "--motif", str(EXAMPLE)], "chain B not in the file"),
     (["--contig", "5/A1-5/5"], "--contig needs --motif"),
     (["--contig", "5/A1-5/5", "--motif", "missing.pdb"], "missing.pdb"),
     (["--contig", "5-10/A1-5/5-10", "--motif", str(EXAMPLE), "--length", "100-120"],
      "allows 15-25 residues, outside --length 100-120"),
     (["--contig", "5-10/A1-5/5-10", "--motif", str(EXAMPLE), "--length", "30-20"],
      "must be a range"),
     (["--contig", "5/A1-5/5", "--motif", str(EXAMPLE), "--length", "12", "--length", "14"],
      "one --length"),
     (["--length", "80-120"], "needs --contig"),
     (["--length", "abc"], "is not an integer or LO-HI"),
     (["--motif", str(EXAMPLE), "--length", "20"], "--motif needs --contig"),
     (["--input", str(EXAMPLE)], "--partial-t must be in (0, 1]"),
     (["--input", str(EXAMPLE), "--partial-t", "0"], "--partial-t must be in (0, 1]"),
     (["--input", str(EXAMPLE), "--partial-t", "1.5"], "--partial-t must be in (0, 1]"),
     (["--input", str(EXAMPLE), "--partial-t", "nan"], "--partial-t must be in (0, 1]"),
     (["--partial-t", "0.3", "--length", "20"], "--partial-t needs --input"),
     (["--contig", "5/A1-5/5", "--motif", str(EXAMPLE), "--motif-harmonize-steps", "-1"],
      "--motif-harmonize-steps must be >= 0"),
     (["--input", str(EXAMPLE), "--partial-t", "0.3", "--length", "20"], "sets the chain"),
     (["--input", str(EXAMPLE), "--partial-t", "0.3", "--contig", "5/A1-5"],
      "motif residues only"),
     (["--input", str(EXAMPLE), "--partial-t", "0.3", "--contig", "A1-5",
       "--motif", str(EXAMPLE)], "drop --motif")],
)  # fmt: skip
def test_motif_and_partial_errors_are_one_line(tiny_model, tmp_path, capsys, extra, message):
    """Bad contigs, residues or chains missing from the motif file, totals outside --length,
    --partial-t outside (0, 1], conflicting options: one line, exit 2, nothing written."""
    out = tmp_path / "o"
    assert _run(tiny_model, out, *extra) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not out.exists()
