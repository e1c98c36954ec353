"""Tests for molgen.io.structure: reading real PDB/mmCIF files into Protein chains."""

from __future__ import annotations

import gzip
from pathlib import Path

import mdtraj
import numpy as np
import pytest
from structure_files import TMTOOLS_DATA, real_cif_files, real_pdb_files

from molgen.errors import InputError
from molgen.io import Protein, read_structure, structure_format

DATA_DIR = Path(__file__).resolve().parents[2] / "data"


def _atom_line(line: str, *, altloc=None, occupancy=None, x_shift=0.0) -> str:
    """A PDB ATOM line with the altloc (col 17), occupancy (55-60) or x (31-38) changed."""
    if altloc is not None:
        line = line[:16] + altloc + line[17:]
    if occupancy is not None:
        line = line[:54] + f"{occupancy:6.2f}" + line[60:]
    if x_shift:
        line = line[:30] + f"{float(line[30:38]) + x_shift:8.3f}" + line[38:]
    return line


def _write(path, lines: list[str]):
    path.write_text("\n".join(lines) + "\nEND\n")
    return path


def _ca_from_pdb_text(path) -> dict[str, np.ndarray]:
    """CA coordinates per chain straight from the ATOM columns (independent of Bio.PDB)."""
    out: dict[str, list] = {}
    for line in path.read_text().splitlines():
        if line.startswith("ATOM  ") and line[12:16] == " CA ":
            out.setdefault(line[21], []).append(
                [float(line[30 + 8 * k : 38 + 8 * k]) for k in (0, 1, 2)]
            )
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize("path", real_pdb_files(), ids=lambda p: p.name)
def test_ca_coordinates_match_atom_columns(path):
    """Every chain's CA array equals the CA records of the file's ATOM lines, in order."""
    expected = _ca_from_pdb_text(path)
    proteins = read_structure(path)
    assert [p.chain_id for p in proteins] == list(expected)
    for p in proteins:
        np.testing.assert_allclose(p.ca, expected[p.chain_id], atol=1e-3)
        assert p.atoms.shape == (len(p.sequence), 4, 3) and p.atoms.dtype == np.float64


@pytest.mark.parametrize(
    "path", [TMTOOLS_DATA / "2gtl.pdb", real_pdb_files()[-1]], ids=lambda p: p.name
)
def test_ca_coordinates_match_mdtraj(path):
    """CA coordinates of all protein chains equal mdtraj's (nm -> Angstrom, x10)."""
    traj = mdtraj.load(str(path))
    ca = traj.xyz[0, traj.topology.select("protein and name CA")] * 10.0
    ours = np.concatenate([p.ca for p in read_structure(path)])
    np.testing.assert_allclose(ours, ca, atol=1e-3)


def test_pdb_and_mmcif_of_same_entry_agree(tmtools_data):
    """2gtl.pdb and 2gtl.cif give the same chains, sequences, numbering and coordinates."""
    from_pdb = read_structure(tmtools_data / "2gtl.pdb")
    from_cif = read_structure(tmtools_data / "2gtl.cif")
    assert [p.chain_id for p in from_pdb] == [p.chain_id for p in from_cif]
    for a, b in zip(from_pdb, from_cif, strict=True):
        assert a.sequence == b.sequence
        np.testing.assert_array_equal(a.residue_numbers, b.residue_numbers)
        np.testing.assert_allclose(a.atoms, b.atoms, atol=1e-3)


@pytest.mark.parametrize("path", [real_pdb_files()[-1], real_cif_files()[0]], ids=lambda p: p.name)
def test_gzip_reads_identically(path, tmp_path):
    """A .gz copy of a file gives exactly the same proteins as the plain file."""
    gz = tmp_path / (path.name + ".gz")
    gz.write_bytes(gzip.compress(path.read_bytes()))
    for a, b in zip(read_structure(path), read_structure(gz), strict=True):
        assert a.sequence == b.sequence and a.chain_id == b.chain_id
        np.testing.assert_array_equal(a.atoms, b.atoms)


