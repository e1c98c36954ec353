"""Tests for molgen.io.molecules: SMILES and SDF in, multi-conformer SDF out."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import AllChem
from structure_files import POSEBUSTERS_PDB

from molgen.errors import InputError
from molgen.io import read_sdf, read_smiles, read_smiles_file, write_sdf

LIGAND_FILES = sorted(POSEBUSTERS_PDB.glob("*/*_ligand*.sdf"))


def _embedded(smiles: str = "CC(=O)Nc1ccc(O)cc1", n: int = 3) -> Chem.Mol:
    """Paracetamol with ``n`` ETKDG conformers (fixed seed), each with an 'energy' property."""
    mol = read_smiles(smiles, "paracetamol", add_hs=True)
    params = AllChem.ETKDGv3()
    params.randomSeed = 7
    assert len(AllChem.EmbedMultipleConfs(mol, n, params)) == n
    for conf in mol.GetConformers():
        conf.SetDoubleProp("energy", 1.25 * conf.GetId())
    return mol


def _atom_block(text: str) -> np.ndarray:
    """Coordinates of the first V2000 record, read from the fixed columns of its atom block."""
    lines = text.splitlines()
    n_atoms = int(lines[3][:3])
    return np.array([[float(v) for v in line.split()[:3]] for line in lines[4 : 4 + n_atoms]])


def test_read_smiles_canonical_and_named():
    """read_smiles('OCC') is ethanol (canonical CCO), named, with 9 atoms after add_hs."""
    mol = read_smiles("OCC", name="ethanol")
    assert Chem.MolToSmiles(mol) == "CCO" and mol.GetProp("_Name") == "ethanol"
    assert read_smiles("OCC", add_hs=True).GetNumAtoms() == 9


@pytest.mark.parametrize("smiles", ["", "   ", "C1CC", "C(C)(C)(C)(C)C", "c1ccc1x"])
def test_bad_smiles_raise(smiles):
    """Empty, unclosed-ring, pentavalent-carbon and garbage SMILES raise InputError."""
    with pytest.raises(InputError, match="SMILES"):
        read_smiles(smiles)


def test_read_smiles_file_names_and_errors(tmp_path):
    """Comments and blanks skipped; unnamed lines get stem_line; a bad line is named."""
    path = tmp_path / "mols.smi"
    path.write_text("# header\nCCO ethanol\n\nc1ccccc1\n")
    mols = read_smiles_file(path)
    assert [m.GetProp("_Name") for m in mols] == ["ethanol", "mols_4"]
    assert Chem.MolToSmiles(mols[1]) == "c1ccccc1"
    path.write_text("CCO ethanol\nC1CC broken\n")
    with pytest.raises(InputError, match="line 2"):
        read_smiles_file(path)


@pytest.mark.parametrize("path", LIGAND_FILES, ids=lambda p: p.name)
def test_read_real_sdf_all_records(path):
    """Every record of the PoseBusters ligand files is read; record 1 matches its atom block."""
    text = path.read_text()
    mols = read_sdf(path)
    assert len(mols) == max(1, text.count("$$$$"))
    np.testing.assert_allclose(mols[0].GetConformer().GetPositions(), _atom_block(text), atol=1e-4)
    assert mols[0].GetNumAtoms() == int(text.splitlines()[3][:3])


def test_write_three_conformers_read_back(tmp_path):
    """3 ETKDG conformers -> 3 records with the same coordinates (1e-4 A) and properties."""
    mol = _embedded()
    path = write_sdf(mol, tmp_path / "confs.sdf", properties={"score": 0.5, "model": "test"})
    back = read_sdf(path)
    assert len(back) == 3
    for conf, record in zip(mol.GetConformers(), back, strict=True):
        np.testing.assert_allclose(
            record.GetConformer().GetPositions(), conf.GetPositions(), atol=1e-4
        )
        props = record.GetPropsAsDict()
        assert record.GetProp("_Name") == "paracetamol"
        assert props["conformer_id"] == conf.GetId() and props["score"] == 0.5
        assert props["model"] == "test" and props["energy"] == 1.25 * conf.GetId()
        assert Chem.MolToSmiles(Chem.RemoveHs(record)) == Chem.MolToSmiles(Chem.RemoveHs(mol))


def test_per_molecule_properties(tmp_path):
    """A sequence of mappings gives each molecule its own properties."""
    mols = [_embedded(n=2), _embedded("CCO", n=1)]
    path = write_sdf(mols, tmp_path / "two.sdf", properties=[{"tag": "a"}, {"tag": "b"}])
    assert [m.GetProp("tag") for m in read_sdf(path)] == ["a", "a", "b"]


def test_sdf_nan_coordinates_raise(tmp_path):
    """A record whose atom block holds 'nan' raises InputError naming record 2."""
    text = write_sdf(_embedded(n=2), tmp_path / "ok.sdf").read_text()
    records = text.split("$$$$\n")
    lines = records[1].splitlines()
    lines[4] = "       nan" + lines[4][10:]
    records[1] = "\n".join(lines) + "\n"
    bad = tmp_path / "nan.sdf"
    bad.write_text("$$$$\n".join(records))
    with pytest.raises(InputError, match="record 2: non-finite coordinates"):
        read_sdf(bad)


def test_sdf_unparsable_record_raises(tmp_path):
    """A record with a pentavalent carbon (bond order edited) fails sanitization: record named."""
    mol = read_smiles("CC(C)(C)C", add_hs=False)
    AllChem.Compute2DCoords(mol)
    block = Chem.MolToMolBlock(mol).replace("  1  2  1  0", "  1  2  2  0")
    path = tmp_path / "bad.sdf"
    path.write_text(Chem.MolToMolBlock(mol) + "$$$$\n" + block + "$$$$\n")
    with pytest.raises(InputError, match="record 2: cannot parse"):
        read_sdf(path)


@pytest.mark.parametrize("content", [b"", b"\x00\xff\xfe garbage \x81"])
def test_sdf_empty_or_binary_raises(content, tmp_path):
    """An empty or binary SDF raises InputError naming the file."""
    path = tmp_path / "x.sdf"
    path.write_bytes(content)
    with pytest.raises(InputError, match="x.sdf"):
        read_sdf(path)
    with pytest.raises(InputError, match="not found"):
        read_sdf(tmp_path / "absent.sdf")


def test_write_sdf_refuses_to_overwrite(tmp_path):
    """Writing onto an existing file raises InputError and keeps it; overwrite=True replaces it."""
    path = tmp_path / "out.sdf"
    path.write_text("keep me")
    with pytest.raises(InputError, match="exists"):
        write_sdf(_embedded(n=1), path)
    assert path.read_text() == "keep me"
    write_sdf(_embedded(n=1), path, overwrite=True)
    assert len(read_sdf(path)) == 1
