"""Conformer sampler: counts, SDF fields, stereo, rigid molecules, failures, seeds, oracle."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rdkit import Chem
from rdkit.Chem import rdForceFieldHelpers, rdMolTransforms
from torch import nn

from molgen.checks.molecule import check_conformers
from molgen.chem.conformers import seed_conformers, stereo_labels
from molgen.datasets.qm9 import QM9Molecules
from molgen.diffusion.torus import TorusDiffuser, wrap_angle
from molgen.geometry.torsions import rotatable_bonds, torsion_angles
from molgen.io.molecules import read_sdf, read_smiles
from molgen.models import TorsionScoreNetwork, TorsionScoreNetworkConfig
from molgen.sample.conformers import (
    ConformerResult,
    InputFailure,
    _plain_seeds,
    _repair,
    default_start_time,
    molecule_seed,
    read_smiles_lenient,
    sample_conformers,
    write_conformers,
)
from tests.conftest import DATA_DIR

INPUTS = {
    "ibuprofen": "CC(C)Cc1ccc(cc1)[C@@H](C)C(=O)O",
    "hexene": "C/C=C/C[C@H](C)CO",
    "benzene": "c1ccccc1",
}
NUM = 3


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    config = TorsionScoreNetworkConfig(hidden_irreps="8x0e + 2x1o + 2x1e + 2x0o", num_layers=1)
    return TorsionScoreNetwork(config)


@pytest.fixture(scope="module")
def mols():
    return [read_smiles(smi, name) for name, smi in INPUTS.items()]


@pytest.fixture(scope="module")
def results(model, mols):
    return sample_conformers(model, mols, NUM, steps=4, seed=5, progress=False)


def test_every_molecule_gets_num_conformers_in_input_hydrogen_convention(results, mols):
    """No error; NUM conformers each; inputs without Hs give outputs without Hs."""
    for result, mol in zip(results, mols, strict=True):
        assert result.error is None
        assert result.mol.GetNumConformers() == NUM
        assert result.mol.GetNumAtoms() == mol.GetNumAtoms()
        assert all(record["checks_passed"] for record in result.checks)


def test_stereo_of_input_is_kept_in_every_conformer(results, mols):
    """R/S of the chiral centres and E/Z of the double bond, from 3D, equal the input's."""
    for result, mol in zip(results[:2], mols[:2], strict=True):
        wanted = stereo_labels(mol)
        assert wanted  # the inputs do specify stereo
        for conf in result.mol.GetConformers():
            found = stereo_labels(result.mol, from_3d=True, conf_id=conf.GetId())
            assert {k: found.get(k) for k in wanted} == wanted


def test_molecule_without_rotatable_bond_returns_its_seed_conformers(results, mols):
    """Benzene: the output equals seed_conformers(mol, NUM, molecule_seed(seed, index)), each
    MMFF94-minimised (500 iterations), and the minimisation moved the seeds."""
    seeds = seed_conformers(mols[2], NUM, molecule_seed(5, 2))
    raw = Chem.RemoveHs(seeds)
    rdForceFieldHelpers.MMFFOptimizeMoleculeConfs(seeds, numThreads=1, maxIters=500)
    seeds = Chem.RemoveHs(seeds)
    moved = [
        np.abs(seeds.GetConformer(k).GetPositions() - raw.GetConformer(k).GetPositions()).max()
        for k in range(NUM)
    ]
    assert min(moved) > 1e-3
    assert results[2].method == "seed" and results[0].method == "diffusion"
    for conf in results[2].mol.GetConformers():
        expected = seeds.GetConformer(conf.GetId()).GetPositions()
        assert np.allclose(conf.GetPositions(), expected, atol=1e-6)