def test_chain_selection(tmtools_data):
    """chain='C' returns exactly the C entry of the all-chains read; unknown ids are named."""
    everything = {p.chain_id: p for p in read_structure(tmtools_data / "2gtl.pdb")}
    (chain_c,) = read_structure(tmtools_data / "2gtl.pdb", chain="C")
    assert chain_c.sequence == everything["C"].sequence
    np.testing.assert_array_equal(chain_c.atoms, everything["C"].atoms)
    with pytest.raises(InputError, match=r"chain 'Z' not found.*A, B, C"):
        read_structure(tmtools_data / "2gtl.pdb", chain="Z")


def test_model_selection(small_pdb_lines, tmp_path):
    """In a two-model file, model=1 is the second model (x + 10 A); model=2 is an error."""
    second = [_atom_line(line, x_shift=10.0) for line in small_pdb_lines]
    lines = ["MODEL        1", *small_pdb_lines, "ENDMDL", "MODEL        2", *second, "ENDMDL"]
    path = _write(tmp_path / "two.pdb", lines)
    (m0,) = read_structure(path, model=0)
    (m1,) = read_structure(path, model=1)
    np.testing.assert_allclose(
        m1.atoms - m0.atoms, np.broadcast_to([10.0, 0, 0], m0.atoms.shape), atol=2e-3
    )
    with pytest.raises(InputError, match="model 2 not found.*0..1"):
        read_structure(path, model=2)


@pytest.mark.parametrize("occupancies", [(0.3, 0.7), (0.7, 0.3)])
def test_altloc_highest_occupancy_wins(small_pdb_lines, tmp_path, occupancies):
    """Of CA altlocs A and B (B shifted 1 A in x), the one with higher occupancy is read."""
    index = next(i for i, line in enumerate(small_pdb_lines) if line[12:16] == " CA ")
    ca = small_pdb_lines[index]
    alt_a = _atom_line(ca, altloc="A", occupancy=occupancies[0])
    alt_b = _atom_line(ca, altloc="B", occupancy=occupancies[1], x_shift=1.0)
    lines = small_pdb_lines[:index] + [alt_a, alt_b] + small_pdb_lines[index + 1 :]
    (protein,) = read_structure(_write(tmp_path / "alt.pdb", lines))
    winner = alt_a if occupancies[0] > occupancies[1] else alt_b
    assert protein.ca[0, 0] == pytest.approx(float(winner[30:38]), abs=1e-3)
    assert len(protein) == 186


def test_waters_and_ligands_ignored(tmtools_data, small_pdb_lines, tmp_path):
    """Adding HOH and a ligand (HETATM with a CA-named atom) changes nothing read."""
    ligand = "HETATM 9001  CA  LIG A 900      1.000   2.000   3.000  1.00  0.00           C"
    water = "HETATM 9002  O   HOH W 901      4.000   5.000   6.000  1.00  0.00           O"
    (plain,) = read_structure(_write(tmp_path / "plain.pdb", small_pdb_lines))
    (mixed,) = read_structure(_write(tmp_path / "mixed.pdb", [*small_pdb_lines, ligand, water]))
    assert mixed.sequence == plain.sequence
    np.testing.assert_array_equal(mixed.atoms, plain.atoms)
    # 1ia1 holds NDP and TQ3 ligands as HETATM in chains A/B: residues read = ATOM CA records
    path = real_pdb_files()[2]
    assert sum(len(p) for p in read_structure(path)) == sum(
        map(len, _ca_from_pdb_text(path).values())
    )


def test_modified_residue_read_as_parent(small_pdb_lines, tmp_path):
    """A MET rewritten as HETATM MSE (selenomethionine) is kept, with letter M."""
    (plain,) = read_structure(_write(tmp_path / "plain.pdb", small_pdb_lines))
    lines = [
        ("HETATM" + line[6:17] + "MSE" + line[20:]) if line[17:20] == "MET" else line
        for line in small_pdb_lines
    ]
    (mse,) = read_structure(_write(tmp_path / "mse.pdb", lines))
    assert mse.sequence == plain.sequence and "M" in mse.sequence
    np.testing.assert_array_equal(mse.atoms, plain.atoms)


