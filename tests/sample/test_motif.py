"""Tests for molgen.sample.motif: motif scaffolding by replacement and partial diffusion, on
the motif cut from data/examples/1s3v.pdb and the bundled backbone model (few steps)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from molgen.diffusion import SE3Diffuser
from molgen.errors import InputError
from molgen.evaluation import tm_score
from molgen.geometry import Frames, random_rotation, rmsd
from molgen.io import read_structure
from molgen.models import load
from molgen.sample import sample_backbones
from molgen.sample.contig import Contig, extract_motif
from molgen.sample.motif import MotifGuide, read_conditioning, replace_motif

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "examples" / "1s3v.pdb"
CONTIG = "4-8/A20-35/5-10/A50-58/4-8"


@pytest.fixture(scope="module")
def network():
    return load("backbone", device="cpu")


@pytest.fixture(scope="module")
def motif():
    return extract_motif(read_structure(EXAMPLE), Contig.parse(CONTIG), str(EXAMPLE))


def _motif_rmsd(atoms: np.ndarray, positions, motif) -> float:
    """All-atom (N, CA, C, O) RMSD (A) after superposition of the output motif residues."""
    got = torch.tensor(atoms[np.asarray(positions) - 1]).reshape(-1, 3)
    return float(rmsd(got, torch.tensor(motif.atoms).reshape(-1, 3)))


def test_motif_atoms_come_out_where_they_went_in(network, motif):
    """Every sample holds the input motif's N, CA, C, O to 1e-3 A after superposition (the
    scaffold idealised around it), at the positions the contig layout gives, and reports the
    network's own motif CA RMSD."""
    samples = sample_backbones(
        network, num=3, contig=CONTIG, motif=str(EXAMPLE), steps=8, device="cpu",
        progress=False,
    )  # fmt: skip
    contig = Contig.parse(CONTIG)
    assert [s.index for s in samples] == [0, 1, 2]
    for sample in samples:
        placement = sample.motif
        spans = contig.layout(list(placement.scaffold_lengths))
        assert placement.positions == tuple(p for a, b in spans for p in range(a, b + 1))
        assert sample.length == len(sample.atoms) == 25 + sum(placement.scaffold_lengths)
        assert _motif_rmsd(sample.atoms, placement.positions, motif) < 1e-3
        assert placement.residues[0] == "A20" and placement.letters == motif.sequence
        assert 0 <= placement.ca_rmsd < 10


def test_harmonization_brings_the_network_motif_to_the_input(network):
    """The calls at min_t with the motif put back (motif_harmonize_steps) lower the network's
    own motif CA RMSD: same seed, 20 steps, 4 samples of the two-segment 1S3V motif."""
    rmsds = {}
    for calls in (0, 30):
        samples = sample_backbones(
            network, num=4, contig=CONTIG, motif=str(EXAMPLE), steps=20, device="cpu",
            progress=False, motif_harmonize_steps=calls,
        )  # fmt: skip
        rmsds[calls] = np.mean([s.motif.ca_rmsd for s in samples])
    assert rmsds[30] < 0.8 * rmsds[0]


def test_scaffold_lengths_follow_seed_and_length_range(network):
    """Scaffold lengths are drawn per sample from (seed, index): the same seed gives the same
    layouts, totals stay inside length_range."""
    settings = dict(contig=CONTIG, motif=str(EXAMPLE), steps=1, device="cpu", progress=False)
    a = sample_backbones(network, num=4, length_range=(44, 46), idealize=False, **settings)
    b = sample_backbones(network, num=4, length_range=(44, 46), idealize=False, **settings)
    assert [s.motif.scaffold_lengths for s in a] == [s.motif.scaffold_lengths for s in b]
    assert all(44 <= s.length <= 46 for s in a)


