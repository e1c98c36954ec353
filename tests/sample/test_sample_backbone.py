"""Tests for molgen.sample.backbone: the reverse process recovers a known target."""

from __future__ import annotations

import numpy as np
import torch

from molgen.checks import check_backbone
from molgen.checks.backbone import (
    MAX_BOND_ANGLE_OUTLIER_FRACTION,
    MAX_BOND_LENGTH_OUTLIER_FRACTION,
)
from molgen.checks.clashes import ca_clashes
from molgen.diffusion import SE3Diffuser
from molgen.geometry import center, frames_from_backbone, geodesic_distance, matrix_to_rotvec, rmsd
from molgen.sample import sample_backbones
from molgen.sample.backbone import _sample_batch as _sample_guided
from molgen.sample.config import BackboneSamplerConfig


def _settings(noise_scale=1.0, ode=False, restrain=False, idealize=False):
    """The exact reverse process (rotation score unscaled): 200 steps down to t = 0.01
    without restraint or idealisation, unless asked."""
    return BackboneSamplerConfig(
        steps=200, noise_scale=noise_scale, ode=ode, restrain=restrain, idealize=idealize,
        min_t=0.01, rotation_score_scale=1.0,
    )  # fmt: skip


def _sample_batch(*args, **kwargs):
    """The atoms of one batch (the sampler's private batch runner without a guide)."""
    return _sample_guided(*args, **kwargs)[0]


class ExactScoreModel(torch.nn.Module):
    """The exact score of a data distribution that is a single chain (a point mass).

    For a point mass at (R_0, x_0) the marginal score is the conditional one:
    trans = -c^2 (x_t - alpha_t x_0) / sigma_t^2 and rot = IGSO3 score of log(R_0^T R_t).
    Its "clean-frame prediction" is the current noisy frame, so the sampler's output is
    exactly where the reverse process ends, not a copy of the target.
    """

    def __init__(self, rot_0: torch.Tensor, x_0: torch.Tensor) -> None:
        super().__init__()
        self.diffuser = SE3Diffuser()
        self.rot_0, self.x_0 = rot_0, center(x_0)
        self.config = type("Config", (), {"self_condition": False})()

    def scores(self, R, x, t, mask, self_cond=None, *_):
        length = R.shape[1]
        rot_0, x_0 = self.rot_0[:length], self.x_0[:length]
        v = matrix_to_rotvec(rot_0.transpose(-1, -2) @ R)  # R = R_0 exp(v)
        sigma = self.diffuser.so3.sigma(t)[:, None].expand(R.shape[:2])
        trans = self.diffuser.r3.score(center(x, mask), x_0.expand_as(x), t)
        psi = torch.zeros(*R.shape[:2], 2, dtype=x.dtype)
        psi[..., 0] = 1.0
        return {
            "trans_score": trans * mask[..., None],
            "rot_score": self.diffuser.so3.kernel_score(v, sigma) * mask[..., None],
            "psi": psi, "x0": x, "R0": R,
        }  # fmt: skip


def _target(val_backbones, length=40):
    atoms = torch.tensor(val_backbones[0][:length], dtype=torch.float32)
    rot, x = frames_from_backbone(atoms[:, 0], atoms[:, 1], atoms[:, 2])
    return atoms, rot, x


def _noise_rmsd_at(model: ExactScoreModel, t: float) -> float:
    """Expected CA RMSD (Angstrom) of the marginal at t around the target: sqrt(3) sigma_t / c."""
    _, sigma = model.diffuser.r3.marginal(torch.tensor(t))
    return float(3**0.5 * sigma / model.diffuser.r3.scale)


def test_reverse_sde_with_exact_score_recovers_the_target(val_backbones):
    """With the exact score of a point mass, 200 SDE steps end at the target up to the
    marginal noise left at t_min (CA RMSD within 1.3x its expected value, ~0.8 A)."""
    atoms, rot, x = _target(val_backbones)
    model = ExactScoreModel(rot, x)
    expected = _noise_rmsd_at(model, 0.01)
    out = _sample_batch(model, [40, 40], _settings(), torch.Generator().manual_seed(0), "cpu")
    for sample in out:
        ca = torch.tensor(sample[:, 1], dtype=torch.float32)
        assert rmsd(ca, atoms[:, 1]) < 1.3 * expected
        r_s, _ = frames_from_backbone(*(torch.tensor(sample[:, k]).float() for k in range(3)))
        assert geodesic_distance(r_s, rot).median() < 0.3  # sigma(t_min) ~ 0.1 rad


