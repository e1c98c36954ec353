"""Tests for molgen.sample.blueprint_prior: element-wise rescaling, drawing by length, and the
bundled library's statistics against the train chains it was built from."""

from __future__ import annotations

from itertools import groupby

import numpy as np
import pytest

from molgen.io import load_chain_set
from molgen.io.blueprint import blueprint_from_dssp
from molgen.io.strand_pairing import element_pairing, strand_elements, strand_partners
from molgen.sample.blueprint_prior import (
    BlueprintLibrary,
    draw_blueprints,
    rescale_blueprint,
    rescale_pairing,
)


def _runs(bp: str) -> list[tuple[str, int]]:
    return [(c, len(list(g))) for c, g in groupby(bp)]


@pytest.mark.parametrize("length", [40, 97, 150, 240])
def test_rescale_keeps_length_and_proportions(chain_set_path, length):
    """A real val blueprint rescaled to L has exactly L letters; each letter's count is within
    (its number of elements) of count * L / n (each element rounds by < 1 residue); when
    stretched, the elements are the same, in order, each within 1 residue of r_k L / n."""
    chains = load_chain_set(chain_set_path, "val")
    bp = blueprint_from_dssp(str(chains.dssp[3]))
    out = rescale_blueprint(bp, length)
    assert len(out) == length
    runs = _runs(bp)
    for c in "HEL":
        elements = sum(1 for letter, _ in runs if letter == c)
        assert abs(out.count(c) - bp.count(c) * length / len(bp)) <= max(elements, 1)
    if length >= len(bp):
        assert [c for c, _ in _runs(out)] == [c for c, _ in runs]
        got = [n for _, n in _runs(out)]
        assert np.allclose(got, [n * length / len(bp) for _, n in runs], atol=1.0)


def test_bundled_library_matches_the_filtered_train_chains(chain_set_path):
    """The bundled library holds the blueprints of the train chains of 60-256 residues with at
    most 50% loop, so its pooled H/E/L fractions equal those chains' (to 1e-6)."""
    library = BlueprintLibrary()
    chains = load_chain_set(chain_set_path, "train")
    kept = [blueprint_from_dssp(str(d)) for d in chains.dssp]
    kept = [b for b in kept if 60 <= len(b) <= 256 and b.count("L") <= 0.5 * len(b)]
    assert len(library) == len(kept)
    pooled, mine = "".join(kept), "".join(library.blueprints)
    for c in "HEL":
        assert abs(pooled.count(c) / len(pooled) - mine.count(c) / len(mine)) < 1e-6


def test_draws_are_seeded_of_the_right_length_and_strand_rich():
    """draw_blueprints: same seed same blueprints; each of the requested length; over 200 draws
    at L = 100 the strand fraction is near the library's (0.15-0.35), so sampling with them
    asks for beta structure; far lengths give None."""
    drawn = draw_blueprints([100] * 200 + [5000], seed=1)
    assert drawn == draw_blueprints([100] * 200 + [5000], seed=1)
    assert drawn != draw_blueprints([100] * 200 + [5000], seed=2)
    assert drawn[200] is None
    a = [d.blueprint for d in drawn[:200]]
    assert all(len(bp) == 100 for bp in a)
    strand = "".join(a).count("E") / 20000
    assert 0.15 < strand < 0.35


def test_drawn_pairings_are_real_sheet_topologies(chain_set_path):
    """The library's pairings are those of the chains' CA atoms (checked on 30 of them); drawn
    pairings name strand elements of the drawn blueprint; most strand-rich draws come with
    pairs, about a third of them parallel as in the train chains."""
    library = BlueprintLibrary()
    chains = load_chain_set(chain_set_path, "train")
    blueprints = [blueprint_from_dssp(str(d)) for d in chains.dssp]
    kept = [
        c for c, b in enumerate(blueprints) if 60 <= len(b) <= 256 and 2 * b.count("L") <= len(b)
    ]
    for row in range(0, 3000, 100):
        c = kept[row]
        bp = blueprints[c]
        partners = strand_partners(chains.atoms(c)[:, 1].astype(np.float64), bp)
        assert library.pairings[row] == element_pairing(bp, partners)
    drawn = [d for d in draw_blueprints([120] * 300, seed=0) if d.blueprint.count("E") > 20]
    paired = [d for d in drawn if d.pairing]
    assert len(paired) > 0.8 * len(drawn)
    kinds = [p for d in paired for _, _, p in d.pairing]
    assert 0.15 < np.mean(kinds) < 0.5
    for d in paired:
        count = len(strand_elements(d.blueprint))
        assert all(0 <= a < b < count for a, b, _ in d.pairing)


def test_rescaled_pairing_follows_elements_and_drops_vanished_ones():
    """Shrinking keeps pairs of surviving elements under their new numbers; an element that
    vanishes takes its pairs with it."""
    bp = "LEEEELLLLLLLLLLLLELLLLEEEEL"  # strands 0 and 2 long, strand 1 one residue
    pairing = [(0, 1, False), (0, 2, True)]
    assert rescale_pairing(bp, pairing, bp) == pairing
    small = rescale_blueprint(bp, 14)
    assert len(strand_elements(small)) == 2
    assert rescale_pairing(bp, pairing, small) == [(0, 1, True)]


def test_accept_redraws_rejected_blueprints_and_keeps_the_seed():
    """draw_blueprints(accept=...): every returned draw passes the test where the library has
    such chains (here: no strand residues), the draws are seeded, and with a test nothing can
    pass the MAX_DRAWS-th draw is kept (a blueprint of the right length, never None)."""
    helical = draw_blueprints([80] * 30, seed=3, accept=lambda d: "E" not in d.blueprint)
    assert all("E" not in d.blueprint for d in helical)
    assert helical == draw_blueprints([80] * 30, seed=3, accept=lambda d: "E" not in d.blueprint)
    plain = draw_blueprints([80] * 30, seed=3)
    assert sum("E" in d.blueprint for d in plain) >= 15  # the test really rejects draws
    never = draw_blueprints([80] * 3, seed=3, accept=lambda d: False)
    assert all(d is not None and len(d.blueprint) == 80 for d in never)
