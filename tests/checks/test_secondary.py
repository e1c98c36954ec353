"""Tests for molgen.checks.secondary: DSSP three-state assignment through mdtraj."""

from __future__ import annotations

import numpy as np

from molgen.checks.secondary import MISSING, dssp_states

THREE_STATE = str.maketrans("HGIEBTSC", "HHHEECCC")


def _reference(chain) -> np.ndarray:
    return np.array(list(chain.dssp.translate(THREE_STATE)))


def test_agrees_with_pdb_dssp_strings(val_chains):
    """On 30 val chains >= 85% of residues (mean) get the state of the shipped DSSP string."""
    agreement = []
    for chain in val_chains[:30]:
        mask = np.ones(chain.atoms.shape[:2], dtype=bool)
        states = dssp_states(chain.atoms, mask, chain.sequence)
        agreement.append(np.mean(states == _reference(chain)))
    assert np.mean(agreement) >= 0.85
    assert np.min(agreement) >= 0.7


def test_mirror_image_keeps_the_hydrogen_bond_pattern(val_chains):
    """DSSP reads hydrogen bonds only, which a reflection keeps: the mirror image gets the same
    states on > 90% of residues (a left-handed helix is still H). Handedness is left to the
    Ramachandran check."""
    chain = next(c for c in val_chains if c.dssp.count("H") > 30)
    mask = np.ones(chain.atoms.shape[:2], dtype=bool)
    states = dssp_states(chain.atoms, mask)
    mirrored = dssp_states(chain.atoms * np.array([-1.0, 1.0, 1.0]), mask)
    assert np.mean(states == mirrored) > 0.9


def test_missing_residue_is_a_chain_break(val_chain):
    """A masked residue gets MISSING; residues far from it keep their states."""
    atoms = val_chain.atoms.copy()
    mask = np.ones(atoms.shape[:2], dtype=bool)
    full = dssp_states(atoms, mask)
    k = len(atoms) // 2
    mask[k] = False
    atoms[k] = np.nan
    gapped = dssp_states(atoms, mask)
    assert gapped[k] == MISSING and MISSING not in np.delete(gapped, k)
    far = np.abs(np.arange(len(atoms)) - k) > 6
    assert np.mean(gapped[far] == full[far]) > 0.95


def test_coordinates_are_converted_to_nanometres(val_chain):
    """Coordinates read as nm would put every H-bond out of range: all coil. Ours do not."""
    mask = np.ones(val_chain.atoms.shape[:2], dtype=bool)
    states = dssp_states(val_chain.atoms, mask)
    assert set(states) <= {"H", "E", "C"}
    assert np.mean(states != "C") > 0.3
    assert set(dssp_states(val_chain.atoms * 10.0, mask)) == {"C"}


def test_blueprint_agreement_of_real_chains_with_their_own_dssp(chain_set_path):
    """On 20 real val chains the blueprint made from the shipped DSSP agrees with molgen's DSSP
    on >= 95% of residues on average (>= 85% in each); the same blueprint with H and E swapped
    agrees far less; X residues are not counted (all-X gives None)."""
    from molgen.checks.secondary import blueprint_agreement
    from molgen.io import load_chain_set
    from molgen.io.blueprint import blueprint_from_dssp

    chains = load_chain_set(chain_set_path, "val")
    swap = str.maketrans("HE", "EH")
    agreement = []
    for i in range(20):
        atoms, bp = chains.atoms(i), blueprint_from_dssp(str(chains.dssp[i]))
        own = blueprint_agreement(atoms, bp)
        agreement.append(own)
        assert own >= 0.85
        if bp.count("H") + bp.count("E") > 0.3 * len(bp):
            assert blueprint_agreement(atoms, bp.translate(swap)) < own - 0.2
        masked = "X" * (len(bp) // 2) + bp[len(bp) // 2 :]
        assert blueprint_agreement(atoms, masked) >= 0.85
        assert blueprint_agreement(atoms, "X" * len(bp)) is None
    assert np.mean(agreement) >= 0.95