def test_ode_with_exact_score_recovers_the_target(val_backbones):
    """The probability-flow ODE with the exact score lands on the target (the ODE transports the
    prior onto the marginal at t_min, so the same noise bound applies)."""
    atoms, rot, x = _target(val_backbones)
    out = _sample_batch(
        ExactScoreModel(rot, x), [40], _settings(ode=True), torch.Generator().manual_seed(1), "cpu"
    )
    expected = _noise_rmsd_at(ExactScoreModel(rot, x), 0.01)
    assert rmsd(torch.tensor(out[0][:, 1], dtype=torch.float32), atoms[:, 1]) < 1.3 * expected


def test_sample_backbones_lengths_seed_and_mixed_batches(val_backbones):
    """Lengths and counts as asked, finite atoms, same seed -> same chains, padding harmless."""
    _, rot, x = _target(val_backbones, length=60)
    model = ExactScoreModel(rot, x)
    kwargs = dict(steps=20, seed=3, progress=False)
    first = sample_backbones(model, [30, 60], 2, batch_size=4, **kwargs)
    again = sample_backbones(model, [30, 60], 2, batch_size=4, **kwargs)
    assert [(s.length, s.index) for s in first] == [(30, 0), (30, 1), (60, 0), (60, 1)]
    assert all(s.atoms.shape == (s.length, 4, 3) and np.isfinite(s.atoms).all() for s in first)
    assert all(np.array_equal(a.atoms, b.atoms) for a, b in zip(first, again, strict=True))
    other = sample_backbones(model, [30, 60], 2, batch_size=4, steps=20, seed=4, progress=False)
    assert not np.allclose(first[0].atoms, other[0].atoms)


def test_ranks_split_the_jobs(val_backbones):
    """Under torchrun each rank samples a disjoint share; together they cover every job."""
    _, rot, x = _target(val_backbones, length=30)
    model = ExactScoreModel(rot, x)
    shares = [
        sample_backbones(model, [20, 30], 3, steps=2, rank=r, world_size=2, progress=False)
        for r in range(2)
    ]
    jobs = [(s.length, s.index) for share in shares for s in share]
    assert sorted(jobs) == [(n, i) for n in (20, 30) for i in range(3)]
    assert not {(s.length, s.index) for s in shares[0]} & {(s.length, s.index) for s in shares[1]}


def _clash_fraction(ca: np.ndarray) -> float:
    """Fraction of residues in a non-local CA clash, by molgen's own check."""
    return float(ca_clashes(ca, np.ones(len(ca), dtype=bool)).mean())


def test_restraints_keep_a_physical_target(val_backbones):
    """Steering the clean estimate with the restraints does not pull the reverse SDE away from
    a real chain (which already satisfies them): same recovery bound as without."""
    atoms, rot, x = _target(val_backbones)
    model = ExactScoreModel(rot, x)
    expected = _noise_rmsd_at(model, 0.01)
    settings = _settings(restrain=True)
    out = _sample_batch(model, [40], settings, torch.Generator().manual_seed(0), "cpu")
    assert rmsd(torch.tensor(out[0][:, 1], dtype=torch.float32), atoms[:, 1]) < 1.3 * expected


def test_restraints_pull_samples_out_of_clashes(val_backbones):
    """Exact score of a real chain squeezed to 60% (a quarter of its residues clash): the plain
    sampler reproduces the clashes, the restrained one ends with under half as many."""
    atoms, rot, x = _target(val_backbones, length=60)
    model = ExactScoreModel(rot, x * 0.6)
    fractions = []
    for restrain in (False, True):
        settings = _settings(noise_scale=0.5, restrain=restrain)
        out = _sample_batch(model, [60, 60], settings, torch.Generator().manual_seed(2), "cpu")
        fractions.append(np.mean([_clash_fraction(s[:, 1]) for s in out]))
    assert fractions[0] > 0.15
    assert fractions[1] < 0.5 * fractions[0]


def test_idealized_output_has_ideal_bonds_and_stays_on_target(val_backbones):
    """The reverse SDE with the exact score ends with the marginal noise of t_min on every
    atom, so the raw chains' bonds are far off; idealised, they pass the bond-length and angle
    checks and are still within the recovery bound of the target."""
    atoms, rot, x = _target(val_backbones)
    model = ExactScoreModel(rot, x)
    results = {}
    for idealize in (False, True):
        settings = _settings(idealize=idealize)
        out = _sample_batch(model, [40], settings, torch.Generator().manual_seed(0), "cpu")
        results[idealize] = out[0]
    raw, ideal = check_backbone(results[False]), check_backbone(results[True])
    assert raw["bond_length_outlier_fraction"] > 0.1
    assert ideal["bond_length_outlier_fraction"] <= MAX_BOND_LENGTH_OUTLIER_FRACTION
    assert ideal["bond_angle_outlier_fraction"] <= MAX_BOND_ANGLE_OUTLIER_FRACTION
    ca = torch.tensor(results[True][:, 1], dtype=torch.float32)
    assert rmsd(ca, atoms[:, 1]) < 1.3 * _noise_rmsd_at(model, 0.01)