def test_sdf_records_carry_name_index_and_conformer_id(results, tmp_path):
    """One record per conformer with input_name, input_index, conformer_id, checks flag."""
    path = write_conformers(results, tmp_path / "out.sdf")
    records = read_sdf(path)
    assert len(records) == NUM * len(INPUTS)
    got = [
        (r.GetProp("input_name"), r.GetIntProp("input_index"), r.GetIntProp("conformer_id"))
        for r in records
    ]
    expected = [(name, i, k) for i, name in enumerate(INPUTS) for k in range(NUM)]
    assert got == expected
    assert all(r.GetProp("molgen_checks_passed") == "1" for r in records)


def test_bad_smiles_line_is_a_per_molecule_error(model, tmp_path):
    """A file with one unparsable line: that entry fails with its line named, others sample."""
    path = tmp_path / "in.smi"
    path.write_text("CCO ethanol\nC1CC(\nCCCC butane\n")
    entries = read_smiles_lenient(path)
    assert isinstance(entries[1], InputFailure)
    results = sample_conformers(model, entries, 2, steps=2, progress=False)
    assert [r.error is None for r in results] == [True, False, True]
    assert "line 2" in results[1].error
    assert results[2].mol.GetNumConformers() == 2


def test_same_seed_gives_same_coordinates(model, mols, results):
    """Rerunning the same inputs with seed 5 reproduces every coordinate; seed 6 does not."""
    again = sample_conformers(model, mols, NUM, steps=4, seed=5, progress=False)
    other = sample_conformers(model, mols, NUM, steps=4, seed=6, progress=False)
    first = np.stack([c.GetPositions() for c in results[0].mol.GetConformers()])
    second = np.stack([c.GetPositions() for c in again[0].mol.GetConformers()])
    third = np.stack([c.GetPositions() for c in other[0].mol.GetConformers()])
    assert np.array_equal(first, second)
    assert not np.allclose(first, third)


class PointMassScore(nn.Module):
    """Exact score of the noised marginal of a point mass at torsions theta0 (one molecule)."""

    def __init__(self, theta0):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(()))
        self.theta0 = theta0

    def forward(self, data, sigma):
        theta = torsion_angles(data.pos.double(), data.torsion_index)
        target = self.theta0.repeat(data.num_graphs)
        return TorusDiffuser.kernel_score(wrap_angle(theta - target), sigma).to(data.pos.dtype)


@pytest.mark.parametrize("ode", [False, True])
def test_reverse_process_with_exact_score_recovers_dft_torsions(ode):
    """With the score of a point mass at the DFT torsions, samples end at those torsions."""
    references = QM9Molecules(DATA_DIR / "qm9_split.npz", "val", limit=60, seed=2)
    mol = next(m for m in references if len(rotatable_bonds(m)) >= 2)
    quads = rotatable_bonds(mol)
    theta0 = torsion_angles(torch.as_tensor(mol.GetConformer().GetPositions()), quads)
    result = sample_conformers(
        PointMassScore(theta0), [mol], 4, steps=20, seed=0, ode=ode, progress=False
    )[0]
    for conf in result.mol.GetConformers():
        theta = torsion_angles(torch.as_tensor(conf.GetPositions()), quads)
        # sigma_min = 0.01 pi: final spread ~0.03 rad; the uniform prior is ~pi away.
        assert wrap_angle(theta - theta0).abs().max() < 0.15


