"""Tests for molgen.io.chainset on the real chain set (data/pdb_chains.npz, val split)."""

from __future__ import annotations

import numpy as np
import pytest

from molgen.errors import InputError
from molgen.io import ChainSet, backbone_dssp, load_chain_set, write_chain_set


@pytest.fixture(scope="module")
def raw(chain_set_path):
    with np.load(chain_set_path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


@pytest.fixture(scope="module")
def val_set(chain_set_path) -> ChainSet:
    return load_chain_set(chain_set_path, split="val")


def test_chain_counts(chain_set_path, raw, val_set):
    """14,916 chains in all: 14,131 train and 785 val; lengths sum to the residue rows."""
    everything = load_chain_set(chain_set_path)
    assert len(everything) == 14916
    assert len(load_chain_set(chain_set_path, split="train")) == 14131
    assert len(val_set) == 785 and set(val_set.splits) == {"val"}
    assert everything.lengths.sum() == len(raw["coords_centi_A"])


def test_chain_atoms_are_stored_coordinates_over_100(raw, val_set):
    """Val chain k's atoms equal coords_centi_A[offsets[i]:offsets[i+1]] / 100 (Angstrom)."""
    rows = np.flatnonzero(raw["split"] == "val")
    for k in (0, 100, 784):
        i = rows[k]
        expected = raw["coords_centi_A"][raw["offsets"][i] : raw["offsets"][i + 1]] / 100.0
        np.testing.assert_array_equal(val_set.atoms(k), expected)
        protein = val_set[k]
        assert protein.sequence == raw["seq"][i] and len(protein) == raw["length"][i]
        assert protein.name == raw["pdb_id"][i] and protein.chain_id == raw["chain"][i]
        assert val_set.names[k] == f"{raw['pdb_id'][i]}_{raw['chain'][i]}"


def test_chains_are_centred_on_ca_mean(val_set):
    """Every val chain's CA centroid is at the origin to within the 0.005 A storage rounding."""
    centroids = np.stack([val_set.atoms(k)[:, 1].mean(0) for k in range(len(val_set))])
    assert np.abs(centroids).max() < 0.01


def test_write_and_load_round_trip(val_set, tmp_path):
    """write_chain_set -> load_chain_set keeps names, sequences, DSSP, split and atoms (0.01 A)."""
    picks = [0, 1, 2, 50, 300]
    chosen = [val_set[k] for k in picks]
    path = write_chain_set(chosen, tmp_path / "few.npz", split="val", dssp=val_set.dssp[picks])
    back = load_chain_set(path)
    assert len(back) == 5 and list(back.splits) == ["val"] * 5
    np.testing.assert_array_equal(back.dssp, val_set.dssp[picks])
    for k, protein in enumerate(chosen):
        assert back.names[k] == f"{protein.name}_{protein.chain_id}"
        assert back.sequences[k] == protein.sequence
        np.testing.assert_allclose(back.atoms(k), protein.atoms, atol=0.011)
    with np.load(path, allow_pickle=False) as npz:
        assert npz["coords_centi_A"].dtype == np.int16 and npz["offsets"][-1] == back.lengths.sum()


def test_backbone_dssp_matches_stored_dssp(val_set):
    """mdtraj DSSP of the stored backbones agrees with the stored 8-state DSSP on >= 95%."""
    agree = [
        np.mean(np.array(list(backbone_dssp(val_set.atoms(k)))) == np.array(list(val_set.dssp[k])))
        for k in range(10)
    ]
    assert np.mean(agree) >= 0.95, agree


def test_written_set_centres_shifted_chains(val_set, tmp_path):
    """A chain moved +100 A in x is stored centred (original atoms back); defaults filled."""
    protein = val_set[3]
    protein.atoms = protein.atoms + np.array([100.0, 0.0, 0.0])
    back = load_chain_set(write_chain_set([protein], tmp_path / "one.npz"))
    np.testing.assert_allclose(back.atoms(0), val_set.atoms(3), atol=0.011)
    assert back.splits[0] == "train" and back.clusters[0] == back.names[0]
    assert back.dssp[0] == backbone_dssp(val_set.atoms(3))  # default DSSP is computed


def test_missing_key_raises(val_set, tmp_path):
    """An npz without coords_centi_A raises InputError naming the missing key."""
    path = tmp_path / "bad.npz"
    np.savez(path, pdb_id=np.array(["1ABC"]), chain=np.array(["A"]), length=np.array([3]))
    with pytest.raises(InputError, match="missing keys.*coords_centi_A"):
        load_chain_set(path)


@pytest.mark.parametrize("content", [b"", b"not a zip file"])
def test_unreadable_file_raises(content, tmp_path):
    """An empty or non-zip file raises InputError naming the file."""
    path = tmp_path / "x.npz"
    path.write_bytes(content)
    with pytest.raises(InputError, match="x.npz"):
        load_chain_set(path)


def test_unknown_split_and_missing_file_raise(chain_set_path, tmp_path):
    """split='test' (absent) names the splits present; a missing file is named."""
    with pytest.raises(InputError, match="train, val"):
        load_chain_set(chain_set_path, split="test")
    with pytest.raises(InputError, match="not found"):
        load_chain_set(tmp_path / "absent.npz")


def test_write_refuses_to_overwrite(val_set, tmp_path):
    """write_chain_set onto an existing file raises InputError unless overwrite=True."""
    path = tmp_path / "set.npz"
    write_chain_set([val_set[0]], path, dssp=[val_set.dssp[0]])
    with pytest.raises(InputError, match="exists"):
        write_chain_set([val_set[1]], path, dssp=[val_set.dssp[1]])
    write_chain_set([val_set[1]], path, dssp=[val_set.dssp[1]], overwrite=True)
    assert load_chain_set(path).names[0] == val_set.names[1]