def test_blueprint_prior_gives_each_unconditional_sample_a_drawn_blueprint():
    """blueprint_prior: each unconditional sample carries a drawn blueprint of its length (no
    blueprint index), the draw repeats with the seed, user blueprints keep theirs; a model
    without blueprint input refuses it."""
    import pytest

    from molgen.models import FrameScoreNetwork, FrameScoreNetworkConfig

    tiny = {"hidden_irreps": "8x0e + 2x1o + 2x1e", "num_layers": 1, "k": 6, "mlp_dim": 16}
    torch.manual_seed(0)
    net = FrameScoreNetwork(FrameScoreNetworkConfig(**tiny, ss_condition=True))
    args = {"steps": 2, "progress": False, "blueprint_prior": True, "idealize": False}
    out = sample_backbones(net, [60, 80], 2, blueprints=["LLHHHHHHHHLL"], seed=3, **args)
    drawn = [s for s in out if s.blueprint_index is None]
    assert [s.length for s in drawn] == [60, 60, 80, 80]
    assert all(s.blueprint is not None and len(s.blueprint) == s.length for s in drawn)
    assert [s.blueprint for s in out if s.blueprint_index == 0] == ["LLHHHHHHHHLL"] * 2
    again = sample_backbones(net, [60, 80], 2, blueprints=["LLHHHHHHHHLL"], seed=3, **args)
    assert [s.blueprint for s in again] == [s.blueprint for s in out]
    plain = FrameScoreNetwork(FrameScoreNetworkConfig(**tiny))
    with pytest.raises(ValueError, match="without blueprint"):
        sample_backbones(plain, [60], 1, **args)


def test_blueprint_codes_carry_rule_partners_for_a_pair_network():
    """A batch's codes gain the rule pairing's residue partners (hairpin: the two strands
    face each other end to start), -1 in loops, padding and unconditioned rows."""
    from molgen.sample.backbone import _blueprint_codes, _Job

    hairpin = "LEEEEELLEEEEEL"
    chunk = [_Job(len(hairpin), 0, 0, hairpin), _Job(16, -1, 0, None)]
    plain = _blueprint_codes(chunk, torch.device("cpu"))
    codes = _blueprint_codes(chunk, torch.device("cpu"), with_partners=True)
    assert plain.shape == (2, 16) and codes.shape == (2, 16, 3)
    assert torch.equal(codes[..., 0], plain)
    first = codes[0, :, 1].tolist()
    assert first[1:6] == [12, 11, 10, 9, 8] and first[8:13] == [5, 4, 3, 2, 1]
    assert first[0] == first[6] == first[7] == first[13] == -1
    assert (codes[0, len(hairpin) :, 1:] == -1).all() and (codes[1, :, 1:] == -1).all()


def _blueprint_network():
    """A tiny blueprint-conditioned network whose label embedding is not zero (a fresh one
    starts at zero and so ignores the labels)."""
    from molgen.models import FrameScoreNetwork, FrameScoreNetworkConfig

    tiny = {"hidden_irreps": "8x0e + 2x1o + 2x1e", "num_layers": 1, "k": 6, "mlp_dim": 16}
    torch.manual_seed(0)
    net = FrameScoreNetwork(FrameScoreNetworkConfig(**tiny, ss_condition=True)).eval()
    with torch.no_grad():
        net.ss_embed.weight.normal_(0.0, 1.0)
    return net