class ZeroScore(nn.Module):
    """Score 0 for every torsion: the probability-flow ODE then keeps every torsion where the
    run starts."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(()))

    def forward(self, data, sigma):
        return data.pos.new_zeros(len(data.torsion_index))


def largest_seed_turns(mols, **settings) -> list[float]:
    """Per molecule, the largest change (radians) of a rotatable torsion between the sampler's
    own MMFF-relaxed seeds (same embedding seeds) and its output under a zero score."""
    results = sample_conformers(
        ZeroScore(), mols, 6, steps=10, ode=True, progress=False, **settings
    )
    turns = []
    for index, (mol, result) in enumerate(zip(mols, results, strict=True)):
        seeds = _plain_seeds(mol, 6, molecule_seed(0, index))
        quads = rotatable_bonds(seeds)
        out = Chem.AddHs(result.mol, addCoords=True)
        turns.append(
            max(
                float(
                    wrap_angle(
                        torsion_angles(torch.as_tensor(c.GetPositions()), quads)
                        - torsion_angles(torch.as_tensor(s.GetPositions()), quads)
                    )
                    .abs()
                    .max()
                )
                for c, s in zip(out.GetConformers(), seeds.GetConformers(), strict=True)
            )
        )
    return turns


def test_partial_run_starts_from_the_seed_torsions():
    """start_time 0.1 (sigma about 0.05 rad): with a zero score and the ODE, every torsion ends
    within a few sigma of the sampler's own MMFF-relaxed seed (the same embedding seed); from
    start_time 1 (the uniform prior) they end far from it. A start_time outside (0, 1] is
    refused."""
    mol = read_smiles(INPUTS["ibuprofen"], "ibuprofen")
    assert largest_seed_turns([mol], start_time=0.1)[0] < 0.3
    assert largest_seed_turns([mol], start_time=1.0)[0] > 1.0
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="start_time"):
            sample_conformers(ZeroScore(), [mol], 2, start_time=bad, progress=False)


def test_default_start_time_goes_by_molecule_size():
    """Unset, the start time is 1 up to QM9's 9 heavy atoms and 0.1 above, per molecule of
    one call: the 8-heavy-atom hexenol turns far from its seeds (uniform prior), ibuprofen
    (15 heavy atoms) stays within a few sigma(0.1) = 0.05 rad of them."""
    hexenol = read_smiles(INPUTS["hexene"], "hexene")
    ibuprofen = read_smiles(INPUTS["ibuprofen"], "ibuprofen")
    assert [default_start_time(m) for m in (hexenol, ibuprofen)] == [1.0, 0.1]
    small, large = largest_seed_turns([hexenol, ibuprofen])
    assert small > 1.0
    assert large < 0.3


def test_seed_that_mmff_breaks_keeps_its_embedding(model):
    """qm9_126495 (an oxotetrazine-like ring): MMFF94 puckers its aromatic ring in every seed,
    so the sampler keeps those seeds as embedded and every output conformer passes the
    checks (with plain MMFF relaxation of the seeds none would)."""
    mol = read_smiles("CCc1nonnc1=O", "qm9_126495")
    seeds = seed_conformers(mol, NUM, molecule_seed(0, 0))
    rdForceFieldHelpers.MMFFOptimizeMoleculeConfs(seeds, numThreads=1, maxIters=500)
    assert not any(r["checks_passed"] for r in check_conformers(seeds, reference=mol))
    [result] = sample_conformers(model, [mol], NUM, steps=3, progress=False)
    assert all(record["checks_passed"] for record in result.checks)


def test_clashing_conformer_is_repaired_by_mmff_and_the_others_are_left_alone():
    """Tetraethylene glycol with every torsion eclipsed (0) folds onto itself and fails the
    clash check; the repair step MMFF94-minimises only that conformer, which then passes and
    is counted, and leaves the passing one as it was."""
    mol = read_smiles("OCCOCCOCCOCCO", "tetraethylene_glycol")
    clashing = seed_conformers(mol, 2, molecule_seed(0, 0))
    for quad in rotatable_bonds(clashing).tolist():
        rdMolTransforms.SetDihedralRad(clashing.GetConformer(1), *quad, 0.0)
    result = ConformerResult(0, "peg", checks=check_conformers(clashing, reference=mol))
    assert [r["failed_checks"] for r in result.checks] == [[], ["internal_clash"]]
    untouched = clashing.GetConformer(0).GetPositions()
    _repair(clashing, result, mol)
    assert result.repaired == 1
    assert all(r["checks_passed"] for r in result.checks)
    assert all(r["checks_passed"] for r in check_conformers(clashing, reference=mol))
    np.testing.assert_array_equal(clashing.GetConformer(0).GetPositions(), untouched)
