"""Tests for ``molgen sample conformers`` on a tiny, randomly initialised torsion model."""

from __future__ import annotations

import pytest
from rdkit import Chem

from molgen.cli import main
from molgen.io import read_sdf
from molgen.models import TorsionScoreNetwork, TorsionScoreNetworkConfig, save

TINY = {"hidden_irreps": "8x0e + 2x1o + 2x1e + 2x0o", "num_layers": 1, "mlp_dim": 16}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("torsion_model")
    return save(TorsionScoreNetwork(TorsionScoreNetworkConfig(**TINY)), folder, overwrite=True)


def _run(tiny_model, out, *inputs):
    args = ["sample", "conformers", *inputs, "--num", "3", "--steps", "4", "-q"]
    return main([*args, "--model", str(tiny_model), "--out", str(out), "--device", "cpu"])


def test_smiles_in_sdf_out_keeps_stereo(tiny_model, tmp_path):
    """A chiral SMILES gives 3 SDF records, each with the input's R/S and its conformer id."""
    out = tmp_path / "conf.sdf"
    smiles = "C[C@H](N)C(=O)OCC/C=C/C"
    assert _run(tiny_model, out, "--smiles", smiles) == 0
    records = read_sdf(out)
    assert len(records) == 3
    assert sorted(int(m.GetProp("conformer_id")) for m in records) == [0, 1, 2]
    reference = Chem.MolToSmiles(Chem.MolFromSmiles(smiles))
    for mol in records:
        Chem.AssignStereochemistryFrom3D(mol)
        assert Chem.MolToSmiles(Chem.RemoveHs(mol)) == reference


def test_smiles_file_with_a_bad_line_reports_and_continues(tiny_model, tmp_path, capsys):
    """A bad SMILES line is reported on stderr; the other molecules are still written."""
    smi = tmp_path / "in.smi"
    smi.write_text("CCO ethanol\nnot_a_smiles broken\nCCCC butane\n")
    out = tmp_path / "out.sdf"
    assert _run(tiny_model, out, "--smiles-file", str(smi)) == 0
    names = {m.GetProp("input_name") for m in read_sdf(out)}
    assert names == {"ethanol", "butane"}
    assert "broken" in capsys.readouterr().err


@pytest.mark.parametrize(
    "inputs, message",
    [
        (["--smiles", "C1CC"], "C1CC"),
        ([], "exactly one"),
        (["--smiles", "CCO", "--relax", "uff"], "--relax"),
        (["--smiles", "CCCCO", "--start-time", "0"], "--start-time"),
    ],
)
def test_bad_requests_are_one_line_errors(tiny_model, tmp_path, capsys, inputs, message):
    """Unparsable SMILES, no input, unknown relaxation, start time outside (0, 1]: exit 2
    with one line."""
    assert _run(tiny_model, tmp_path / "x.sdf", *inputs) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "x.sdf").exists()


def _sdf_with_bad_records(path):
    """A real molecule, a 0-atom record, the molecule with all atoms at one point, the molecule."""
    from rdkit.Chem import AllChem

    mol = Chem.AddHs(Chem.MolFromSmiles("CCOC(=O)c1ccccc1"))
    AllChem.EmbedMolecule(mol, randomSeed=1)
    collapsed = Chem.Mol(mol)
    for i in range(collapsed.GetNumAtoms()):
        collapsed.GetConformer().SetAtomPosition(i, (0.0, 0.0, 0.0))
    empty = "empty\n     RDKit          3D\n\n  0  0  0  0  0  0  0  0  0  0999 V2000\nM  END\n"
    blocks = [
        Chem.MolToMolBlock(mol),
        empty,
        Chem.MolToMolBlock(collapsed),
        Chem.MolToMolBlock(mol),
    ]
    path.write_text("".join(b + "$$$$\n" for b in blocks))


def test_bad_sdf_records_are_reported_and_the_run_goes_on(tiny_model, tmp_path, capsys):
    """A 0-atom record is reported on stderr (one line) and skipped; the other records,
    coincident input atoms included (conformers come from the graph), get conformers."""
    sdf, out = tmp_path / "in.sdf", tmp_path / "out.sdf"
    _sdf_with_bad_records(sdf)
    assert _run(tiny_model, out, "--sdf", str(sdf)) == 0
    err = capsys.readouterr().err
    assert "molecule 1 (empty)" in err and "no atoms" in err and "Traceback" not in err
    indices = sorted({int(m.GetProp("input_index")) for m in read_sdf(out)})
    assert indices == [0, 2, 3]


def test_only_bad_smiles_lines_exit_2_without_output(tiny_model, tmp_path, capsys):
    """A .smi file whose every line is unparsable: exit 2 naming the file, no SDF written."""
    smi, out = tmp_path / "bad.smi", tmp_path / "out.sdf"
    smi.write_text("C1CC(\nxyz\n")
    assert _run(tiny_model, out, "--smiles-file", str(smi)) == 2
    assert "none of the input molecules could be read" in capsys.readouterr().err
    assert not out.exists()


def test_oversized_molecule_is_refused_quickly(tiny_model, tmp_path, capsys):
    """A 200-carbon chain (ETKDG did not finish it in 180 s) is refused at once with one line
    naming the limit; nothing is written."""
    out = tmp_path / "out.sdf"
    assert _run(tiny_model, out, "--smiles", "C" * 200) == 2
    assert "more than the 150 molgen embeds" in capsys.readouterr().err
    assert not out.exists()
