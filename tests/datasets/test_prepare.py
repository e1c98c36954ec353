"""prepare_chain_set on real PDB/mmCIF files (tmtools' 2gtl/7ok9, posebusters' 1s3v/1ia1)."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import posebusters
import pytest
import tmtools

from molgen.datasets.prepare import gap_free_segments, prepare_chain_set, read_resolution
from molgen.errors import InputError
from molgen.io import backbone_dssp, load_chain_set, read_structure

TMTOOLS = Path(tmtools.__file__).parent / "data"
POSEBUSTERS = Path(posebusters.__file__).parent / "datasets" / "pdb"
S3V = POSEBUSTERS / "1s3v" / "1s3v_protein_one_lig_removed.pdb"  # chain A, 186 residues
IA1 = POSEBUSTERS / "1ia1" / "1ia1_protein_one_lig_removed.pdb"  # chains A, B, 192 residues
GTL = TMTOOLS / "2gtl.pdb"  # 15 globin chains, 140-220 residues, 3.5 A


def _folder(root: Path, files: dict[str, Path | str]) -> Path:
    """Create root with files: a source path is copied (gzipped for .gz names), text written."""
    for name, source in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, str):
            target.write_text(source)
        elif name.endswith(".gz"):
            target.write_bytes(gzip.compress(source.read_bytes()))
        else:
            shutil.copy(source, target)
    return root


def _without_residues(path: Path, numbers: set[int]) -> str:
    """PDB text of ``path`` without the ATOM records of chain residues in ``numbers``."""
    lines = path.read_text().splitlines(keepends=True)
    return "".join(ln for ln in lines if not (ln.startswith("ATOM") and int(ln[22:26]) in numbers))


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """Defaults on 1s3v, 1ia1, a gzipped mirror-named 2gtl in a sub-folder, and bad files."""
    root = _folder(
        tmp_path_factory.mktemp("mirror"),
        {
            "1s3v_protein.pdb": S3V,
            "1ia1_protein.pdb": IA1,
            "gt/pdb2gtl.ent.gz": GTL,
            "garbage.pdb": "this is not a structure\n",
            "empty.cif": "",
            "notes.txt": "ignored\n",
        },
    )
    out = root.parent / "chains.npz"
    summary = prepare_chain_set(root, out, progress=False)
    return root, out, summary


def test_output_has_expected_chains(prepared):
    """Every chain of the readable files (all gap-free, 140-220 residues) is written once."""
    _, out, summary = prepared
    chains = load_chain_set(out)
    expected = {"1S3V_A", "1IA1_A", "1IA1_B"} | {f"2GTL_{c}" for c in "ABCDEFGHIJKLMNO"}
    assert sorted(chains.names) == sorted(expected)
    assert (summary.files_seen, summary.chains_seen, summary.chains_kept) == (5, 18, 18)
    assert summary.residues_kept == chains.lengths.sum() and not summary.skipped
    assert set(chains.splits) == {"train"} and list(chains.clusters) == list(chains.names)


def test_coordinates_sequence_dssp_match_source(prepared):
    """Stored atoms equal the source atoms minus their CA mean within the 0.005 A rounding."""
    root, out, _ = prepared
    chains = load_chain_set(out)
    sources = {f"1S3V_{p.chain_id}": p for p in read_structure(root / "1s3v_protein.pdb")}
    sources |= {f"2GTL_{p.chain_id}": p for p in read_structure(root / "gt/pdb2gtl.ent.gz")}
    for i, name in enumerate(chains.names):
        if name not in sources:
            continue
        source = sources[name]
        expected = source.atoms - source.atoms[:, 1].mean(0)
        np.testing.assert_allclose(chains.atoms(i), expected, atol=0.006)
        assert chains.sequences[i] == source.sequence
        assert chains.dssp[i] == backbone_dssp(source.atoms)


def test_unreadable_files_counted_with_errors(prepared):
    """The garbage and the empty file are counted and named in the errors; notes.txt is not."""
    _, _, summary = prepared
    assert summary.files_unreadable == 2
    assert any("garbage.pdb" in e for e in summary.errors)
    assert any("empty.cif" in e and "empty" in e.split(":")[-1] for e in summary.errors)


def test_summary_dict_and_table(prepared):
    """as_dict is JSON-ready and holds the counts; the table has one row per count."""
    _, out, summary = prepared
    data = json.loads(json.dumps(summary.as_dict()))
    assert data["chains_kept"] == 18 and data["out_path"] == str(out)
    assert summary.table().row_count == 8


def test_recursive_walk(tmp_path):
    """Without recursion the 2gtl file in a sub-folder is not seen."""
    root = _folder(tmp_path / "in", {"1s3v.pdb": S3V, "sub/pdb2gtl.ent.gz": GTL})
    summary = prepare_chain_set(root, tmp_path / "a.npz", recursive=False, progress=False)
    assert (summary.files_seen, summary.chains_kept) == (1, 1)


def test_length_filters(tmp_path):
    """min_length 187 drops 1s3v (186 residues), max_length 190 drops 1ia1 (192)."""
    root = _folder(tmp_path / "in", {"1s3v.pdb": S3V, "1ia1.pdb": IA1})
    short = prepare_chain_set(root, tmp_path / "a.npz", min_length=187, progress=False)
    assert short.skipped == {"too_short": 1}
    assert list(load_chain_set(tmp_path / "a.npz").names) == ["1IA1_A", "1IA1_B"]
    long = prepare_chain_set(root, tmp_path / "b.npz", max_length=190, progress=False)
    assert long.skipped == {"too_long": 2}
    assert list(load_chain_set(tmp_path / "b.npz").names) == ["1S3V_A"]


def test_coil_filter_and_no_chain_error(tmp_path):
    """A threshold just above 1s3v's DSSP coil fraction keeps it; just below drops it."""
    root = _folder(tmp_path / "in", {"1s3v.pdb": S3V})
    states = backbone_dssp(read_structure(S3V)[0].atoms)
    coil = np.mean([s in "TSC " for s in states])
    assert 0.2 < coil < 0.8
    kept = prepare_chain_set(
        root, tmp_path / "a.npz", max_coil_fraction=coil + 0.005, progress=False
    )
    assert kept.chains_kept == 1
    with pytest.raises(InputError, match="no chain passed the filters.*too_much_coil 1"):
        prepare_chain_set(root, tmp_path / "b.npz", max_coil_fraction=coil - 0.005, progress=False)
    assert not (tmp_path / "b.npz").exists()


