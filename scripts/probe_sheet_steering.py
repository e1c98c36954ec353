"""Probe: does steering the sampler with a backbone hydrogen-bond potential make ladders?

An issue-16 diagnostic (backbone model card, "Session 22"); nothing in molgen uses it. The
strand-rich val chains of ``scripts/probe_sheet_survival.py`` are sampled from pure noise with
their own DSSP blueprint, and for t <= ``--t-on`` the network's clean estimate
(:math:`\\hat R_0, \\hat x_0`) is moved before the scores are formed from it (as
``molgen.sample.restraints`` does for CA restraints, and the rotation score is recomputed
from the moved :math:`\\hat R_0`): ``--iters`` L-BFGS iterations on

    E = w_hb * sum over the chains' real strand partners (i, j) of the lower of the two
        DSSP bridge patterns' hydrogen-bond energies (each bond capped at -3 kcal/mol)
      + w_ca * 1/2 sum max(0, |CA_i - CA_j| - 5 A)^2
      + k_cov * sum over peptides of (C-N, CA...N, C...CA, CA...CA - ideal)^2
      + k_clash * sum over non-local atom pairs of max(0, contact - distance)^2
      + tether * (|x - x0|^2 + 4 |rotation vector|^2),

an oracle test (the partners are the real chains'): if even it makes no ladders, a sampler
potential will not. It prints JSON: DSSP E of the outputs (idealised, as the sampler writes
them, and raw), the median CA distance of the partner pairs, the share under 5.5 A and the
mean capped hydrogen-bond energy per pair (the real chains' alongside). With
``--rediffuse T ...`` the steered outputs (raw and idealised) are also noised to each time T
and denoised by the sampler without steering (partial diffusion, as
``scripts/probe_sheet_survival.py`` does to the real chains), and their DSSP E reported: do
the ladders the potential made survive where real sheets do?

DSSP's electrostatic energy is written here because mdtraj and biopython compute DSSP
assignments, not a differentiable energy.

Usage: python scripts/probe_sheet_steering.py [--model DIR] [--steps 100] [--t-on 0.5]
       [--k-clash 50] [--none] [--rediffuse 0.02 0.03 0.05]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch
from probe_sheet_survival import partial_diffusion, strand_fraction, strand_rich_val

from molgen.checks.clashes import clash_limits
from molgen.geometry import center, rotvec_to_matrix
from molgen.geometry.frames import backbone_from_frames
from molgen.models import load
from molgen.sample.backbone import shifted_score
from molgen.sample.config import BackboneSamplerConfig
from molgen.sample.idealize import CONTACT_OVERLAP, idealize_backbone
from molgen.sample.restraints import nonlocal_ca_pairs
from molgen.sample.schedule import time_grid
from molgen.sample.sheet import DSSP_COUPLING

#: Peptide distances held by the steering (atom of i, atom of i + 1, Angstrom): C-N, the
#: 1-3 distances across CA-C-N and C-N-CA, and a trans peptide's CA-CA.
PEPTIDE = ((2, 0, 1.329), (1, 0, 2.425), (2, 1, 2.435), (1, 1, 3.80))


def hbond_energy(atoms: torch.Tensor, acceptor: torch.Tensor, donor: torch.Tensor) -> torch.Tensor:
    """DSSP energy (kcal/mol, capped at -3) of C=O of ``acceptor`` with N-H of ``donor``
    (node indices into ``atoms [N, 4, 3]``); H sits 1 A from N opposite the previous C=O."""
    n = atoms[donor, 0]
    back = atoms[donor - 1, 2] - atoms[donor - 1, 3]
    h = n + back / back.norm(dim=-1, keepdim=True)
    c, o = atoms[acceptor, 2], atoms[acceptor, 3]

    def inv(a, b):
        return 1.0 / (a - b).norm(dim=-1).clamp_min(0.5)

    energy = DSSP_COUPLING * (inv(o, n) + inv(c, h) - inv(o, h) - inv(c, n))
    return energy.clamp_min(-3.0)


def partner_pairs(partners: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Flattened node pairs ``i < j`` of the strand partners ``[B, L, K]`` (both away from the
    chain ends) and whether each is antiparallel (from the neighbours' partners)."""
    b_size, length, _ = partners.shape
    rows = []
    for b in range(b_size):
        n = int(mask[b].sum())
        for i in range(1, n - 1):
            after, before = set(partners[b, i + 1].tolist()), set(partners[b, i - 1].tolist())
            for j in partners[b, i].tolist():
                if i < j < n - 1:
                    parallel = (j + 1 in after or j - 1 in before) and not (
                        j - 1 in after or j + 1 in before
                    )
                    rows.append((b * length + i, b * length + j, not parallel))
    table = torch.tensor(rows)
    return table[:, 0], table[:, 1], table[:, 2].bool()


