"""Tests for molgen.sample.contig: contig parsing (valid and invalid), length draws within
bounds, output layout, and motif extraction from a real PDB file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from molgen.errors import InputError
from molgen.io import read_structure
from molgen.sample.contig import Contig, MotifSegment, ScaffoldSegment, extract_motif

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "examples" / "1s3v.pdb"


def test_parse_rfdiffusion_contig():
    """10-25/A24-42/5-15/A60-68/10-25: five segments, motif 19 + 9 residues, bounds 53-93."""
    contig = Contig.parse("10-25/A24-42/5-15/A60-68/10-25")
    assert contig.segments == (
        ScaffoldSegment(10, 25), MotifSegment("A", 24, 42), ScaffoldSegment(5, 15),
        MotifSegment("A", 60, 68), ScaffoldSegment(10, 25),
    )  # fmt: skip
    assert contig.motif_length == 28 and contig.length_bounds() == (53, 93)
    assert str(contig) == "10-25/A24-42/5-15/A60-68/10-25"
    assert Contig.parse(" 5 / B7 / 0-3 ").segments == (
        ScaffoldSegment(5, 5), MotifSegment("B", 7, 7), ScaffoldSegment(0, 3),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [("10-25/A42-24", "ends before"), ("25-10/A1-5", "ends before"), ("10-25", "no motif"),
     ("10-25//A1-5", "bad segment ''"), ("AB1-5", "bad segment"), ("A1-5/x", "bad segment"),
     ("", "bad segment")],
)  # fmt: skip
def test_bad_contigs_are_one_line_input_errors(text, message):
    """Reversed ranges, no motif, empty or malformed segments: InputError naming --contig."""
    with pytest.raises(InputError, match=message) as err:
        Contig.parse(text)
    assert str(err.value).startswith("--contig:") and "\n" not in str(err.value)


def test_draw_lengths_respect_ranges_and_total():
    """1,000 draws: each scaffold length in its range, totals inside --length, all totals of
    the window reached; an impossible window is an InputError."""
    contig = Contig.parse("10-25/A24-42/5-15/A60-68/10-25")
    rng = np.random.default_rng(0)
    totals = set()
    for _ in range(1000):
        lengths = contig.draw_lengths(rng, (80, 85))
        assert 10 <= lengths[0] <= 25 and 5 <= lengths[1] <= 15 and 10 <= lengths[2] <= 25
        totals.add(28 + sum(lengths))
    assert totals == set(range(80, 86))
    with pytest.raises(InputError, match="allows 53-93"):
        contig.draw_lengths(rng, (100, 120))
    narrow = Contig.parse("0-400/A1-5/0-400")
    assert 5 + sum(narrow.draw_lengths(rng, (11, 11))) == 11


def test_layout_positions():
    """Motif segments land after the drawn scaffold lengths (1-based, inclusive)."""
    contig = Contig.parse("10-25/A24-42/5-15/A60-68/10-25")
    assert contig.layout([12, 7, 20]) == [(13, 31), (39, 47)]


def test_extract_motif_from_a_real_pdb():
    """A24-42/A60-68 of 1S3V: 28 residues in contig order, atoms equal to the file's, and
    missing chains or residues are InputErrors naming the file."""
    proteins = read_structure(EXAMPLE)
    contig = Contig.parse("10/A24-42/5/A60-68/10")
    motif = extract_motif(proteins, contig, str(EXAMPLE))
    chain = proteins[0]
    rows = [int(np.flatnonzero(chain.residue_numbers == n)[0]) for n in motif.numbers]
    assert motif.numbers == tuple(range(24, 43)) + tuple(range(60, 69))
    assert np.array_equal(motif.atoms, chain.atoms[rows])
    assert motif.sequence == "".join(chain.sequence[r] for r in rows)
    with pytest.raises(InputError, match="chain Z not in the file"):
        extract_motif(proteins, Contig.parse("Z1-5"), str(EXAMPLE))
    with pytest.raises(InputError, match="A9990 is not in the file"):
        extract_motif(proteins, Contig.parse("A9990-9999"), str(EXAMPLE))