def test_replacement_follows_the_current_pose():
    """At a small time the replaced motif frames are the motif noised to t placed where the
    motif residues are now: a chain holding the motif rigidly moved (rotated, shifted 5 A)
    keeps it there, up to the marginal noise at t (RMS within 1.5x sqrt(3) sigma_t / c)."""
    motif = extract_motif(read_structure(EXAMPLE), Contig.parse("A20-35"), "x")
    atoms = torch.tensor(motif.atoms)
    turn = random_rotation(generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    moved = atoms[:, 1] @ turn.T + 5.0  # [16, 3]
    guide = MotifGuide.build(motif.atoms, [tuple(range(2, 18))], "cpu", torch.float64)
    x = torch.zeros(1, 20, 3, dtype=torch.float64)
    x[0, 2:18] = moved
    frames = Frames(torch.eye(3, dtype=torch.float64).expand(1, 20, 3, 3), x)
    diffuser = SE3Diffuser()
    out = replace_motif(frames, guide, diffuser, 0.01, torch.Generator().manual_seed(0))
    _, sigma = diffuser.r3.marginal(torch.tensor(0.01, dtype=torch.float64))
    expected = float(3**0.5 * sigma / diffuser.r3.scale)
    got = out.translations[0, 2:18]
    got = got - got.mean(0) + moved.mean(0)  # replace_motif re-centres the whole chain
    assert float((got - moved).square().sum(-1).mean().sqrt()) < 1.5 * expected


def test_stacked_motifs_of_different_sizes_replace_each_chain_its_own():
    """Two chains with motifs of 16 and 9 residues in one guide: each chain's motif rows get
    its own motif (placed on its current pose, up to the marginal noise at t), the shorter
    motif's repeats write the same frame as the residue they repeat, and residues outside
    the motifs keep their frames."""
    motif = extract_motif(read_structure(EXAMPLE), Contig.parse("A20-35"), "x")
    long_rows, short_rows = tuple(range(2, 18)), tuple(range(5, 14))
    guide = MotifGuide.stack(
        [(motif.atoms, long_rows), (motif.atoms[3:12], short_rows)], "cpu", torch.float64
    )
    assert guide.positions.shape == (2, 16) and guide.weights.sum().item() == 25
    x = torch.zeros(2, 20, 3, dtype=torch.float64)
    x[0, 2:18] = torch.tensor(motif.atoms[:, 1]) + 3.0
    x[1, 5:14] = torch.tensor(motif.atoms[3:12, 1]) - 4.0
    eye = torch.eye(3, dtype=torch.float64).expand(2, 20, 3, 3)
    frames = Frames(eye, x)
    diffuser = SE3Diffuser()
    out = replace_motif(frames, guide, diffuser, 0.01, torch.Generator().manual_seed(0))
    _, sigma = diffuser.r3.marginal(torch.tensor(0.01, dtype=torch.float64))
    expected = float(3**0.5 * sigma / diffuser.r3.scale)
    for row, rows in ((0, list(long_rows)), (1, list(short_rows))):
        got, want = out.translations[row, rows], x[row, rows]
        got = got - got.mean(0) + want.mean(0)
        assert float((got - want).square().sum(-1).mean().sqrt()) < 1.5 * expected
    outside = [r for r in range(20) if r not in short_rows]
    assert torch.equal(out.rotations[1, outside], eye[1, outside])
    assert not torch.equal(out.rotations[1, 13], eye[1, 13])


def test_partial_diffusion_keeps_input_length_and_fold(network):
    """Partial diffusion of 1S3V at t = 0.1: the input's length, a related fold (TM > 0.5),
    yet not the input itself; held motif residues come out exactly."""
    contig = "A20-35"
    samples = sample_backbones(
        network, num=2, input=str(EXAMPLE), partial_t=0.1, contig=contig, steps=20,
        device="cpu", progress=False,
    )  # fmt: skip
    source = read_structure(EXAMPLE)[0].atoms
    held = extract_motif(read_structure(EXAMPLE), Contig.parse(contig), "x")
    for sample in samples:
        assert sample.length == len(source)
        tm, _ = tm_score(sample.atoms, source)
        assert 0.5 < tm < 0.999
        assert sample.motif.positions == tuple(range(20, 36))
        assert sample.motif.scaffold_lengths is None
        assert _motif_rmsd(sample.atoms, sample.motif.positions, held) < 1e-3


@pytest.mark.parametrize(
    ("contig", "motif", "start", "message"),
    [(None, "m.pdb", None, "--motif needs --contig"),
     ("5/A20-30/5", None, None, "--contig needs --motif"),
     ("5/A20-30/5", str(EXAMPLE), str(EXAMPLE), "drop --motif"),
     ("5/A20-30", None, str(EXAMPLE), "motif residues only"),
     ("B1-5", None, str(EXAMPLE), "chain B is not in the input"),
     ("5/A300-305/5", str(EXAMPLE), None, "A300 is not in the file"),
     ("5/B1-5/5", str(EXAMPLE), None, "chain B not in the file")],
)  # fmt: skip
def test_conditioning_errors_are_input_errors(contig, motif, start, message):
    """Missing or conflicting files, scaffold segments with an input, absent residues and
    chains: one-line InputErrors."""
    with pytest.raises(InputError, match=message) as err:
        read_conditioning(contig, motif, start)
    assert "\n" not in str(err.value)


def test_join_motif_makes_junction_peptides_ideal_and_trans(val_backbones):
    """A motif placed into a chain whose neighbours sit wrongly (here shifted 1.5 A): after
    join_motif both junction peptides have C-N 1.336 A and trans CA-CA 3.80 A, and the motif
    atoms are untouched."""
    from molgen.checks.bonds import IDEAL_CA_CA
    from molgen.sample.motif import join_motif

    atoms = torch.tensor(val_backbones[0][:30])[None].clone()
    fixed = torch.zeros(1, 30, dtype=torch.bool)
    fixed[0, 10:20] = True
    atoms[0, 9] += torch.tensor([1.5, 0.0, 0.0], dtype=atoms.dtype)
    atoms[0, 20] -= torch.tensor([0.0, 1.5, 0.0], dtype=atoms.dtype)
    out = join_motif(atoms, fixed)[0]
    assert torch.equal(out[10:20], atoms[0, 10:20])
    for k in (9, 19):  # peptides k -> k + 1 at the two ends
        assert float((out[k, 2] - out[k + 1, 0]).norm()) == pytest.approx(1.336, abs=1e-3)
        assert float((out[k, 1] - out[k + 1, 1]).norm()) == pytest.approx(IDEAL_CA_CA, abs=0.05)
