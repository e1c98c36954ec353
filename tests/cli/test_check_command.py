"""Tests for ``molgen check``: exit codes, files written, one-line errors on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from molgen.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"
PROTEIN_KEYS = {
    "path",
    "chain",
    "n_residues",
    "ca_break_fraction",
    "ca_clash_fraction",
    "rama_favoured_fraction",
    "helix_fraction",
    "strand_fraction",
    "coil_fraction",
    "rg_ratio",
    "checks_passed",
    "failed_checks",
}


def test_check_real_protein_writes_json_and_csv(tmp_path, capsys):
    """A real PDB gives exit 0, one record per chain with the public keys, in JSON and CSV."""
    out_json, out_csv = tmp_path / "c.json", tmp_path / "c.csv"
    code = main(
        ["check", str(EXAMPLES / "1s3v.pdb"), "--json", str(out_json), "--csv", str(out_csv)]
    )
    assert code == 0
    records = json.loads(out_json.read_text())
    assert len(records) == 1 and PROTEIN_KEYS <= set(records[0])
    record = records[0]
    assert record["chain"] == "A" and record["n_residues"] > 150
    assert record["ca_break_fraction"] == 0.0 and record["ca_clash_fraction"] == 0.0
    assert record["rama_favoured_fraction"] > 0.9
    header = out_csv.read_text().splitlines()[0].split(",")
    assert PROTEIN_KEYS <= set(header)
    assert "1s3v.pdb" in capsys.readouterr().out


def test_check_molecule_sdf(tmp_path):
    """A real ligand SDF gives one record per conformer with checks_passed/failed_checks."""
    out = tmp_path / "m.json"
    assert main(["check", str(EXAMPLES / "1s3v_ligand.sdf"), "--json", str(out), "-q"]) == 0
    records = json.loads(out.read_text())
    assert len(records) == 1
    assert {"path", "record", "checks_passed", "failed_checks"} <= set(records[0])
    assert records[0]["checks_passed"] is True, records[0]["failed_checks"]


def test_check_does_not_overwrite_existing_output(tmp_path, capsys):
    """An existing output file is left untouched and the command exits 2."""
    out = tmp_path / "keep.json"
    out.write_text("precious")
    assert main(["check", str(EXAMPLES / "1s3v.pdb"), "--json", str(out), "-q"]) == 2
    assert out.read_text() == "precious"
    assert "already exists" in capsys.readouterr().err


def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    real = (EXAMPLES / "1s3v.pdb").read_text().splitlines()
    atom_lines = [line for line in real if line.startswith("ATOM")]
    files = {
        "missing": tmp_path / "does_not_exist.pdb",
        "empty": tmp_path / "empty.pdb",
        "truncated": tmp_path / "truncated.pdb",
        "garbage": tmp_path / "garbage.pdb",
        "no_backbone": tmp_path / "water.pdb",
        "nan": tmp_path / "nan.pdb",
    }
    files["empty"].write_text("")
    files["truncated"].write_text("\n".join(atom_lines[:200] + [atom_lines[200][:40]]) + "\n")
    files["garbage"].write_bytes(bytes(range(256)) * 20)
    files["no_backbone"].write_text(
        "HETATM    1  O   HOH A   1      10.000  10.000  10.000  1.00 20.00           O\nEND\n"
    )
    nan_line = atom_lines[1][:38] + "     nan" + atom_lines[1][46:]
    files["nan"].write_text("\n".join([atom_lines[0], nan_line, *atom_lines[2:40]]) + "\nEND\n")
    return files


@pytest.mark.parametrize("kind", ["missing", "empty", "truncated", "garbage", "no_backbone", "nan"])
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, kind):
    """Each kind of bad input gives exit 2 and exactly one line on stderr naming the file."""
    path = _bad_inputs(tmp_path)[kind]
    assert main(["check", str(path), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and path.name in err[0] and "Traceback" not in err[0]


def test_console_script_exit_code_without_traceback(tmp_path):
    """``python -m molgen check missing.pdb`` exits 2 with one stderr line, no traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "molgen", "check", str(tmp_path / "missing.pdb")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_json_and_csv_to_one_file_is_refused_before_writing(tmp_path, capsys):
    """--json X --csv X: one line, exit 2, X never written (not one format then a failure)."""
    same = tmp_path / "out.txt"
    assert main(["check", str(EXAMPLES / "1s3v.pdb"), "--json", str(same), "--csv", str(same)]) == 2
    assert "--json and --csv name the same file" in capsys.readouterr().err
    assert not same.exists()