def test_missing_oxygen_is_masked(small_pdb_lines, tmp_path):
    """Deleting residue 5's O gives mask False and NaN there, all else unchanged."""
    (plain,) = read_structure(_write(tmp_path / "plain.pdb", small_pdb_lines))
    lines = [ln for ln in small_pdb_lines if not (ln[22:26] == "   5" and ln[12:16] == " O  ")]
    (cut,) = read_structure(_write(tmp_path / "no_o.pdb", lines))
    assert not cut.atom_mask[4, 3] and np.isnan(cut.atoms[4, 3]).all()
    assert cut.atom_mask.sum() == plain.atom_mask.sum() - 1
    keep = cut.atom_mask
    np.testing.assert_array_equal(cut.atoms[keep], plain.atoms[keep])


def test_insertion_codes_read(small_pdb_lines, tmp_path):
    """Residue 10 renumbered 9A keeps its insertion code and number 9."""
    lines = [ln[:22] + "   9A" + ln[27:] if ln[22:26] == "  10" else ln for ln in small_pdb_lines]
    (protein,) = read_structure(_write(tmp_path / "icode.pdb", lines))
    assert protein.residue_numbers[9] == 9 and protein.insertion_codes[9] == "A"
    assert protein.insertion_codes[8] == "" and len(protein) == 186


def _bad_inputs(small_pdb_lines):
    text = "\n".join(small_pdb_lines)
    cut_line = text.splitlines()[100][:40]
    nan_line = small_pdb_lines[7][:30] + "     nan" + small_pdb_lines[7][38:]
    garbage = np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    return {
        "empty.pdb": (b"", "empty"),
        "garbage.pdb": (garbage, "binary"),
        "garbage.cif": (garbage, "binary"),
        "truncated.pdb": ("\n".join(text.splitlines()[:100] + [cut_line]).encode(), "line 101"),
        "no_backbone.pdb": (
            b"HETATM    1  O   HOH A   1       1.000   2.000   3.000  1.00  0.00\n",
            "no chain",
        ),
        "nan.pdb": ("\n".join([*small_pdb_lines[:7], nan_line]).encode(), "non-finite"),
        "text.cif": (b"hello\nworld\n", "cannot parse"),
        "protein.xyz": (text.encode(), "unknown structure format"),
        "bad.pdb.gz": (b"not gzip at all", "cannot read"),
    }


