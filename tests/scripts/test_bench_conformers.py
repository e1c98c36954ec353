"""scripts/bench_conformers.py runs end to end on a few val molecules with a tiny model."""

from __future__ import annotations

import json

import torch
from rdkit import Chem

from molgen.models import TorsionScoreNetwork, TorsionScoreNetworkConfig, save
from tests.conftest import DATA_DIR
from tests.scripts.script_loader import load_script


def _bench():
    return load_script("bench_conformers")


def test_bench_reports_every_method_and_group(tmp_path, capsys):
    """--n 5 --k 2: JSON with 4 methods x {all, rotatable, rigid}; molgen gives output for
    every molecule and every conformer passes the molecule checks."""
    torch.manual_seed(0)
    config = TorsionScoreNetworkConfig(hidden_irreps="8x0e + 2x1o + 2x1e + 2x0o", num_layers=1)
    save(TorsionScoreNetwork(config), tmp_path / "model")
    split = str(DATA_DIR / "qm9_split.npz")
    argv = ["--n", "5", "--k", "2", "--steps", "3", "--model", str(tmp_path / "model"),
            "--device", "cpu", "--quiet", "--split-file", split]  # fmt: skip
    assert _bench().main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"molgen", "molgen_mmff", "etkdg", "etkdg_mmff", "settings"}
    assert report["settings"]["n"] == 5
    for method in ("molgen", "molgen_mmff", "etkdg", "etkdg_mmff"):
        row = report[method]
        assert row["all"]["molecules"] == 5
        assert row["rotatable"]["molecules"] + row["rigid"]["molecules"] == 5
        assert 0 <= row["all"]["coverage_0.25"] <= row["all"]["coverage_0.5"] <= 1
        assert row["seconds_per_molecule"] > 0
    assert report["molgen"]["all"]["failure_rate"] == 0
    assert report["molgen"]["checks_pass_rate"] == 1.0


def test_egfr_set_groups_by_rotatable_bonds(tmp_path, capsys):
    """--set egfr --n 4: the drug-like ligands of rdkit's egfr.sdf, every molecule in exactly
    one rotatable-bond bin, coverage thresholds 1.5 and 1.0 A, output for every molecule."""
    torch.manual_seed(0)
    config = TorsionScoreNetworkConfig(hidden_irreps="8x0e + 2x1o + 2x1e + 2x0o", num_layers=1)
    save(TorsionScoreNetwork(config), tmp_path / "model")
    argv = ["--set", "egfr", "--n", "4", "--k", "2", "--steps", "2", "--model",
            str(tmp_path / "model"), "--device", "cpu", "--quiet"]  # fmt: skip
    assert _bench().main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["settings"]["set"] == "egfr" and report["settings"]["n"] == 4
    bins = [name for name in report["molgen"] if name.startswith("rot_")]
    assert sum(report["molgen"][name]["molecules"] for name in bins) == 4
    row = report["molgen"]["all"]
    assert 0 <= row["coverage_1.0"] <= row["coverage_1.5"] <= 1
    assert row["failure_rate"] == 0


def test_egfr_reference_rmsd_is_zero_and_mmff_moves_it():
    """Each egfr pose has min-RMSD 0 to itself; MMFF-minimising it (relaxed_copies) keeps it
    close (a force-field-minimised pose) but not identical (another force field)."""
    bench = _bench()
    mol = next(iter(Chem.SDMolSupplier(str(bench.egfr_file()), removeHs=False)))
    assert bench.min_rmsd(mol, mol) < 1e-6
    (relaxed,), seconds = bench.relaxed_copies([mol])
    assert 1e-3 < bench.min_rmsd(relaxed, mol) < 1.0
    assert seconds > 0


def test_min_rmsd_of_the_reference_itself_is_zero():
    """min_rmsd(mol, mol) = 0 for a QM9 molecule and its own DFT conformer."""
    from molgen.datasets.qm9 import QM9Molecules

    mol = QM9Molecules(DATA_DIR / "qm9_split.npz", "val", limit=1, seed=0)[0]
    assert _bench().min_rmsd(mol, mol) < 1e-6