def test_resolution_filter(tmp_path):
    """2gtl states 3.5 A: max_resolution 3.0 skips the file, 3.5 keeps it; 1s3v states none."""
    root = _folder(tmp_path / "in", {"1s3v.pdb": S3V, "pdb2gtl.ent.gz": GTL})
    strict = prepare_chain_set(root, tmp_path / "a.npz", max_resolution=3.0, progress=False)
    assert (strict.files_above_resolution, strict.files_without_resolution) == (1, 1)
    assert list(load_chain_set(tmp_path / "a.npz").names) == ["1S3V_A"]
    loose = prepare_chain_set(root, tmp_path / "b.npz", max_resolution=3.5, progress=False)
    assert (loose.files_above_resolution, loose.chains_kept) == (0, 16)


def test_read_resolution(tmp_path):
    """PDB REMARK 2 and mmCIF _refine.ls_d_res_high (before _reflns) values; None without."""
    gz = _folder(tmp_path, {"2gtl.cif.gz": TMTOOLS / "2gtl.cif"}) / "2gtl.cif.gz"
    assert read_resolution(GTL) == 3.5
    assert read_resolution(gz) == 3.5
    assert read_resolution(TMTOOLS / "7ok9.cif") == 3.36  # _reflns.d_resolution_high is 3.357
    assert read_resolution(S3V) is None


def test_gap_trimmed_to_longest_stretch(tmp_path):
    """1s3v without residues 60-64 keeps residues 65-186 (122), exactly as in the source."""
    root = _folder(tmp_path / "in", {"1s3v.pdb": _without_residues(S3V, set(range(60, 65)))})
    summary = prepare_chain_set(root, tmp_path / "a.npz", max_coil_fraction=1.0, progress=False)
    assert (summary.chains_kept, summary.chains_trimmed) == (1, 1)
    chains = load_chain_set(tmp_path / "a.npz")
    source = read_structure(S3V)[0]
    expected = source.atoms[64:] - source.atoms[64:, 1].mean(0)
    assert chains.lengths[0] == 122 and chains.sequences[0] == source.sequence[64:]
    np.testing.assert_allclose(chains.atoms(0), expected, atol=0.006)


def test_max_missing(tmp_path):
    """Five residues missing: max_missing 4 skips the chain, 5 keeps its longest stretch."""
    root = _folder(tmp_path / "in", {"1s3v.pdb": _without_residues(S3V, set(range(60, 65)))})
    with pytest.raises(InputError, match="missing_residues 1"):
        prepare_chain_set(
            root, tmp_path / "a.npz", max_missing=4, max_coil_fraction=1.0, progress=False
        )
    assert (
        prepare_chain_set(
            root, tmp_path / "b.npz", max_missing=5, max_coil_fraction=1, progress=False
        ).chains_kept
        == 1
    )


def test_gap_free_segments_breaks_and_numbering():
    """Breaks at a missing atom and a stretched peptide bond; a numbering jump alone is none."""
    chain = read_structure(S3V)[0]
    assert gap_free_segments(chain) == ([(0, 186)], 0)
    chain.residue_numbers[100:] += 10  # renumbered (as Kabat numbering does), still bonded
    assert gap_free_segments(chain) == ([(0, 186)], 0)
    chain.atom_mask[50, 3] = False  # residue 51 lacks O
    chain.atoms[150:] += 5.0  # bond 149-150 broken; numbering says 0 residues missing there
    assert gap_free_segments(chain) == ([(0, 50), (51, 150), (150, 186)], 2)


def test_duplicate_entry_skipped(tmp_path):
    """The same entry under two mirror names (1s3v.pdb, sub/pdb1s3v.ent) is written once."""
    root = _folder(tmp_path / "in", {"1s3v.pdb": S3V, "sub/pdb1s3v.ent": S3V})
    summary = prepare_chain_set(root, tmp_path / "a.npz", progress=False)
    assert summary.skipped == {"duplicate": 1} and summary.chains_kept == 1


def test_refuses_overwrite_and_empty_folder(tmp_path):
    """An existing output is refused unless overwrite=True; a folder without structures fails."""
    root = _folder(tmp_path / "in", {"1s3v.pdb": S3V})
    out = tmp_path / "a.npz"
    out.write_bytes(b"keep me")
    with pytest.raises(InputError, match="already exists"):
        prepare_chain_set(root, out, progress=False)
    assert out.read_bytes() == b"keep me"
    prepare_chain_set(root, out, overwrite=True, progress=False)
    assert len(load_chain_set(out)) == 1
    empty = _folder(tmp_path / "empty", {"readme.txt": "no structures\n"})
    with pytest.raises(InputError, match="no .pdb"):
        prepare_chain_set(empty, tmp_path / "b.npz", progress=False)
