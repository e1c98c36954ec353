"""Numerics of molgen.checks.molecule_geometry: pair classes, bounds, thresholds, planes."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import rdDistGeom
from scipy.spatial.transform import Rotation

from molgen.checks.molecule_geometry import (
    MoleculeTopology,
    build_topology,
    distance_geometry_checks,
    flatness_checks,
    plane_deviations,
)


def _mol(smiles: str) -> Chem.Mol:
    return Chem.AddHs(Chem.MolFromSmiles(smiles))


@pytest.mark.parametrize(
    ("smiles", "counts"),
    [("CCC", (2, 1, 0)), ("CCCC", (3, 2, 1)), ("C1CC1", (3, 0, 0)), ("CC(C)(C)C", (4, 6, 0))],
)
def test_pair_classes_count_heavy_bonds_angles_and_others(smiles, counts):
    """Heavy-atom pairs split into bonds, 1-3 pairs (not bonded) and the rest; no hydrogens."""
    topo = build_topology(_mol(smiles))
    assert (len(topo.bonds), len(topo.angles), len(topo.others)) == counts


def test_bounds_are_rdkit_distance_geometry_bounds():
    """Without terminal conjugated groups the bounds are RDKit's smoothed DG bounds."""
    mol = _mol("CC(C)Cc1ccccc1")
    topo = build_topology(mol)
    raw = rdDistGeom.GetMoleculeBoundsMatrix(mol, set15bounds=True, doTriangleSmoothing=True)
    i, j = np.triu_indices(mol.GetNumAtoms(), 1)
    np.testing.assert_array_equal(topo.upper[i, j], raw[i, j])
    np.testing.assert_array_equal(topo.lower[i, j], raw[j, i])
    np.testing.assert_array_equal(topo.lower, topo.lower.T)


def test_carboxylate_bonds_get_the_union_of_their_bounds():
    """Acetate's two C-O bonds share [min lower, max upper] of their Kekule bounds."""
    mol = _mol("CC(=O)[O-]")
    raw = rdDistGeom.GetMoleculeBoundsMatrix(mol, set15bounds=True, doTriangleSmoothing=True)
    topo = build_topology(mol)
    lows, highs = [raw[o, 1] for o in (2, 3)], [raw[1, o] for o in (2, 3)]
    assert lows[0] != lows[1]  # the Kekule form gives C=O and C-O different bounds
    for o in (2, 3):
        assert topo.lower[1, o] == min(lows) and topo.upper[1, o] == max(highs)


def _two_atoms(kind: str, lower: float, upper: float) -> MoleculeTopology:
    bounds = np.array([[0.0, upper], [upper, 0.0]]), np.array([[0.0, lower], [lower, 0.0]])
    pair, none = np.array([[0, 1]]), np.zeros((0, 2), dtype=int)
    classes = {name: pair if name == kind else none for name in ("bonds", "angles", "others")}
    return MoleculeTopology(**classes, lower=bounds[1], upper=bounds[0], flat_rings=[],
                            flat_double_bonds=[])  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "key", "distance", "passes"),
    [
        ("bonds", "bond_lengths", 0.76 * 1.5, True),
        ("bonds", "bond_lengths", 0.74 * 1.5, False),
        ("bonds", "bond_lengths", 1.24 * 1.6, True),
        ("bonds", "bond_lengths", 1.26 * 1.6, False),
        ("angles", "bond_angles", 0.76 * 1.5, True),
        ("angles", "bond_angles", 0.74 * 1.5, False),
        ("angles", "bond_angles", 1.24 * 1.6, True),
        ("angles", "bond_angles", 1.26 * 1.6, False),
        ("others", "internal_clash", 0.71 * 1.5, True),
        ("others", "internal_clash", 0.69 * 1.5, False),
        ("others", "internal_clash", 50.0, True),
    ],
)
def test_thresholds_widen_bounds_by_25_percent_and_clash_at_70_percent(kind, key, distance, passes):
    """Bonds and 1-3 pairs pass within [0.75 l, 1.25 u]; other pairs clash below 0.7 l
    (l = 1.5 A, u = 1.6 A), and a far pair never clashes."""
    positions = np.array([[0.0, 0.0, 0.0], [distance, 0.0, 0.0]])
    assert distance_geometry_checks(_two_atoms(kind, 1.5, 1.6), positions)[key] is passes


