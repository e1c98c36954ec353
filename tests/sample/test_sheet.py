"""Tests for molgen.sample.sheet: ideal beta-sheets built from a blueprint and its pairing."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from molgen.checks.bonds import (
    ENGH_HUBER_ANGLES,
    ENGH_HUBER_LENGTHS,
    _angle,
    bond_angles,
    bond_lengths,
)
from molgen.checks.clashes import clash_limits
from molgen.evaluation import dssp_eight_state, phi_psi, three_state
from molgen.geometry import dihedral
from molgen.io.blueprint import blueprint_from_dssp
from molgen.io.strand_pairing import element_pairing, strand_elements, strand_partners
from molgen.sample.sheet import (
    ANTIPARALLEL_PHI_PSI,
    CB_CONTACT,
    PARALLEL_PHI_PSI,
    _hbond_energy,
    build_sheet,
    ideal_strand,
    register_pairs,
    sheet_order,
    virtual_cb,
)


def _in_chain(blueprint: str, sheet) -> np.ndarray:
    """The sheet's atoms at their positions in a chain of the blueprint's length, NaN
    elsewhere (DSSP then reads each strand as its own chain piece)."""
    atoms = np.full((len(blueprint), 4, 3), np.nan)
    atoms[list(sheet.positions)] = sheet.atoms
    return atoms


@pytest.mark.parametrize("parallel", [False, True])
def test_ideal_strand_has_ideal_geometry_and_beta_dihedrals(parallel):
    """Bonds and angles at Engh & Huber means, trans peptides, the strand's phi/psi, and the
    canonical pose: axis +y, centred, rise about 3.3 A per residue."""
    atoms = ideal_strand(8, parallel)
    present = np.ones(atoms.shape[:2], dtype=bool)
    lengths = bond_lengths(atoms, present)
    angles = bond_angles(atoms, present)
    assert np.allclose(np.nanmean(lengths, 0), ENGH_HUBER_LENGTHS[:, 0], atol=0.02)
    assert np.allclose(np.nanmean(angles, 0), ENGH_HUBER_ANGLES[:, 0], atol=math.radians(2))
    phi, psi = phi_psi(atoms)
    want = PARALLEL_PHI_PSI if parallel else ANTIPARALLEL_PHI_PSI
    assert np.allclose(np.degrees(phi[1:]), want[0], atol=0.1)
    assert np.allclose(np.degrees(psi[:-1]), want[1], atol=0.1)
    ca = atoms[:, 1]
    rise = (ca[-1, 1] - ca[0, 1]) / 7
    assert 3.0 < rise < 3.5
    assert abs(ca[:, 0]).max() < 0.5 and abs(ca[:, 1].mean()) < 1.0


def test_sheet_order_lays_pairs_out_as_paths():
    """Paths across each sheet, largest first; a third partner and a cycle's closing pair
    are dropped."""
    assert sheet_order([(0, 1, False), (1, 2, False), (0, 3, True)]) == [[2, 1, 0, 3]]
    assert sheet_order([(0, 1, False), (2, 3, False), (3, 4, False)]) == [[2, 3, 4], [0, 1]]
    assert sheet_order([(0, 1, False), (1, 2, False), (0, 2, False)]) == [[0, 1, 2]]
    star = sheet_order([(0, 1, False), (0, 2, False), (0, 3, False)])
    assert star == [[1, 0, 2]]
    assert sheet_order([]) == []


def test_register_pairs_match_hairpins_at_the_loop():
    """A short hairpin pairs its loop's flanking residues; a long-range pair is centred."""
    assert register_pairs("LEEEELLEEEEEEL", 0, 1, False)[-1] == (4, 7)
    centred = register_pairs("LEEEELLLLLLLLLEEEEEEL", 0, 1, False)
    assert centred == [(1, 18), (2, 17), (3, 16), (4, 15)]
    assert register_pairs("LEEELHHHHHHHHHLEEEL", 0, 1, True) == [(1, 15), (2, 16), (3, 17)]


@pytest.mark.parametrize(
    "blueprint, pairing",
    [
        ("LEEEEEELLEEEEEEL", [(0, 1, False)]),
        ("LEEEEEELLLHHHHHHHHHHLLLEEEEEEL", [(0, 1, True)]),
        ("LEEEEELLEEEEELLEEEEELLLLLLLLLEEEEEL", [(0, 1, False), (1, 2, False), (0, 3, False)]),
    ],
)
def test_built_sheets_are_ladders_dssp_reads(blueprint, pairing):
    """Every pair of neighbouring strands is a ladder: DSSP calls E on all strand residues
    but each strand's two ends (which it sees as chain ends here), the asked residue pairs
    sit 4.3-5.6 A apart, the hydrogen bonds hold, no backbone atoms of different strands
    clash (the clash check's limits), and no virtual C-beta pair across strands comes closer
    than 0.2 A under ``CB_CONTACT`` (the grid without its C-beta term packed the non-bonded
    pairs of antiparallel ladders at 3.3 A)."""
    sheet = build_sheet(blueprint, pairing)
    atoms = _in_chain(blueprint, sheet)
    states = three_state(dssp_eight_state(atoms))
    for start, end in strand_elements(blueprint):
        assert (states[start + 1 : end] == "E").all(), "".join(states)
    for a, b, parallel in pairing:
        for i, j in register_pairs(blueprint, a, b, parallel):
            assert 4.3 < np.linalg.norm(atoms[i, 1] - atoms[j, 1]) < 5.6
    pairs = sum(len(register_pairs(blueprint, a, b, p)) for a, b, p in pairing)
    assert sheet.energy / pairs < -1.5  # kcal/mol per residue pair; a DSSP bond is < -0.5
    elements = strand_elements(blueprint)
    limits = clash_limits()
    for u in range(len(elements)):
        for w in range(u + 1, len(elements)):
            (a0, a1), (b0, b1) = elements[u], elements[w]
            d = np.linalg.norm(atoms[a0 : a1 + 1, None, :, None] - atoms[None, b0 : b1 + 1, None],
                               axis=-1)  # fmt: skip
            assert (d > limits).all()
            cb = virtual_cb(atoms)
            d = np.linalg.norm(cb[a0 : a1 + 1, None] - cb[None, b0 : b1 + 1], axis=-1)
            assert d.min() > CB_CONTACT - 0.2