def test_guided_scores_extrapolate_from_the_unspecified_blueprint(val_backbones):
    """Classifier-free guidance: weight 0 gives the all-unspecified output, 1 the conditional
    one, 2.5 the extrapolation u + 2.5 (c - u) of both scores and x0; R0 stays conditional."""
    from molgen.geometry import Frames
    from molgen.io.blueprint import encode_blueprint
    from molgen.sample.backbone import _guided_scores, _unspecified

    net = _blueprint_network()
    atoms = torch.as_tensor(val_backbones[0][:30], dtype=torch.float32)[None]
    rot, x = frames_from_backbone(atoms[..., 0, :], atoms[..., 1, :], atoms[..., 2, :])
    mask = torch.ones(1, 30, dtype=torch.bool)
    frames, time = Frames(rot, center(x), mask), torch.tensor([0.3])
    ss = torch.from_numpy(encode_blueprint("L" * 4 + "H" * 12 + "L" * 4 + "E" * 10))[None]
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        cond = net.scores(frames.rotations, frames.translations, time, mask, None, None, ss)
        free = net.scores(frames.rotations, frames.translations, time, mask, None, None,
                          _unspecified(ss))  # fmt: skip
        zero, one, far = (_guided_scores(net, frames, time, None, ss, gen, w) for w in (0, 1, 2.5))
    assert (cond["trans_score"] - free["trans_score"]).abs().max() > 1e-3
    for key in ("trans_score", "rot_score", "x0"):
        torch.testing.assert_close(zero[key], free[key])
        torch.testing.assert_close(one[key], cond[key])
        torch.testing.assert_close(far[key], free[key] + 2.5 * (cond[key] - free[key]))
    torch.testing.assert_close(far["R0"], cond["R0"])
    partners = torch.cat([ss[..., None], torch.arange(30)[None, :, None].expand(1, 30, 2)], dim=-1)
    cleared = _unspecified(partners)
    assert (cleared[..., 0] == 0).all() and (cleared[..., 1:] == -1).all()


def test_guidance_moves_blueprint_samples_only():
    """A guidance weight changes the samples of a blueprint but not those without one."""
    net = _blueprint_network()
    args = {"steps": 3, "progress": False, "idealize": False, "blueprint_prior": False,
            "seed": 1}  # fmt: skip
    blueprint = "LLHHHHHHHHHHLLEEEEELLEEEEELL"
    plain = sample_backbones(net, [28], 1, blueprints=[blueprint], **args)
    guided = sample_backbones(net, [28], 1, blueprints=[blueprint], guidance=3.0, **args)
    assert plain[0].blueprint is None and guided[0].blueprint is None
    np.testing.assert_array_equal(plain[0].atoms, guided[0].atoms)
    assert np.abs(plain[1].atoms - guided[1].atoms).max() > 1e-3


def test_sheet_first_holds_the_ideal_sheet_of_each_blueprint():
    """With the bundled model, a blueprint with a three-stranded meander gets its ideal
    sheet (molgen.sample.sheet) at exactly its strand residues, rigidly placed, beside a
    helix-only blueprint without one in the same run; sheets=False builds none."""
    from molgen.models import load
    from molgen.sample.sheet import build_sheet

    net = load("backbone", device="cpu")
    meander = "LLEEEEEELLEEEEEELLEEEEEELLHHHHHHHHHHHHLL"
    helical = "LLHHHHHHHHHHHHLLLHHHHHHHHHHHHLL"
    args = {"steps": 10, "seed": 1, "progress": False, "motif_harmonize_steps": 2}
    out = sample_backbones(net, blueprints=[meander, helical], num=2, **args)
    sheet = build_sheet(meander, [(0, 1, False), (1, 2, False)])
    for sample in out:
        if sample.blueprint == helical:
            assert sample.sheet_positions is None
            continue
        assert sample.sheet_positions == sheet.positions
        rows = list(sheet.positions)
        assert rows == [r for r, letter in enumerate(meander) if letter == "E"]
        placed = torch.tensor(sample.atoms[rows])
        ideal = torch.tensor(sheet.atoms)
        assert float(rmsd(placed.reshape(-1, 3), ideal.reshape(-1, 3))) < 1e-4
    plain = sample_backbones(net, blueprints=[meander], num=1, sheets=False, **args)
    assert plain[0].sheet_positions is None
    # Strand pairs given with the blueprint shape the sheet: strands 1 and 3 only.
    paired = sample_backbones(net, blueprints=[meander + " 1-3A"], num=1, **args)
    assert paired[0].sheet_positions == build_sheet(meander, [(0, 2, False)]).positions
    assert paired[0].sheet_positions == tuple(range(2, 8)) + tuple(range(18, 24))


def test_sheet_coverage_counts_the_strands_the_built_sheet_holds():
    """sheet_coverage: a meander the builder lays out whole holds all its strand residues; a
    strand without a partner (or one shorter than MIN_STRAND) is not in the sheet; a
    blueprint with no pairable strands covers 0, one with no strands 1."""
    from molgen.sample.backbone import sheet_coverage
    from molgen.sample.blueprint_prior import DrawnBlueprint

    meander = "LLEEEEEELLEEEEEELLEEEEEELLHHHHHHHHHHHHLL"
    assert sheet_coverage(DrawnBlueprint(meander, [(0, 1, False), (1, 2, False)])) == 1.0
    assert sheet_coverage(DrawnBlueprint(meander, [(0, 1, False)])) == 12 / 18
    assert sheet_coverage(DrawnBlueprint(meander, [])) == 0.0
    assert sheet_coverage(DrawnBlueprint("LLHHHHHHHHHHLL", [])) == 1.0
