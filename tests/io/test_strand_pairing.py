"""Strand pairing (molgen.io.strand_pairing) on real val chains: partners are real sheet
neighbours, the element pairing reads parallel and antiparallel ladders correctly, and the
centre-to-centre residue map recovers the real register."""

from __future__ import annotations

import numpy as np
import pytest

from molgen.io import load_chain_set
from molgen.io.blueprint import blueprint_from_dssp
from molgen.io.strand_pairing import (
    MAX_PARTNERS,
    PAIR_CA_CUTOFF,
    element_pairing,
    parse_pairing,
    partners_from_pairing,
    rule_pairing,
    strand_elements,
    strand_partners,
)


@pytest.fixture(scope="module")
def val_sheets(chain_set_path):
    """(CA [L, 3], blueprint) of the first 60 val chains with at least 15% strand."""
    chains = load_chain_set(chain_set_path, "val")
    out = []
    for c in range(len(chains.lengths)):
        blueprint = blueprint_from_dssp(str(chains.dssp[c]))
        if blueprint.count("E") >= 0.15 * len(blueprint):
            out.append((chains.atoms(c)[:, 1].astype(np.float64), blueprint))
        if len(out) == 60:
            break
    return out


def test_partners_are_close_strand_residues_of_real_sheets(val_sheets):
    """Partners are E residues within the cutoff and at least 3 apart in sequence; most strand
    residues of real sheets have one; the relation is symmetric for 90% of the links."""
    with_partner = strands = links = mutual = 0
    for ca, blueprint in val_sheets:
        partners = strand_partners(ca, blueprint)
        assert partners.shape == (len(blueprint), MAX_PARTNERS)
        for i, row in enumerate(partners):
            for j in row[row >= 0]:
                assert blueprint[i] == blueprint[j] == "E"
                assert abs(i - j) >= 3
                assert np.linalg.norm(ca[i] - ca[j]) <= PAIR_CA_CUTOFF
                links += 1
                mutual += i in partners[j]
        is_strand = np.array(list(blueprint)) == "E"
        strands += is_strand.sum()
        with_partner += (partners[is_strand, 0] >= 0).sum()
        assert (partners[~is_strand] == -1).all()
    assert with_partner / strands > 0.85
    assert mutual / links > 0.9


def test_element_pairing_reads_ladder_direction(val_sheets):
    """Residue partners of an element pair run against the sequence in antiparallel ladders
    and with it in parallel ones; both kinds occur in real chains."""
    kinds = set()
    for ca, blueprint in val_sheets:
        partners = strand_partners(ca, blueprint)
        elements = strand_elements(blueprint)
        for a, b, parallel in element_pairing(blueprint, partners):
            (a0, a1), (b0, b1) = elements[a], elements[b]
            pairs = [(i, j) for i in range(a0, a1 + 1) for j in partners[i] if b0 <= j <= b1]
            i, j = np.array(pairs).T
            if len(set(i.tolist())) > 2:
                assert (np.corrcoef(i, j)[0, 1] > 0) == parallel
            kinds.add(parallel)
    assert kinds == {True, False}


def test_element_pairing_calls_a_tie_antiparallel():
    """Two residues of strand 1 against one residue of strand 2 (residues 22, 23 and 41, as in a
    train chain whose least-squares slope came out +round-off with numpy 2.4) give no direction:
    antiparallel, exactly; a rising and a falling ladder are parallel and antiparallel."""
    blueprint = "L" * 20 + "E" * 6 + "L" * 14 + "E" * 6 + "L" * 4

    def pairing(pairs: list[tuple[int, int]]) -> list:
        partners = np.full((len(blueprint), MAX_PARTNERS), -1, dtype=np.int64)
        for i, j in pairs:
            partners[i, 0], partners[j, 0] = j, i
        return element_pairing(blueprint, partners)

    assert pairing([(22, 41), (23, 41)]) == [(0, 1, False)]
    assert pairing([(21, 41), (23, 43)]) == [(0, 1, True)]
    assert pairing([(21, 43), (23, 41)]) == [(0, 1, False)]


def test_centre_matched_register_is_near_the_real_one(val_sheets):
    """Rebuilding residue partners from the element pairing puts most real partners within one
    residue of a rebuilt one (0.67 of them on these chains)."""
    near = total = 0
    for ca, blueprint in val_sheets:
        real = strand_partners(ca, blueprint)
        rebuilt = partners_from_pairing(blueprint, element_pairing(blueprint, real))
        for i, row in enumerate(real):
            ours = rebuilt[i][rebuilt[i] >= 0]
            for j in row[row >= 0]:
                total += 1
                near += bool(len(ours)) and np.abs(ours - j).min() <= 1
    assert near / total > 0.6


def test_rule_pairing_and_bad_element_pairs():
    """The rule pairs neighbours (parallel across a helix); an element pair that is not there
    is a ValueError; pairing is symmetric and leaves loops alone."""
    blueprint = "LEEEEELLEEEEELLHHHHHHHLLEEEEEL"
    assert rule_pairing(blueprint) == [(0, 1, False), (1, 2, True)]
    partners = partners_from_pairing(blueprint, rule_pairing(blueprint))
    for i, row in enumerate(partners):
        for j in row[row >= 0]:
            assert i in partners[j]
    assert (partners[[c != "E" for c in blueprint]] == -1).all()
    assert rule_pairing("LLHHHHLL") == []
    with pytest.raises(ValueError, match="no strand pair"):
        partners_from_pairing(blueprint, [(0, 3, False)])


@pytest.mark.parametrize(
    ("tokens", "message"),
    [(["1-4A"], "strands 1-3"), (["2-2P"], "strands 1-3"), (["1-2X"], "like 1-2A"),
     (["1-2A", "2-1P"], "twice"), (["0-1A"], "strands 1-3")],
)  # fmt: skip
def test_parse_pairing_refuses_bad_tokens(tokens, message):
    """Tokens name strands from 1; unknown strands, self pairs, bad kinds, repeats are errors."""
    with pytest.raises(ValueError, match=message):
        parse_pairing(tokens, "LEEEEELLEEEEELLHHHHHHHLLEEEEEL")
    assert parse_pairing(["3-1p", "1-2A"], "LEEEEELLEEEEELLHHHHHHHLLEEEEEL") == [
        (0, 1, False),
        (0, 2, True),
    ]
