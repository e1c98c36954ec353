"""Tests for molgen.io.writers: backbone PDB/mmCIF files read back by Bio.PDB, mdtraj, tmtools."""

from __future__ import annotations

import functools

import mdtraj
import numpy as np
import pytest
import tmtools
import tmtools.io
from Bio.PDB import PDBParser
from structure_files import real_cif_files, real_pdb_files

from molgen.errors import InputError
from molgen.io import Protein, read_structure, write_mmcif, write_pdb

WRITERS = {"pdb": write_pdb, "cif": write_mmcif}


@functools.cache
def _read(path) -> list[Protein]:
    return read_structure(path)


def _assert_same(a: list[Protein], b: list[Protein]) -> None:
    assert [p.chain_id for p in a] == [p.chain_id for p in b]
    for p, q in zip(a, b, strict=True):
        assert p.sequence == q.sequence
        np.testing.assert_array_equal(p.residue_numbers, q.residue_numbers)
        np.testing.assert_array_equal(p.insertion_codes, q.insertion_codes)
        np.testing.assert_array_equal(p.atom_mask, q.atom_mask)
        np.testing.assert_allclose(p.atoms, q.atoms, atol=1e-3)  # NaN == NaN here


@pytest.mark.parametrize("ext", sorted(WRITERS))
@pytest.mark.parametrize("path", real_pdb_files() + real_cif_files()[:1], ids=lambda p: p.name)
def test_read_write_read_round_trip(path, ext, tmp_path):
    """read -> write -> read keeps chains, sequence, numbering, mask and coordinates (1e-3 A)."""
    proteins = _read(path)
    out = WRITERS[ext](proteins, tmp_path / f"out.{ext}")
    _assert_same(proteins, read_structure(out))


@pytest.mark.parametrize("ext", sorted(WRITERS))
def test_mdtraj_reads_written_backbone(ext, small_pdb, tmp_path):
    """mdtraj loads the written file: 4 atoms per residue, CA (nm x 10) equal to ours."""
    (protein,) = _read(small_pdb)
    traj = mdtraj.load(str(WRITERS[ext](protein, tmp_path / f"a.{ext}")))
    assert traj.n_atoms == 4 * len(protein) and traj.n_residues == len(protein)
    ca = traj.xyz[0, traj.topology.select("name CA")] * 10.0
    np.testing.assert_allclose(ca, protein.ca, atol=1e-3)
    assert [r.name for r in traj.topology.residues][:3] == ["VAL", "GLY", "SER"]


@pytest.mark.parametrize("ext,fmt", [("pdb", "pdb"), ("cif", "mmcif")])
def test_tmtools_reads_written_backbone(ext, fmt, small_pdb, tmp_path):
    """tmtools reads back our CA trace and sequence; TM-align of it against ours gives TM = 1."""
    (protein,) = _read(small_pdb)
    out = WRITERS[ext](protein, tmp_path / f"a.{ext}")
    chain = next(tmtools.io.get_structure(str(out), format=fmt).get_chains())
    coords, seq = tmtools.io.get_residue_data(chain)
    assert seq == protein.sequence
    np.testing.assert_allclose(coords, protein.ca, atol=1e-3)
    result = tmtools.tm_align(coords, protein.ca, seq, protein.sequence)
    assert result.tm_norm_chain1 == pytest.approx(1.0, abs=1e-6)


def test_bare_coordinates_become_polyglycine_chains(small_pdb, tmp_path):
    """A (2, L, 4, 3) array is written as poly-GLY chains A and B with the same coordinates."""
    (protein,) = _read(small_pdb)
    atoms = np.stack([protein.atoms, protein.atoms + 50.0])
    a, b = read_structure(write_pdb(atoms, tmp_path / "bare.pdb"))
    assert (a.chain_id, b.chain_id) == ("A", "B") and a.sequence == "G" * len(protein)
    np.testing.assert_allclose(np.stack([a.atoms, b.atoms]), atoms, atol=1e-3)
    np.testing.assert_array_equal(a.residue_numbers, np.arange(1, len(protein) + 1))


def test_missing_atoms_are_left_out(small_pdb, tmp_path):
    """An atom masked out (NaN) is not written, so it is masked again when read back."""
    (protein,) = _read(small_pdb)
    atoms = protein.atoms.copy()
    atoms[[3, 10], 3] = np.nan
    gapped = Protein(protein.sequence, atoms, chain_id="A")
    (back,) = read_structure(write_mmcif(gapped, tmp_path / "gap.cif"))
    assert back.atom_mask.sum() == 4 * len(protein) - 2
    assert not back.atom_mask[3, 3] and not back.atom_mask[10, 3]


def test_b_factors_written(small_pdb, tmp_path):
    """Per-residue B-factors appear on all four atoms of the residue (2 decimals)."""
    (protein,) = _read(small_pdb)
    b = np.linspace(0.0, 99.0, len(protein))
    out = write_pdb(protein, tmp_path / "b.pdb", b_factors=[b])
    atoms = list(PDBParser(QUIET=True).get_structure("b", out).get_atoms())
    np.testing.assert_allclose([a.get_bfactor() for a in atoms], np.repeat(b, 4), atol=5e-3)


@pytest.mark.parametrize("ext", sorted(WRITERS))
def test_existing_file_is_not_overwritten(ext, small_pdb, tmp_path):
    """Writing onto an existing file raises InputError and keeps it; overwrite=True replaces it."""
    (protein,) = _read(small_pdb)
    out = tmp_path / f"x.{ext}"
    out.write_text("keep me")
    with pytest.raises(InputError, match="exists"):
        WRITERS[ext](protein, out)
    assert out.read_text() == "keep me"
    WRITERS[ext](protein, out, overwrite=True)
    assert read_structure(out)[0].sequence == protein.sequence


def test_duplicate_chain_ids_rejected(small_pdb, tmp_path):
    """Two chains with the same id in one file raise ValueError (they would merge on reading)."""
    (protein,) = _read(small_pdb)
    with pytest.raises(ValueError, match="unique"):
        write_pdb([protein, protein], tmp_path / "dup.pdb")
