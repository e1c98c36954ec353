"""Probe: do real sheets survive partial diffusion with a backbone model? Print JSON.

An issue-16 diagnostic (backbone model card, "v3: strand-pairing conditioning"); nothing in
molgen uses it. The first ``--n`` val chains of 60-130 residues with at most 50% loop and more
than 25% strand (DSSP E) are noised to each time in ``--times`` and denoised by the sampler
(200-step grid scaled to the time, rotation score x ``--rotation-score-scale``, seed 0, one
batch) with their own DSSP blueprint, and, for a model trained with ``pair_condition``, once
more with their strand partners too (:func:`molgen.io.strand_pairing.strand_partners` of
the real chain). It reports the DSSP E fraction of the real chains (as deposited, and rebuilt
from their frames as the sampler builds atoms, then idealised as it writes them) and of each
output set.

Usage: python scripts/probe_sheet_survival.py --model DIR [--n 8] [--times 0.1 0.2 0.3]
       [--rotation-score-scale 3] [--noise-scale 0.3]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

import molgen.sample.backbone as sampler
from molgen.datasets.pdb_chains import BackboneBatch, PDBChains, collate_backbones
from molgen.evaluation import dssp_eight_state, three_state
from molgen.geometry.frames import backbone_from_frames, frames_from_backbone
from molgen.models import load
from molgen.paths import default_data_path
from molgen.sample.config import BackboneSamplerConfig
from molgen.sample.idealize import idealize_backbone


def strand_fraction(atoms: np.ndarray, lengths: list[int]) -> float:
    """Mean DSSP E (three-state) fraction of padded chains ``[B, L, 4, 3]``."""
    return float(np.mean([
        np.mean(three_state(dssp_eight_state(atoms[b, :n])) == "E")
        for b, n in enumerate(lengths)
    ]))  # fmt: skip


def strand_rich_val(n: int) -> BackboneBatch:
    """The first ``n`` val chains of 60-130 residues, at most 50% loop, more than 25% E."""
    chains = PDBChains(default_data_path("pdb_chains.npz"), "val", crop_length=None,
                       min_length=60, max_length=130, max_coil_fraction=0.5)  # fmt: skip
    picked = [i for i in range(len(chains)) if (chains[i].ss == 2).float().mean() > 0.25]
    return collate_backbones([chains[i] for i in picked[:n]])


def partial_diffusion(
    net,
    atoms: torch.Tensor | np.ndarray,
    lengths: list[int],
    codes: torch.Tensor,
    t: float,
    rotation_score_scale: float = 3.0,
    noise_scale: float = BackboneSamplerConfig.noise_scale,
) -> np.ndarray:
    """Backbones ``atoms [B, L, 4, 3]`` (Angstrom) noised to ``t`` and denoised by the sampler
    with the conditioning ``codes`` (200-step grid scaled to ``t``, seed 0, one batch);
    returns the idealised output atoms ``[B, L, 4, 3]``."""
    config = BackboneSamplerConfig(
        partial_t=t, rotation_score_scale=rotation_score_scale, noise_scale=noise_scale
    ).resolved(net)
    generator = torch.Generator().manual_seed(0)
    guide = sampler._Guide(None, torch.as_tensor(atoms).double())
    out, _ = sampler._sample_batch(net, lengths, config, generator, "cpu", None, codes, guide)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--times", type=float, nargs="+", default=[0.1, 0.2, 0.3])
    parser.add_argument("--rotation-score-scale", type=float, default=3.0)
    parser.add_argument("--noise-scale", type=float, default=BackboneSamplerConfig.noise_scale)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    net = load(args.model).eval()
    batch = strand_rich_val(args.n)
    lengths = batch.mask.sum(1).tolist()
    conditions = {"labels": batch.ss}
    if getattr(net.config, "pair_condition", False):
        conditions["labels and partners"] = torch.cat([batch.ss[..., None], batch.partners], -1)
    real = batch.atoms.float()
    rot, ca = frames_from_backbone(real[..., 0, :], real[..., 1, :], real[..., 2, :])
    rebuilt = idealize_backbone(backbone_from_frames(rot, ca, mask=batch.mask), batch.mask)
    report = {
        "chains": len(lengths),
        "real": strand_fraction(batch.atoms.numpy(), lengths),
        "real, rebuilt from frames and idealised": strand_fraction(rebuilt.numpy(), lengths),
    }
    for t in args.times:
        for name, codes in conditions.items():
            atoms = partial_diffusion(
                net, batch.atoms, lengths, codes, t, args.rotation_score_scale, args.noise_scale
            )
            report[f"t {t}, {name}"] = round(strand_fraction(atoms, lengths), 3)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