def ladder_energy(atoms: torch.Tensor, pairs: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """Per pair ``[P]``: the lower of the two DSSP bridge patterns' summed bond energies
    (soft minimum), antiparallel or parallel as the pair is."""
    i, j, anti = pairs

    def softmin(a, b):
        return -torch.logsumexp(-torch.stack([a, b]), 0)

    anti_e = softmin(
        hbond_energy(atoms, i, j) + hbond_energy(atoms, j, i),
        hbond_energy(atoms, i - 1, j + 1) + hbond_energy(atoms, j - 1, i + 1),
    )
    par_e = softmin(
        hbond_energy(atoms, i - 1, j) + hbond_energy(atoms, j, i + 1),
        hbond_energy(atoms, j - 1, i) + hbond_energy(atoms, i, j + 1),
    )
    return torch.where(anti, anti_e, par_e)


def peptide_strain(atoms: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Sum of squared deviations (Angstrom^2) of :data:`PEPTIDE` over present peptides."""
    a = atoms.reshape(*mask.shape, 4, 3)
    link = (mask[:, 1:] & mask[:, :-1]).to(a.dtype)
    total = a.new_zeros(())
    for p, q, d in PEPTIDE:
        total = total + (link * ((a[:, :-1, p] - a[:, 1:, q]).norm(dim=-1) - d) ** 2).sum()
    return total


def steer(R0, x0, mask, pairs, args) -> tuple[torch.Tensor, torch.Tensor]:
    """Clean frames moved down the module docstring's energy (``args`` holds its weights)."""
    b, length = mask.shape
    m = mask.reshape(-1, 1).to(x0.dtype)
    x_start, r_start = x0.reshape(-1, 3), R0.reshape(-1, 3, 3)
    x = x_start.clone().requires_grad_(True)
    turn = torch.zeros_like(x_start, requires_grad=True)
    near = nonlocal_ca_pairs(x0, mask)
    contact = torch.as_tensor(clash_limits(CONTACT_OVERLAP), dtype=x0.dtype)
    optimizer = torch.optim.LBFGS([x, turn], max_iter=args.iters, line_search_fn="strong_wolfe")

    def frames():
        return r_start @ rotvec_to_matrix(turn * m), x_start + (x - x_start) * m

    def closure():
        optimizer.zero_grad()
        rot, pos = frames()
        atoms = backbone_from_frames(rot.reshape(b, length, 3, 3), pos.reshape(b, length, 3),
                                     mask=mask).reshape(-1, 4, 3)  # fmt: skip
        ca_gap = (atoms[pairs[0], 1] - atoms[pairs[1], 1]).norm(dim=-1) - 5.0
        overlap = contact - (atoms[near[0]][:, :, None] - atoms[near[1]][:, None]).norm(dim=-1)
        energy = (
            args.w_hb * ladder_energy(atoms, pairs).sum()
            + args.w_ca * 0.5 * (ca_gap.clamp_min(0) ** 2).sum()
            + args.k_cov * peptide_strain(atoms, mask)
            + args.k_clash * (overlap.clamp_min(0) ** 2).sum()
            + args.tether * (((pos - x_start) ** 2).sum() + 4 * ((turn * m) ** 2).sum())
        )
        energy.backward()
        return energy

    with torch.enable_grad():
        optimizer.step(closure)
    rot, pos = frames()
    return rot.detach().reshape(b, length, 3, 3), pos.detach().reshape(b, length, 3)


@torch.no_grad()
def sample(net, lengths, ss, pairs, args) -> tuple[np.ndarray, np.ndarray]:
    """Raw and idealised atoms ``[B, L, 4, 3]`` (the sampler's default noise, rotation score
    scale and min_t; seed 0)."""
    config = BackboneSamplerConfig(steps=args.steps).resolved(net)
    generator = torch.Generator().manual_seed(0)
    diffuser = net.diffuser
    mask = torch.arange(max(lengths))[None] < torch.tensor(lengths)[:, None]
    frames = diffuser.sample_prior(mask.shape, generator=generator, mask=mask)
    times = time_grid(config.steps, config.min_t)
    self_cond = None
    for t, t_next in zip(times[:-1], times[1:], strict=True):
        out = net.scores(frames.rotations, frames.translations, torch.full((len(lengths),), t),
                         mask, self_cond, None, ss, generator)  # fmt: skip
        trans_score, rot_score, self_cond = out["trans_score"], out["rot_score"], out["x0"]
        if pairs is not None and t <= args.t_on:
            rot0, x0 = steer(out["R0"], out["x0"], mask, pairs, args)
            shift = center((x0 - out["x0"]) * mask[..., None], mask) * mask[..., None]
            trans_score = shifted_score(diffuser.r3, trans_score, shift, t)
            rot_score = diffuser.so3.score(frames.rotations, rot0, t) * mask[..., None]
            self_cond = out["x0"] + shift
        frames = diffuser.reverse_step(
            frames, (config.rotation_score_scale * rot_score, trans_score), t, t - t_next,
            noise_scale=config.noise_scale, generator=generator,
        )  # fmt: skip
    out = net.scores(frames.rotations, frames.translations, torch.full((len(lengths),), times[-1]),
                     mask, self_cond, None, ss, generator)  # fmt: skip
    rot0, x0 = out["R0"], out["x0"]
    if pairs is not None:
        rot0, x0 = steer(rot0, x0, mask, pairs, args)
    psi = torch.atan2(out["psi"][..., 1], out["psi"][..., 0])
    atoms = backbone_from_frames(rot0, x0, psi=psi, mask=mask)
    return atoms.double().numpy(), idealize_backbone(atoms, mask).double().numpy()


def rediffuse(net, atoms: np.ndarray, lengths: list[int], ss: torch.Tensor, t: float) -> float:
    """DSSP E of ``atoms [B, L, 4, 3]`` noised to ``t`` and denoised by the sampler with the
    blueprint ``ss`` (rotation score x 3, seed 0, idealised output)."""
    return strand_fraction(partial_diffusion(net, atoms, lengths, ss, t), lengths)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="backbone")
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--t-on", type=float, default=0.5)
    parser.add_argument("--iters", type=int, default=30)
    parser.add_argument("--w-hb", type=float, default=1.0)
    parser.add_argument("--w-ca", type=float, default=5.0)
    parser.add_argument("--k-cov", type=float, default=50.0)
    parser.add_argument("--k-clash", type=float, default=50.0)
    parser.add_argument("--tether", type=float, default=0.05)
    parser.add_argument("--none", action="store_true", help="no steering (the baseline)")
    parser.add_argument("--rediffuse", type=float, nargs="*", default=[],
                        help="partial-diffusion times for the steered outputs")  # fmt: skip
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    net = load(args.model).eval()
    batch = strand_rich_val(args.n)
    lengths = batch.mask.sum(1).tolist()
    pairs = partner_pairs(batch.partners, batch.mask)
    raw, ideal = sample(net, lengths, batch.ss, None if args.none else pairs, args)
    flat = torch.from_numpy(ideal).reshape(-1, 4, 3)
    ca = (flat[pairs[0], 1] - flat[pairs[1], 1]).norm(dim=-1)
    real = batch.atoms.double().reshape(-1, 4, 3)
    rediffused = {
        f"E, {name} re-diffused from t {t}": round(rediffuse(net, atoms, lengths, batch.ss, t), 3)
        for name, atoms in (("raw", raw), ("idealised", ideal))
        for t in args.rediffuse
    }  # fmt: skip
    print(json.dumps({
        "steering": None if args.none else {k: v for k, v in vars(args).items() if k != "none"},
        "real E": round(strand_fraction(batch.atoms.numpy(), lengths), 3),
        "E": round(strand_fraction(ideal, lengths), 3),
        "E before idealisation": round(strand_fraction(raw, lengths), 3),
        "partner CA median (A)": round(float(ca.median()), 2),
        "partners under 5.5 A": round(float((ca < 5.5).double().mean()), 2),
        "H-bond energy per pair (kcal/mol)": round(float(ladder_energy(flat, pairs).mean()), 2),
        "real H-bond energy per pair": round(float(ladder_energy(real, pairs).mean()), 2),
        **rediffused,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
