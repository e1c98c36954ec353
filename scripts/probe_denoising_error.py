"""Probe: one-step denoising error of backbone models on the same noised val chains. Print JSON.

An issue-16 diagnostic (backbone model card, "Session 22"); nothing in molgen uses it. The
strand-rich val chains of ``scripts/probe_sheet_survival.py`` (``--n`` of them) are noised
to each time in ``--times`` with seeds 0..``--seeds``-1, the same draws for every model, and
each model predicts their clean frames in one pass (their own DSSP blueprint, no
self-conditioning). Reported per model and time: the CA RMSD of the clean estimate
(Angstrom, over all residues, mean over seeds). Paired noise makes differences of a few
hundredths of an Angstrom between models meaningful, which the sampling probes cannot see.

Usage: python scripts/probe_denoising_error.py MODEL [MODEL ...] [--n 48] [--seeds 3]
       [--times 0.05 0.1 0.2 0.3 0.5]
"""

from __future__ import annotations

import argparse
import json

import torch
from probe_sheet_survival import strand_rich_val

from molgen.diffusion.se3 import Frames
from molgen.geometry import center
from molgen.geometry.frames import frames_from_backbone
from molgen.models import load


@torch.no_grad()
def clean_ca_rmsd(net, frames: Frames, ss: torch.Tensor, t: float, seed: int) -> float:
    """CA RMSD (Angstrom) of ``net``'s clean estimate of ``frames`` noised to ``t``."""
    noisy = net.diffuser.sample_marginal(frames, t, generator=torch.Generator().manual_seed(seed))
    time = torch.full((len(frames.mask),), t)
    out = net.scores(noisy.rot_t, noisy.trans_t, time, frames.mask, None, None, ss,
                     torch.Generator().manual_seed(0))  # fmt: skip
    error = ((center(out["x0"], frames.mask) - frames.translations) ** 2).sum(-1)
    return float(error[frames.mask].mean().sqrt())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--n", type=int, default=48)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--times", type=float, nargs="+", default=[0.05, 0.1, 0.2, 0.3, 0.5])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    batch = strand_rich_val(args.n)
    atoms = batch.atoms.float()
    rot, ca = frames_from_backbone(atoms[..., 0, :], atoms[..., 1, :], atoms[..., 2, :])
    frames = Frames(rot, center(ca, batch.mask), batch.mask)
    report = {"chains": len(batch.mask)}
    for path in args.models:
        net = load(path).eval()
        report[path] = {
            str(t): round(
                sum(clean_ca_rmsd(net, frames, batch.ss, t, s) for s in range(args.seeds))
                / args.seeds, 3,
            )
            for t in args.times
        }  # fmt: skip
    print(json.dumps(report))


if __name__ == "__main__":
    main()
