"""Tests for molgen.sample.blueprint_prior: element-wise rescaling, drawing by length, and the
bundled library's statistics against the train chains it was built from."""

from __future__ import annotations

from itertools import groupby

import numpy as np
import pytest

from molgen.io import load_chain_set
from molgen.io.blueprint import blueprint_from_dssp
from molgen.sample.blueprint_prior import BlueprintLibrary, draw_blueprints, rescale_blueprint


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
    a = draw_blueprints([100] * 200 + [5000], seed=1)
    assert a == draw_blueprints([100] * 200 + [5000], seed=1)
    assert a != draw_blueprints([100] * 200 + [5000], seed=2)
    assert all(len(bp) == 100 for bp in a[:200]) and a[200] is None
    strand = "".join(a[:200]).count("E") / 20000
    assert 0.15 < strand < 0.35