def test_bond_ratio_diagnostics():
    """bond_length_min_ratio = d / l and bond_length_max_ratio = d / u for the one bond."""
    record = distance_geometry_checks(
        _two_atoms("bonds", 1.5, 1.6), np.array([[0, 0, 0], [2.2, 0, 0.0]])
    )
    assert record["bond_length_min_ratio"] == pytest.approx(2.2 / 1.5)
    assert record["bond_length_max_ratio"] == pytest.approx(2.2 / 1.6)
    assert record["num_bad_bonds"] == 1 and record["clash_min_ratio"] is None


def test_plane_deviation_zero_for_rotated_planar_points():
    """Points of a plane, rotated and translated, lie at distance 0 from their fitted plane."""
    rng = np.random.default_rng(0)
    points = np.c_[rng.normal(size=(7, 2)), np.zeros(7)]
    moved = points @ Rotation.random(random_state=1).as_matrix().T + [3.0, -1.0, 2.0]
    np.testing.assert_allclose(plane_deviations(moved), 0.0, atol=1e-12)


def test_plane_deviation_is_unsigned():
    """Equilateral triangle at z = 0 plus its centre at z = h: by symmetry the plane is
    z = h/4, so deviations are h/4 (x3) and 3h/4, on whichever side."""
    h = 0.4
    angles = 2 * np.pi * np.arange(3) / 3
    points = np.r_[np.c_[np.cos(angles), np.sin(angles), np.zeros(3)], [[0.0, 0.0, h]]]
    moved = points @ Rotation.random(random_state=2).as_matrix().T
    np.testing.assert_allclose(plane_deviations(moved), [h / 4] * 3 + [3 * h / 4], atol=1e-12)


def test_flatness_counts_rings_and_double_bonds():
    """Styrene with explicit H: one aromatic ring, one C=C whose CH2 end has two explicit
    substituents; an exactly planar copy has zero deviation."""
    mol = _mol("C=Cc1ccccc1")
    topo = build_topology(mol)
    assert len(topo.flat_rings) == 1 and len(topo.flat_double_bonds) == 1
    flat = np.c_[np.random.default_rng(3).normal(size=(mol.GetNumAtoms(), 2)), np.zeros(16)]
    record = flatness_checks(topo, flat)
    assert record["aromatic_ring_flatness"] and record["double_bond_flatness"]
    assert record["aromatic_ring_max_deviation"] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    ("smiles", "checked"),
    [("C1CC=CCC1", 1), ("C=C1CCC2CCCCC2C1", 1), ("C1CCC2=CCCCC2C1", 0), ("C1=CC2CCC1CC2", 0)],
)
def test_only_double_bonds_without_a_ring_fusion_carbon_are_flat_systems(smiles, checked):
    """A C=C is a flat system unless one of its carbons is in two or more of RDKit's rings:
    cyclohexene and a methylene on a non-fusion carbon of decalin are checked; a C=C at the
    fusion atom of a hexahydronaphthalene, or in bicyclo[2.2.2]octene (symmetrised SSSR puts
    its bridge atoms in two rings), is not."""
    assert len(build_topology(_mol(smiles)).flat_double_bonds) == checked


def test_strained_fused_alkene_of_a_dft_minimum_is_not_flagged(tmp_path):
    """qm9_108699 (QM9 val): its DFT minimum has a C=C carbon shared by two rings 0.59 A out
    of the plane of the C=C system, which strain forces; that system is not checked, so the
    DFT geometry passes every check."""
    qm9 = pytest.importorskip("molgen.datasets.qm9")
    np.savez(tmp_path / "split.npz", train_index=np.array([1]), val_index=np.array([108699]))
    mol = qm9.QM9Molecules(tmp_path / "split.npz", "val")[0]
    pos = mol.GetConformer().GetPositions()
    (match,) = mol.GetSubstructMatches(Chem.MolFromSmarts("[C;X3;^2](*)(*)=[C;X3;^2](*)(*)"))
    assert plane_deviations(pos[list(match)]).max() > 0.5
    topo = build_topology(mol)
    assert topo.flat_double_bonds == []
    assert flatness_checks(topo, pos)["double_bond_flatness"]
    assert all(distance_geometry_checks(topo, pos)[k] for k in ("bond_lengths", "bond_angles"))
