"""scripts/bench_score_molecules.py: decoy builders keep the graph and change what they claim."""

from __future__ import annotations

import json

import numpy as np
from rdkit import Chem

from molgen.datasets.qm9 import QM9Molecules
from molgen.geometry.torsions import rotatable_bonds
from tests.conftest import DATA_DIR
from tests.scoring.conftest import tiny_conformer_model  # noqa: F401
from tests.scripts.script_loader import load_script


def _molecules(n: int) -> list[Chem.Mol]:
    data = QM9Molecules(DATA_DIR / "qm9_split.npz", "val", limit=200, seed=0)
    out = []
    for i in range(len(data)):
        mol = data[i]
        Chem.AssignStereochemistryFrom3D(mol)
        if len(rotatable_bonds(mol)) and Chem.FindMolChiralCenters(mol):
            out.append(mol)
        if len(out) == n:
            break
    return out


def test_decoys_change_only_what_they_claim():
    """random_torsions keeps every bond length; wrong_stereo inverts the first centre's CIP
    label; all three keep the atom order and count."""
    bench = load_script("bench_score_molecules")
    for mol in _molecules(3):
        turned = bench.random_torsions(mol, np.random.default_rng(0))
        for bond in mol.GetBonds():
            i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
            a, b = mol.GetConformer().GetPositions(), turned.GetConformer().GetPositions()
            assert abs(np.linalg.norm(a[i] - a[j]) - np.linalg.norm(b[i] - b[j])) < 1e-6
        wrong = bench.wrong_stereo(mol, 0)
        assert wrong is not None and wrong.GetNumAtoms() == mol.GetNumAtoms()
        centre, label = Chem.FindMolChiralCenters(mol, useLegacyImplementation=False)[0]
        Chem.AssignStereochemistryFrom3D(wrong)
        flipped = dict(Chem.FindMolChiralCenters(wrong, useLegacyImplementation=False))
        assert flipped[centre] != label
        assert bench.etkdg_raw(mol, 0).GetNumAtoms() == mol.GetNumAtoms()


def test_bench_end_to_end(tiny_conformer_model, capsys):  # noqa: F811
    """--n 4 with a tiny model: JSON with an AUC in [0, 1] for every decoy class present."""
    report = load_script("bench_score_molecules").main(
        ["--n", "4", "--model", str(tiny_conformer_model)]
    )
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(report))
    assert report["n_molecules"] == 4 and "random_torsions" in report["decoys"]
    for row in report["decoys"].values():
        assert 0.0 <= row["auc"] <= 1.0 and 0.0 <= row["caught_by_checks"] <= 1.0