@pytest.mark.parametrize(
    "name",
    [
        "empty.pdb",
        "garbage.pdb",
        "garbage.cif",
        "truncated.pdb",
        "no_backbone.pdb",
        "nan.pdb",
        "text.cif",
        "protein.xyz",
        "bad.pdb.gz",
    ],
)
def test_bad_input_raises_one_line_input_error(name, small_pdb_lines, tmp_path):
    """Each malformed file raises InputError whose one-line message names the file and problem."""
    content, expected = _bad_inputs(small_pdb_lines)[name]
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=expected) as info:
        read_structure(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_missing_file_raises(tmp_path):
    """A path that does not exist raises InputError naming it."""
    with pytest.raises(InputError, match="not found"):
        read_structure(tmp_path / "absent.pdb")


def test_truncated_mmcif_raises(tmtools_data, tmp_path):
    """2gtl.cif cut in the middle of an atom_site row raises InputError."""
    text = (tmtools_data / "2gtl.cif").read_text()
    cut = text[: text.index("\n", len(text) // 2) + 30]
    path = tmp_path / "cut.cif"
    path.write_text(cut)
    with pytest.raises(InputError, match="truncated"):
        read_structure(path)


def test_structure_format_by_extension():
    """.pdb/.ent -> pdb, .cif/.mmcif -> mmcif, with or without .gz, case-insensitive."""
    assert [structure_format(f"x{e}") for e in (".pdb", ".ENT.gz", ".cif.gz", ".mmcif")] == [
        "pdb",
        "pdb",
        "mmcif",
        "mmcif",
    ]


def test_protein_masks_nan_atoms():
    """Protein() derives atom_mask from finite atoms and sets masked atoms to NaN."""
    atoms = np.arange(24, dtype=float).reshape(2, 4, 3)
    atoms[1, 3] = np.nan
    protein = Protein("AG", atoms)
    np.testing.assert_array_equal(protein.atom_mask, [[1, 1, 1, 1], [1, 1, 1, 0]])
    masked = Protein("AG", np.arange(24.0).reshape(2, 4, 3), atom_mask=protein.atom_mask)
    assert np.isnan(masked.atoms[1, 3]).all() and np.array_equal(masked.residue_numbers, [1, 2])


def test_corrupt_gzip_and_special_files_are_input_errors(tmp_path):
    """A gzip whose deflate stream is corrupt, a link to /dev/zero and a folder named .pdb: one
    InputError each (no zlib.error, no endless read)."""
    import gzip

    from molgen.io.structure import read_structure as read

    data = bytearray(gzip.compress((DATA_DIR / "examples" / "1s3v.pdb").read_bytes()))
    data[200:260] = bytes(range(60))  # inside the deflate stream
    bad = tmp_path / "bad.pdb.gz"
    bad.write_bytes(bytes(data))
    with pytest.raises(InputError, match="cannot read file"):
        read(bad)
    zero = tmp_path / "zero.pdb"
    zero.symlink_to("/dev/zero")
    with pytest.raises(InputError, match="not a regular file"):
        read(zero)
    folder = tmp_path / "folder.pdb"
    folder.mkdir()
    with pytest.raises(InputError, match="not a regular file"):
        read(folder)


def test_size_limit_refuses_a_gzip_bomb(tmp_path, monkeypatch):
    """A small .pdb.gz that expands past MOLGEN_MAX_INPUT_MB is refused before parsing; the
    same file is read when the limit is raised."""
    import gzip

    from molgen.io.structure import read_structure as read

    pdb = (DATA_DIR / "examples" / "1s3v.pdb").read_bytes()
    path = tmp_path / "bomb.pdb.gz"
    path.write_bytes(gzip.compress(b"REMARK 999 padding\n" * 200_000 + pdb))
    monkeypatch.setenv("MOLGEN_MAX_INPUT_MB", "2")
    with pytest.raises(InputError, match="input limit of 2 MiB"):
        read(path)
    monkeypatch.setenv("MOLGEN_MAX_INPUT_MB", "8")
    assert len(read(path)) >= 1


@pytest.mark.parametrize(
    ("occupancy", "ok"), [("   nan", False), (" -1.00", False), ("      ", True)]
)
def test_altloc_occupancy(tmp_path, occupancy, ok):
    """Alt-loc atoms whose occupancy is nan or negative are refused naming the line; a blank
    occupancy is read as 1.0 (no Python-internal message)."""
    from molgen.io.structure import read_structure as read

    lines = (DATA_DIR / "examples" / "1s3v.pdb").read_text().splitlines()
    out = []
    for line in lines:
        if line.startswith("ATOM  ") and line[22:26].strip() == "10":
            for alt in "AB":
                out.append(line[:16] + alt + line[17:54] + occupancy + line[60:])
        else:
            out.append(line)
    path = tmp_path / "alt.pdb"
    path.write_text("\n".join(out) + "\n")
    if ok:
        protein = read(path)[0]
        assert np.isfinite(protein.atoms[protein.atom_mask]).all()
    else:
        with pytest.raises(InputError, match=r"line \d+: occupancy"):
            read(path)


def test_pdb_cut_inside_its_last_atom_record_is_refused(tmp_path):
    """A real PDB cut in the middle of an ATOM line past its coordinates (no END, no newline)
    is an InputError naming the line; the same file cut at a line end is read."""
    text = (DATA_DIR / "examples" / "1s3v.pdb").read_text()
    lines = text.splitlines()
    atom = max(i for i, line in enumerate(lines[:400]) if line.startswith("ATOM  "))
    cut = tmp_path / "cut.pdb"
    cut.write_text("\n".join(lines[:atom]) + "\n" + lines[atom][:62])
    with pytest.raises(InputError, match=rf"line {atom + 1}: the file ends inside an atom"):
        read_structure(cut)
    whole = tmp_path / "whole.pdb"
    whole.write_text("\n".join(lines[: atom + 1]) + "\n")
    assert len(read_structure(whole)[0]) > 10
