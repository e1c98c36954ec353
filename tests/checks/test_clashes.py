"""Tests for molgen.checks.clashes: non-local CA contacts and heavy-atom overlaps."""

from __future__ import annotations

import numpy as np

from molgen.checks.clashes import (
    VDW_RADII,
    ca_clashes,
    cb_crowding,
    cb_crowding_distance,
    heavy_atom_clashes,
    virtual_cb,
)


def _line(n: int, step: float = 3.8) -> np.ndarray:
    """n CA positions on the x axis, ``step`` apart."""
    return np.stack([np.arange(n) * step, np.zeros(n), np.zeros(n)], -1)


def _brute_force(atoms: np.ndarray, mask: np.ndarray, hbond: float = 0.6) -> np.ndarray:
    """All-pairs reference: residues with an atom pair (|i-j| >= 3) overlapping >= 0.4 A."""
    limit = VDW_RADII[:, None] + VDW_RADII[None, :] - 0.4
    limit[0, 3] -= hbond
    limit[3, 0] -= hbond
    n = len(atoms)
    d = np.linalg.norm(atoms[:, None, :, None] - atoms[None, :, None, :], axis=-1)  # [L,L,4,4]
    far = np.abs(np.arange(n)[:, None] - np.arange(n)[None]) >= 3
    ok = mask[:, None, :, None] & mask[None, :, None, :] & far[:, :, None, None]
    return ((d <= limit) & ok).any((1, 2, 3))


def test_ca_contact_needs_three_residue_separation():
    """CA 2.9 A from CA(i+3) clashes both; the same contact with i+2, or at 3.1 A, does not."""
    ca = _line(6)
    ca[3] = ca[0] + [2.9, 0.0, 0.0]
    present = np.ones(6, dtype=bool)
    np.testing.assert_array_equal(np.flatnonzero(ca_clashes(ca, present)), [0, 3])
    ca[3] = ca[0] + [3.1, 0.0, 0.0]
    assert not ca_clashes(ca, present).any()
    ca = _line(6)
    ca[2] = ca[0] + [0.0, 2.0, 0.0]
    assert not ca_clashes(ca, present).any()


def test_masked_residue_never_clashes():
    """A masked residue sitting on another is ignored (coordinates may be anything)."""
    ca = _line(8)
    ca[6] = ca[0]
    present = np.ones(8, dtype=bool)
    assert ca_clashes(ca, present)[[0, 6]].all()
    present[6] = False
    assert not ca_clashes(ca, present).any()


def test_overlap_threshold_and_hydrogen_bond_allowance():
    """C...C at 2.9 A (overlap 0.5) clashes; N...O at 2.5 A (an H-bond, overlap 0.57) does not."""
    atoms = np.zeros((5, 4, 3))
    atoms[:, :, 0] = np.arange(5)[:, None] * 50.0 + np.arange(4)[None, :] * 10.0  # far apart
    mask = np.ones((5, 4), dtype=bool)
    assert not heavy_atom_clashes(atoms, mask).any()
    atoms[4, 1] = atoms[0, 2] + [0.0, 2.9, 0.0]  # CA(4) near C(0)
    np.testing.assert_array_equal(np.flatnonzero(heavy_atom_clashes(atoms, mask)), [0, 4])
    atoms[4, 1] = atoms[0, 2] + [0.0, 3.1, 0.0]  # overlap 0.3: no clash
    assert not heavy_atom_clashes(atoms, mask).any()
    atoms[4, 3] = atoms[0, 0] + [0.0, 2.5, 0.0]  # O(4) near N(0)
    assert not heavy_atom_clashes(atoms, mask).any()
    atoms[4, 3] = atoms[0, 0] + [0.0, 2.0, 0.0]  # closer than 2.07 A: clash
    assert heavy_atom_clashes(atoms, mask)[[0, 4]].all()


def test_matches_all_pairs_reference_on_a_perturbed_real_chain(val_chain):
    """The pruned search finds exactly the residues an all-pairs search finds."""
    atoms = val_chain.atoms.copy()
    rng = np.random.default_rng(0)
    atoms += rng.normal(0.0, 0.6, atoms.shape)  # creates many contacts of every atom type
    mask = rng.random(atoms.shape[:2]) > 0.05
    expected = _brute_force(atoms, mask)
    assert 5 < expected.sum() < len(atoms)
    np.testing.assert_array_equal(heavy_atom_clashes(atoms, mask), expected)


