"""QM9 loader: split indices only, bonds perceived from the DFT geometry, skip counting."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem

import molgen.datasets.qm9 as qm9
from molgen.datasets.qm9 import QM9Molecules, molecule_from_xyz
from tests.conftest import DATA_DIR

SPLIT = DATA_DIR / "qm9_split.npz"


@pytest.fixture(scope="module")
def val200() -> QM9Molecules:
    return QM9Molecules(SPLIT, "val", limit=200, seed=0)


def test_val_sample_parses_and_stays_in_val(val200: QM9Molecules) -> None:
    """> 95% of 200 val molecules parse; every index is in val_index and named qm9_<Index>;
    each molecule has one conformer and explicit hydrogens."""
    val = set(np.load(SPLIT)["val_index"].tolist())
    assert len(val200) + sum(val200.skipped.values()) == 200
    assert len(val200) > 190
    assert set(val200.indices.tolist()) <= val
    for i, mol in enumerate(val200):
        assert mol.GetProp("_Name") == f"qm9_{val200.indices[i]}"
        assert mol.GetIntProp("qm9_index") == val200.indices[i]
        assert mol.GetNumConformers() == 1
        assert all(a.GetTotalNumHs() == 0 for a in mol.GetAtoms())  # all H explicit


def test_atoms_match_the_elements_column(val200: QM9Molecules) -> None:
    """Atom symbols (in order) == the Elements column; heavy atoms == those of the SMILES."""
    records = qm9._read_records(qm9.qm9_csv_files(), set(val200.indices.tolist()))
    for i, mol in enumerate(val200):
        elements = records[int(val200.indices[i])][2]
        assert [a.GetSymbol() for a in mol.GetAtoms()] == [
            s.strip(" '") for s in elements.strip("[]").split(",")
        ]
        assert mol.GetNumHeavyAtoms() == Chem.MolFromSmiles(val200.smiles[i]).GetNumAtoms()


def test_bond_perception_recovers_qm9_smiles(val200: QM9Molecules) -> None:
    """Canonical SMILES (no stereo, all H removed) of the perceived molecule == QM9's for >
    90% (charge-separated resonance forms may differ)."""
    same = [
        Chem.MolToSmiles(Chem.RemoveAllHs(mol), isomericSmiles=False)
        == Chem.MolToSmiles(Chem.MolFromSmiles(smi), isomericSmiles=False)
        for mol, smi in zip(val200, val200.smiles, strict=True)
    ]
    assert np.mean(same) > 0.9


def test_strained_cage_is_recovered_by_hueckel_retry(tmp_path) -> None:
    """qm9_3497 (a bicyclobutane, N#CC1C2CC1C2) fails with distance-based connectivity but is
    recovered by the Hueckel retry with the right SMILES."""
    np.savez(tmp_path / "s.npz", train_index=np.array([3497]), val_index=np.array([1]))
    data = QM9Molecules(tmp_path / "s.npz", "train")
    assert not data.skipped
    got = Chem.MolToSmiles(Chem.RemoveAllHs(data[0]), isomericSmiles=False)
    assert got == Chem.MolToSmiles(Chem.MolFromSmiles("N#CC1C2CC1C2"))


def test_only_listed_indices_are_returned(tmp_path) -> None:
    """A split file listing 5 real indices and a bogus one returns only those real indices
    (never a neighbour) and counts the bogus one as 'not in qm9pack'."""
    listed = np.array([21, 26, 48, 59, 68, 10_000_000])
    np.savez(tmp_path / "s.npz", train_index=np.array([1, 2]), val_index=listed)
    data = QM9Molecules(tmp_path / "s.npz", "val")
    assert data.indices.tolist() == [21, 26, 48, 59, 68]
    assert data.skipped == {"not in qm9pack": 1}
    with pytest.raises(ValueError, match="split"):
        QM9Molecules(tmp_path / "s.npz", "test")


def test_failures_are_skipped_and_counted(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A molecule whose perception fails is dropped and counted under its reason."""
    real = qm9.molecule_from_xyz

    def failing(elements, xyz, name):
        if name == "qm9_26":
            raise ValueError("bond orders: ValueError")
        return real(elements, xyz, name)

    monkeypatch.setattr(qm9, "molecule_from_xyz", failing)
    np.savez(tmp_path / "s.npz", train_index=np.array([21, 26, 48]), val_index=np.array([1]))
    data = QM9Molecules(tmp_path / "s.npz", "train")
    assert data.indices.tolist() == [21, 48]
    assert data.skipped == {"bond orders: ValueError": 1}


def test_disconnected_geometry_raises_with_stage() -> None:
    """Two water molecules 10 A apart: ValueError naming the 'fragments' stage."""
    water = np.array([[0.0, 0.0, 0.0], [0.96, 0.0, 0.0], [-0.24, 0.93, 0.0]])
    xyz = np.concatenate([water, water + 10.0])
    with pytest.raises(ValueError, match="^fragments"):
        molecule_from_xyz(["O", "H", "H"] * 2, xyz, "two_waters")