def test_virtual_cb_is_a_tetrahedral_l_carbon(val_backbones):
    """On an ideal strand (Engh & Huber N-CA-C) the virtual C-beta is 1.52-1.54 A from CA at
    N-CA-CB and C-CA-CB angles of 109-112 degrees; on every residue of a real val chain it
    lies on the L side (N-C-CA-CB dihedral 115-130 degrees, the ideal L value 122.5), 1.53 A
    from CA at the median."""
    atoms = ideal_strand(8, parallel=False)
    n, ca, c, cb = atoms[:, 0], atoms[:, 1], atoms[:, 2], virtual_cb(atoms)
    assert np.allclose(np.linalg.norm(cb - ca, axis=-1), 1.53, atol=0.01)
    for other in (n, c):
        angle = np.degrees(_angle(other, ca, cb))
        assert np.all((angle > 109) & (angle < 112))
    atoms = val_backbones[0]
    n, ca, c, cb = atoms[:, 0], atoms[:, 1], atoms[:, 2], virtual_cb(atoms)
    assert abs(np.median(np.linalg.norm(cb - ca, axis=-1)) - 1.53) < 0.05
    improper = np.degrees(dihedral(*(torch.from_numpy(p) for p in (n, c, ca, cb))).numpy())
    assert np.all((improper > 115) & (improper < 130))


def test_a_real_sheet_is_rebuilt_with_real_spacing(val_backbones):
    """From the DSSP blueprint and element pairing of a real val chain, the largest sheet is
    rebuilt as ladders: DSSP reads E on at least 80% of its residues but the strand ends
    (in a chain holding only the sheet, where they are chain ends), and its asked residue
    pairs have the median CA distance of the real chain's partners within 0.4 A."""
    for atoms in val_backbones:
        blueprint = blueprint_from_dssp("".join(dssp_eight_state(atoms)))
        partners = strand_partners(atoms[:, 1], blueprint)
        pairing = element_pairing(blueprint, partners)
        if len(pairing) >= 3:
            break
    sheet = build_sheet(blueprint, pairing)
    assert sheet is not None and len(sheet.positions) >= 12
    built = _in_chain(blueprint, sheet)
    states = three_state(dssp_eight_state(built))
    inner = [i for i in sheet.positions if i - 1 in sheet.positions and i + 1 in sheet.positions]
    assert np.mean(states[inner] == "E") >= 0.8
    i, k = np.nonzero(partners >= 0)
    real = np.median(np.linalg.norm(atoms[i, 1] - atoms[partners[i, k], 1], axis=-1))
    asked = [
        pair
        for a, b, parallel in pairing
        for pair in register_pairs(blueprint, a, b, parallel)
        if pair[0] in sheet.positions and pair[1] in sheet.positions
    ]
    i, j = np.array(asked).T
    made = np.median(np.linalg.norm(built[i, 1] - built[j, 1], axis=-1))
    assert abs(made - real) < 0.4


def test_hbond_energy_matches_mdtraj_on_a_real_chain(val_backbones):
    """The DSSP energy summed over a real chain's residue pairs >= 3 apart agrees with
    mdtraj's Kabsch-Sander matrix (which caps each bond at -9.9 and drops those above -0.5:
    compared over the bonds mdtraj keeps)."""
    import mdtraj as md

    from molgen.evaluation import _topology

    atoms = val_backbones[3][:60]
    top = _topology(["GLY"] * len(atoms), np.r_[True, np.zeros(len(atoms) - 1, bool)])
    traj = md.Trajectory((atoms.reshape(1, -1, 3) / 10).astype(np.float32), top)
    ks = md.kabsch_sander(traj)[0].toarray()  # [acceptor, donor], kcal/mol
    acceptors, donors = np.nonzero(ks)
    ours = [
        _hbond_energy(atoms[a : a + 1], atoms[d - 1 : d + 1])
        for d, a in zip(donors, acceptors, strict=True)
    ]
    assert len(ours) > 10
    assert np.allclose(ours, np.maximum(ks[acceptors, donors], -3.0), atol=0.05)


def test_no_sheet_without_pairs_of_long_enough_strands():
    assert build_sheet("LLHHHHHHHHLL", []) is None
    assert build_sheet("LEELLLEEL", [(0, 1, False)]) is None


def test_a_strand_its_loop_cannot_reach_is_dropped():
    """Strands 2 and 3 are joined by a 2-residue loop but pair on either side of strand 1,
    about 10 A apart: one of them is dropped and every loop left can span its gap."""
    blueprint = "LEEEEELLLLLLLLLLLLLEEEEELLEEEEEL"
    sheet = build_sheet(blueprint, [(0, 1, False), (0, 2, False)])
    elements = strand_elements(blueprint)
    kept = {k for k, (start, _) in enumerate(elements) if start in sheet.positions}
    assert len(kept) == 2 and 0 in kept
    atoms = _in_chain(blueprint, sheet)
    rows = sorted(sheet.positions)
    for u, w in zip(rows[:-1], rows[1:], strict=True):
        if w > u + 1:
            assert np.linalg.norm(atoms[u, 1] - atoms[w, 1]) <= 0.7 * 3.8 * (w - u)