def test_real_chains_have_no_ca_clashes_and_few_overlaps(val_chains):
    """Val chains: no CA-CA contact < 3 A at |i-j| >= 3; heavy-atom clashes in < 0.5% residues."""
    heavy = []
    for chain in val_chains:
        mask = np.ones(chain.atoms.shape[:2], dtype=bool)
        assert not ca_clashes(chain.atoms[:, 1], mask[:, 1]).any(), chain.pdb_id
        heavy.append(heavy_atom_clashes(chain.atoms, mask))
    assert np.concatenate(heavy).mean() < 0.005


def _crowding_brute_force(atoms: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """All-pairs reference: residues whose virtual C-beta is < 3.0 A from N, CA, C, O or the
    virtual C-beta of a residue >= 3 apart (C-beta only where N, CA and C are present)."""
    n = len(atoms)
    has_cb = mask[:, :3].all(-1)
    cb = virtual_cb(atoms)
    points = np.concatenate([atoms, cb[:, None]], 1)
    present = np.concatenate([mask, has_cb[:, None]], 1)
    out = np.zeros(n, dtype=bool)
    for i in np.flatnonzero(has_cb):
        for j in range(n):
            if abs(i - j) >= 3:
                d = np.linalg.norm(points[j][present[j]] - cb[i], axis=-1)
                out[i] |= bool((d < 3.0).any())
    return out


def test_cb_crowding_matches_all_pairs_reference_on_a_perturbed_real_chain(val_chain):
    """The pruned search flags exactly the residues an all-pairs search flags, masked atoms
    included; the real chain itself has few crowded residues, the perturbed one many."""
    atoms = val_chain.atoms.copy()
    mask = np.ones(atoms.shape[:2], dtype=bool)
    assert cb_crowding(atoms, mask).mean() < 0.05
    rng = np.random.default_rng(1)
    atoms += rng.normal(0.0, 0.6, atoms.shape)
    mask = rng.random(atoms.shape[:2]) > 0.05
    expected = _crowding_brute_force(atoms, mask)
    assert 5 < expected.sum() < len(atoms)
    np.testing.assert_array_equal(cb_crowding(atoms, mask), expected)


def test_cb_crowding_threshold_and_separation(val_chain):
    """A residue's C-beta 2.9 A from the CA of a residue 3 away is crowded (that residue is not,
    its own C-beta being elsewhere); at 3.1 A, or 2 residues away, it is not."""
    atoms = val_chain.atoms[:12].copy()
    mask = np.ones(atoms.shape[:2], dtype=bool)
    cb = virtual_cb(atoms)
    far = atoms.copy()
    far[6:] += 100.0  # residues 6-11 out of reach of 0-5
    base = cb_crowding(far, mask)

    def moved(k: int, distance: float) -> np.ndarray:
        out = far.copy()
        out[k] += cb[0] + [distance, 0.0, 0.0] - far[k, 1]  # residue k's CA near CB(0)
        return out

    hit = cb_crowding(moved(6, 2.9), mask)
    assert hit[0] and not base[0]
    assert not cb_crowding(moved(6, 3.1), mask)[0] or base[0]
    assert cb_crowding(far, mask)[0] == cb_crowding(moved(2, 2.9), mask)[0] == base[0]


def test_cb_crowding_distance_is_the_nearest_non_local_point(val_chain):
    """On a jittered real chain with masked atoms: within the reach, each residue's distance is
    the all-pairs minimum over the non-local N, CA, C, O and C-beta; beyond it, inf."""
    rng = np.random.default_rng(2)
    atoms = val_chain.atoms + rng.normal(0.0, 0.3, val_chain.atoms.shape)
    mask = rng.random(atoms.shape[:2]) > 0.05
    has_cb = mask[:, :3].all(-1)
    cb = virtual_cb(np.where(mask[..., None], atoms, np.nan))
    points = np.concatenate([np.where(mask[..., None], atoms, np.nan), cb[:, None]], 1)
    n = len(atoms)
    far = np.abs(np.arange(n)[:, None] - np.arange(n)[None]) >= 3
    d = np.linalg.norm(cb[:, None, None] - points[None], axis=-1)  # [L, L, 5]
    d = np.where(far[..., None] & np.isfinite(d), d, np.inf).min((1, 2))
    got = cb_crowding_distance(atoms, mask, reach=5.0)
    expected = np.where(has_cb & (d < 5.0), d, np.inf)
    near = np.isfinite(expected)
    assert near.sum() > n // 2
    np.testing.assert_allclose(got[near], expected[near], atol=1e-12)
    assert np.isinf(got[~near]).all()
