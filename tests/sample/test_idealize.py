"""Tests for molgen.sample.idealize: restrained idealisation of backbone covalent geometry."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from molgen.checks import check_backbone
from molgen.checks.backbone import (
    MAX_BOND_ANGLE_OUTLIER_FRACTION,
    MAX_BOND_LENGTH_OUTLIER_FRACTION,
    MAX_HEAVY_ATOM_CLASH_FRACTION,
)
from molgen.geometry import (
    backbone_dihedrals,
    backbone_from_frames,
    frames_from_backbone,
    random_rotation,
    rotvec_to_matrix,
)
from molgen.sample import idealize
from molgen.sample.idealize import CIS_CA_CA, TRANS_CA_CA, idealize_backbone


def _rms(a: np.ndarray, b: np.ndarray) -> float:
    """RMS distance (A) over N, CA, C atoms of two ``[L, 4, 3]`` backbones."""
    return float(np.sqrt(((a[:, :3] - b[:, :3]) ** 2).sum(-1).mean()))


def _perturbed(backbone: np.ndarray, seed: int = 0) -> np.ndarray:
    """Each residue moved rigidly (4 deg rotation, 0.25 A shift per axis, random), like a
    network that predicts each frame on its own; O rebuilt from the next N."""
    atoms = torch.tensor(backbone)
    g = torch.Generator().manual_seed(seed)
    rot, x = frames_from_backbone(atoms[:, 0], atoms[:, 1], atoms[:, 2])
    length = len(atoms)
    turn = rotvec_to_matrix(torch.randn(length, 3, generator=g, dtype=torch.float64) * 0.07)
    shift = 0.25 * torch.randn(length, 3, generator=g, dtype=torch.float64)
    _, psi, _ = backbone_dihedrals(atoms)
    return backbone_from_frames(turn @ rot, x + shift, torch.nan_to_num(psi)).numpy()


def _dihedral_error(a: np.ndarray, b: np.ndarray) -> float:
    """Mean |phi| and |psi| difference (radians) between two backbones."""
    phi_a, psi_a, _ = backbone_dihedrals(torch.tensor(a))
    phi_b, psi_b, _ = backbone_dihedrals(torch.tensor(b))
    errors = []
    for u, w in ((phi_a, phi_b), (psi_a, psi_b)):
        d = torch.remainder(u - w + math.pi, 2 * math.pi) - math.pi
        errors.append(torch.nanmean(d.abs()))
    return float(sum(errors) / 2)


def test_planar_peptide_distances():
    """Trans and cis CA-CA of Engh & Huber geometry: 3.8 and 2.8-2.9 A (PDB values)."""
    assert TRANS_CA_CA == pytest.approx(3.80, abs=0.03)
    assert CIS_CA_CA == pytest.approx(2.85, abs=0.06)


def test_real_chains_barely_move_and_keep_cis_peptides(val_backbones):
    """PDB chains already have ideal geometry: < 0.1 A RMS move (median), no new bond
    outliers, and the cis peptides among them stay cis."""
    chains = val_backbones[:20]
    length = max(len(c) for c in chains)
    atoms = torch.zeros(len(chains), length, 4, 3, dtype=torch.float64)
    mask = torch.zeros(len(chains), length, dtype=torch.bool)
    for i, chain in enumerate(chains):
        atoms[i, : len(chain)], mask[i, : len(chain)] = torch.tensor(chain), True
    out = idealize_backbone(atoms, mask).numpy()
    moves, n_cis = [], 0
    for i, chain in enumerate(chains):
        ideal = out[i, : len(chain)]
        before, after = check_backbone(chain), check_backbone(ideal)
        moves.append(_rms(ideal, chain))
        n_cis += before["n_cis_peptides"]
        assert after["n_cis_peptides"] == before["n_cis_peptides"]
        assert after["bond_length_outlier_fraction"] <= before["bond_length_outlier_fraction"]
    assert np.median(moves) < 0.1
    assert n_cis > 0  # the set really contains cis peptides


def test_idealization_repairs_a_perturbed_chain(val_backbones):
    """Residues of a real chain moved independently (the network's failure mode): a fifth of
    the bonds and a third of the angles are outliers; after idealisation none are, the atoms
    are closer to the real chain, and phi/psi are no further from it."""
    real = val_backbones[1]
    noisy = _perturbed(real)
    out = idealize_backbone(torch.tensor(noisy, dtype=torch.float32)[None])[0].double().numpy()
    before, after = check_backbone(noisy), check_backbone(out)
    assert before["bond_length_outlier_fraction"] > 0.1
    assert before["bond_angle_outlier_fraction"] > 0.1
    assert after["bond_length_outlier_fraction"] <= MAX_BOND_LENGTH_OUTLIER_FRACTION
    assert after["bond_angle_outlier_fraction"] <= MAX_BOND_ANGLE_OUTLIER_FRACTION
    assert _rms(out, real) < _rms(noisy, real) - 0.05
    assert _dihedral_error(out, real) < _dihedral_error(noisy, real) + 0.02
    assert out.dtype == np.float64 and np.isfinite(out).all()


def test_idealization_is_equivariant(val_backbones):
    """Rotating and translating the input moves the output the same way (float32, 1e-4 A)."""
    noisy = torch.tensor(_perturbed(val_backbones[2][:60], seed=1), dtype=torch.float32)
    rot = random_rotation(generator=torch.Generator().manual_seed(0)).float()
    shift = torch.tensor([12.0, -7.0, 3.0])
    out = idealize_backbone(noisy[None])[0]
    moved = idealize_backbone((noisy @ rot.T + shift)[None])[0]
    assert (moved - (out @ rot.T + shift)).abs().max() < 1e-4


def test_padding_and_gaps(val_backbones, monkeypatch):
    """Two chains padded into one batch give their own results; masked residues (NaN padding,
    a gap inside a chain) come back untouched and no peptide bond is made across the gap."""
    a = _perturbed(val_backbones[3][:50], seed=2)
    b = _perturbed(val_backbones[4][:70], seed=3)
    alone = [idealize_backbone(torch.tensor(x)[None])[0] for x in (a, b)]
    atoms = torch.full((2, 70, 4, 3), float("nan"), dtype=torch.float64)
    atoms[0, :50], atoms[1] = torch.tensor(a), torch.tensor(b)
    mask = torch.zeros(2, 70, dtype=torch.bool)
    mask[0, :50], mask[1] = True, True
    out = idealize_backbone(atoms, mask)
    torch.testing.assert_close(out[0, :50], alone[0], atol=1e-3, rtol=0)
    torch.testing.assert_close(out[1], alone[1], atol=1e-3, rtol=0)
    assert torch.isnan(out[0, 50:]).all()

    gap = mask[1].clone()
    gap[30] = False
    out = idealize_backbone(atoms[1:], gap[None])[0]
    assert torch.equal(out[30], atoms[1, 30])
    # Without the contact term (which rightly still acts between the two sides), each side of
    # the gap is idealised on its own: the same as cutting the chain there.
    monkeypatch.setattr(idealize, "CONTACT_OVERLAP", 10.0)
    out = idealize_backbone(atoms[1:], gap[None])[0]
    first = idealize_backbone(atoms[1:, :30])[0]
    torch.testing.assert_close(out[:30], first, atol=1e-3, rtol=0)


def test_idealization_keeps_the_input_dihedrals(val_backbones, monkeypatch):
    """The bond corrections are not paid for in phi/psi: on the perturbed chain they stay
    within a few degrees of the input's (mean |change| under 3 degrees). The Ramachandran
    term, which moves strained residues on purpose (its own test below), is off here."""
    monkeypatch.setattr(idealize, "RAMA_SIGMA", 1e9)
    noisy = _perturbed(val_backbones[5][:80], seed=4)
    out = idealize_backbone(torch.tensor(noisy)[None])[0].numpy()
    assert _dihedral_error(out, noisy) < math.radians(3.0)


def test_idealization_pushes_non_local_atoms_apart(val_backbones, monkeypatch):
    """A real chain shrunk to 70% has backbone atoms >= 3 residues apart overlapping. Regrowing
    its bonds with the fold held makes that worse unless the contact term pushes them apart:
    with it no residue has a CA clash and the heavy-atom clash check passes, without it
    (CONTACT_OVERLAP so large that no limit is positive) many residues clash."""
    squeezed = torch.tensor(val_backbones[4][:100] * 0.7)[None]
    before = check_backbone(squeezed[0].numpy())
    assert before["ca_clash_fraction"] > 0.1 and before["heavy_atom_clash_fraction"] > 0.3
    out = check_backbone(idealize_backbone(squeezed)[0].numpy())
    assert out["ca_clash_fraction"] == 0.0
    assert out["heavy_atom_clash_fraction"] <= MAX_HEAVY_ATOM_CLASH_FRACTION
    monkeypatch.setattr(idealize, "CONTACT_OVERLAP", 10.0)
    out = check_backbone(idealize_backbone(squeezed)[0].numpy())
    assert out["ca_clash_fraction"] > 0.1 and out["heavy_atom_clash_fraction"] > 0.3


def test_fixed_residues_do_not_move(val_backbones):
    """Residues marked ``fixed`` (here exact PDB residues inside a perturbed chain, like a
    placed motif) come back bit-identical, all four atoms, while the others are idealised
    and move; the chain passes the bond-length check."""
    backbone = val_backbones[0][:40]
    noisy = torch.tensor(_perturbed(backbone, seed=3))[None]
    noisy[0, 10:20] = torch.tensor(backbone[10:20])
    fixed = torch.zeros(1, 40, dtype=torch.bool)
    fixed[0, 10:20] = True
    out = idealize_backbone(noisy, fixed=fixed)
    assert torch.equal(out[0, 10:20], noisy[0, 10:20])
    assert (out[0, :10] - noisy[0, :10]).abs().max() > 0.01
    record = check_backbone(out[0].numpy())
    assert record["bond_length_outlier_fraction"] <= MAX_BOND_LENGTH_OUTLIER_FRACTION


def test_free_residues_pressed_into_fixed_ones_are_moved_out(val_backbones, monkeypatch):
    """A real chain with residues 10-29 fixed and a free loop residue pushed 1.2 A into the
    fixed part: the free residues touching the fixed ones are tethered loosely, so the
    contact term clears the overlap (no pair under the clash check's limits); tethered as
    firmly as the rest (``_touching`` finding nothing) the overlap stays."""
    from molgen.checks.clashes import clash_limits

    backbone = val_backbones[0][:60].copy()
    fixed = torch.zeros(1, 60, dtype=torch.bool)
    fixed[0, 10:30] = True
    atoms = torch.tensor(backbone)
    d = torch.cdist(atoms[40:60, 1], atoms[10:30, 1])
    k, m = divmod(int(d.argmin()), 20)
    free, held = 40 + k, 10 + m
    toward = atoms[held, 1] - atoms[free, 1]
    shift = toward * (1 - 3.0 / float(toward.norm()))  # CA-CA from d to 3.0 A
    pushed = atoms.clone()
    pushed[free] += shift
    limits = torch.tensor(clash_limits())

    def worst(out: torch.Tensor) -> float:
        gaps = torch.cdist(out[free], out[held]) - limits
        return float(gaps.min())

    assert worst(pushed) < -0.3
    out = idealize_backbone(pushed[None], fixed=fixed)[0]
    assert torch.equal(out[10:30], pushed[10:30])
    assert worst(out) > -0.05
    monkeypatch.setattr(idealize, "_touching", lambda start, targets, f: torch.zeros_like(f))
    firm = idealize_backbone(pushed[None], fixed=fixed)[0]
    assert worst(firm) < worst(out) - 0.1


def _turn_downstream(atoms: np.ndarray, k: int, angle: float) -> np.ndarray:
    """Residues after ``k`` turned by ``angle`` (radians) about the peptide bond C(k)-N(k+1),
    which changes omega(k) by that angle and nothing else."""
    out = atoms.copy()
    origin = atoms[k, 2]
    axis = atoms[k + 1, 0] - origin
    turn = rotvec_to_matrix(torch.tensor(axis / np.linalg.norm(axis) * angle)).numpy()
    out[k + 1 :] = (atoms[k + 1 :] - origin) @ turn.T + origin
    return out


def test_twisted_and_cis_like_peptides_get_trans_targets_without_phi_psi(val_backbones):
    """On a real chain every peptide is planar and keeps its cis/trans target; a peptide
    twisted to omega ~ 100 degrees, or set cis (omega ~ 10) and then pulled to a trans CA-CA,
    is restrained trans and loses its flanking phi/psi terms; a genuine cis one stays cis."""
    chain = val_backbones[0].astype(np.float64)
    k = len(chain) // 2

    def targets(atoms: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        ca_ca, planar = idealize._peptide_targets(torch.tensor(atoms)[None])
        return ca_ca[0], planar[0]

    ca_ca, planar = targets(chain)
    is_cis = np.isclose(ca_ca.numpy(), CIS_CA_CA)
    assert planar.all() and is_cis.sum() == check_backbone(chain)["n_cis_peptides"]
    assert not is_cis[k]
    omega = float(backbone_dihedrals(torch.tensor(chain)[None])[2][0, k])
    twisted = _turn_downstream(chain, k, math.radians(100.0) - omega)
    cis = _turn_downstream(chain, k, math.radians(10.0) - omega)
    stretched = cis.copy()
    step = cis[k + 1, 1] - cis[k, 1]
    stretched[k + 1 :] += step / np.linalg.norm(step) * (4.0 - np.linalg.norm(step))
    for atoms, want_cis, want_planar in ((twisted, False, False), (cis, True, True),
                                         (stretched, False, False)):  # fmt: skip
        ca_ca, planar = targets(atoms)
        assert bool(planar[k]) is want_planar and planar.sum() == len(planar) - (not want_planar)
        assert float(ca_ca[k]) == pytest.approx(CIS_CA_CA if want_cis else TRANS_CA_CA)
        assert np.isclose(ca_ca.numpy(), CIS_CA_CA).sum() == is_cis.sum() + want_cis


def test_ramachandran_term_is_the_shipped_map_smoothly_interpolated(val_backbones):
    """At bin centres the term's log density is the shipped grid's; its gradient is the
    finite difference's; it is zero for nearly every real residue (98% are favoured) and
    positive for every outlier."""
    from molgen.checks import classify_ramachandran
    from molgen.checks.ramachandran import load_ramachandran
    from molgen.evaluation import phi_psi

    density, thresholds = load_ramachandran()
    n = density.shape[0]
    centres = torch.tensor([-math.pi + (k + 0.5) * 2 * math.pi / n for k in (3, 20, 50)])
    phi, psi = torch.meshgrid(centres, centres, indexing="ij")
    energy = idealize.ramachandran_energy(phi.double(), psi.double())
    level = np.log(thresholds[0]) + idealize.RAMA_MARGIN
    grid = np.log(np.maximum(density[np.ix_([3, 20, 50], [3, 20, 50])], 1e-12))
    want = 0.5 * np.clip(level - grid, 0, None) ** 2 / idealize.RAMA_SIGMA**2
    assert np.allclose(energy.numpy(), want, rtol=1e-5, atol=1e-6)

    point = torch.tensor([-1.2, 2.9], dtype=torch.float64, requires_grad=True)
    value = idealize.ramachandran_energy(point[0], point[1])
    (grad,) = torch.autograd.grad(value, point)
    step = 1e-6
    for k in range(2):
        shift = torch.zeros(2, dtype=torch.float64)
        shift[k] = step
        up = idealize.ramachandran_energy(*(point.detach() + shift))
        down = idealize.ramachandran_energy(*(point.detach() - shift))
        assert abs(float((up - down) / (2 * step)) - float(grad[k])) < 1e-4 * (1 + abs(grad[k]))

    phis, psis = zip(*(phi_psi(atoms) for atoms in val_backbones[:40]), strict=True)
    phi, psi = np.concatenate(phis), np.concatenate(psis)
    ok = np.isfinite(phi) & np.isfinite(psi)
    energy = idealize.ramachandran_energy(torch.tensor(phi[ok]), torch.tensor(psi[ok])).numpy()
    region = classify_ramachandran(phi[ok], psi[ok])
    assert np.mean(energy == 0) > 0.93
    assert (energy[region == 2] > 0).all()


def test_ramachandran_term_moves_strained_residues_into_the_favoured_region(
    val_backbones, monkeypatch
):
    """A real chain perturbed harder than a network's output (8 deg, 0.4 A per residue):
    idealisation with the term ends with more favoured residues than without it
    (RAMA_SIGMA huge turns it off), moving the atoms no further from the input."""
    from molgen.checks import classify_ramachandran
    from molgen.evaluation import phi_psi

    atoms = torch.tensor(val_backbones[7][:90])
    g = torch.Generator().manual_seed(5)
    rot, x = frames_from_backbone(atoms[:, 0], atoms[:, 1], atoms[:, 2])
    turn = rotvec_to_matrix(torch.randn(len(atoms), 3, generator=g, dtype=torch.float64) * 0.14)
    shift = 0.4 * torch.randn(len(atoms), 3, generator=g, dtype=torch.float64)
    _, psi, _ = backbone_dihedrals(atoms)
    noisy = backbone_from_frames(turn @ rot, x + shift, torch.nan_to_num(psi))

    def favoured(out: torch.Tensor) -> float:
        region = classify_ramachandran(*phi_psi(out.numpy()))
        return float(np.mean(region[region >= 0] == 0))

    with_term = idealize_backbone(noisy[None])[0]
    monkeypatch.setattr(idealize, "RAMA_SIGMA", 1e9)
    without = idealize_backbone(noisy[None])[0]
    assert favoured(with_term) > favoured(without) + 0.05
    assert _rms(with_term.numpy(), noisy.numpy()) < _rms(without.numpy(), noisy.numpy()) + 0.15
