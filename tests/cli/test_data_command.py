"""Tests for ``molgen data prepare-pdb``: a folder of real structures becomes a chain set."""

from __future__ import annotations

import shutil
from pathlib import Path

import posebusters

from molgen.cli import main
from molgen.io import load_chain_set

POSEBUSTERS_PDB = Path(posebusters.__file__).parent / "datasets" / "pdb"


def test_prepare_pdb_writes_a_loadable_chain_set(tmp_path, capsys):
    """Real PDB files in, an npz that load_chain_set reads out; the summary is printed."""
    source = tmp_path / "mirror"
    source.mkdir()
    for pdb in sorted(POSEBUSTERS_PDB.glob("*/*.pdb"))[:2]:
        shutil.copy(pdb, source / pdb.name)
    out = tmp_path / "chains.npz"
    assert main(["data", "prepare-pdb", str(source), "--out", str(out)]) == 0
    chains = load_chain_set(out)
    assert len(chains) >= 1 and all(40 <= n <= 300 for n in chains.lengths)
    assert "chains kept" in capsys.readouterr().out


def test_prepare_pdb_missing_folder_and_existing_output(tmp_path, capsys):
    """A missing input folder, or an existing --out, is a one-line error with exit 2."""
    missing = ["data", "prepare-pdb", str(tmp_path / "nope"), "--out", str(tmp_path / "a.npz")]
    assert main(missing) == 2
    existing = tmp_path / "b.npz"
    existing.write_bytes(b"keep")
    (tmp_path / "in").mkdir()
    shutil.copy(next(POSEBUSTERS_PDB.glob("*/*.pdb")), tmp_path / "in")
    assert main(["data", "prepare-pdb", str(tmp_path / "in"), "--out", str(existing), "-q"]) == 2
    assert existing.read_bytes() == b"keep"
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2 and "nope" in errors[0] and "b.npz" in errors[1]
