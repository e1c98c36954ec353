"""Probe: do sampled strands find their partners and face them? Print JSON.

An issue-16 diagnostic (backbone model card, "v3: strand-pairing conditioning"); nothing in
molgen uses it. The strand-rich val chains of ``probe_sheet_survival.py`` are sampled from
noise (200 steps, rotation score x ``--rotation-score-scale``, seed 0, one batch) with their
own DSSP blueprint and, for a model trained with ``pair_condition``, with strand partners from
each source:

- ``true``: :func:`molgen.io.strand_pairing.strand_partners` of the real chain;
- ``rebuilt``: the real chain's element pairing (which strand pairs with which, and the
  direction), turned back into residue partners by
  :func:`molgen.io.strand_pairing.partners_from_pairing`, as a user's pairing file would be;
- ``rule``: the pairing :func:`molgen.io.strand_pairing.rule_pairing` guesses from the
  blueprint alone (what ``molgen sample backbone`` uses without a pairing file).

For each output it reports the DSSP E fraction, the median CA-CA distance (Angstrom) of the
real chain's partner pairs and the fraction within 5.5 Angstrom, and the carbonyl orientation:
the mean :math:`|\\cos|` between C=O of residue i and the direction from CA_i to CA_j over
real partner pairs (i, j) closer than 6 Angstrom in that structure (a residue whose carbonyl
H-bonds across the sheet points it at the partner, :math:`|\\cos| \\to 1`; a random direction
gives 0.5), and the pleat orientation (see :func:`pair_geometry`). With ``--denoise-times``
it also reports the network's one-step clean estimate from the real chains noised to each
time, given their labels and true partners, with the carbonyl orientation of frames and CA
taken from the input, the estimate or the real chain (:func:`denoise_once`). The real
chains' numbers and the recall of the rebuilt and rule partners (real partners matched within
one residue) come first.

Usage: python scripts/probe_partner_orientation.py --model DIR [--n 8] [--sources ...]
       [--denoise-times 0.05 0.1 0.2]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

import numpy as np
import torch
from probe_sheet_survival import strand_fraction, strand_rich_val

import molgen.sample.backbone as sampler
from molgen.datasets.pdb_chains import BackboneBatch
from molgen.geometry import Frames, backbone_from_frames, center
from molgen.geometry.frames import frames_from_backbone
from molgen.geometry.so3 import geodesic_distance
from molgen.io.blueprint import BLUEPRINT_LETTERS
from molgen.io.strand_pairing import element_pairing, partners_from_pairing, rule_pairing
from molgen.models import load
from molgen.sample.config import BackboneSamplerConfig

#: Real partner pairs closer than this (CA-CA, Angstrom) count for the orientation.
ORIENTATION_CUTOFF = 6.0
#: A pair whose CA-CA distance is below this (Angstrom) counts as found.
FOUND_CUTOFF = 5.5


def _pairs(partners: torch.Tensor, lengths: list[int]) -> list[tuple[int, int, int]]:
    """(chain, i, j) for every partner entry j >= 0 of residue i."""
    return [
        (b, i, j)
        for b, n in enumerate(lengths)
        for i in range(n)
        for j in partners[b, i].tolist()
        if j >= 0
    ]


def pair_geometry(
    atoms: np.ndarray, pairs: list[tuple[int, int, int]], lengths: list[int]
) -> dict[str, float]:
    """CA-CA distances, carbonyl and pleat orientation of ``pairs`` in ``atoms [B, L, 4, 3]``.

    The pleat of residue i is :math:`CA_i - (CA_{i-1} + CA_{i+1})/2`, the zig-zag of the CA
    trace; in a real sheet it stands off the sheet plane, across the partner direction.
    """
    b, i, j = (np.array(column) for column in zip(*pairs, strict=True))
    to_partner = atoms[b, j, 1] - atoms[b, i, 1]  # [P, 3]
    distance = np.linalg.norm(to_partner, axis=-1)
    carbonyl = atoms[b, i, 3] - atoms[b, i, 2]
    cos = np.abs((carbonyl * to_partner).sum(-1)) / np.linalg.norm(carbonyl, axis=-1) / distance
    close = distance < ORIENTATION_CUTOFF
    pleated = close & (i >= 1) & (i + 1 < np.array(lengths)[b])
    ca = atoms[:, :, 1]
    previous, following = np.maximum(i - 1, 0), np.minimum(i + 1, ca.shape[1] - 1)
    pleat = ca[b, i] - 0.5 * (ca[b, previous] + ca[b, following])  # [P, 3]
    pleat_cos = np.abs((pleat * to_partner).sum(-1)) / (
        np.linalg.norm(pleat, axis=-1).clip(1e-6) * distance
    )
    return {
        "pair CA median": round(float(np.median(distance)), 2),
        "pairs found": round(float(np.mean(distance < FOUND_CUTOFF)), 3),
        "carbonyl |cos|": round(float(cos[close].mean()), 3) if close.any() else None,
        "pleat |cos|": round(float(pleat_cos[pleated].mean()), 3) if pleated.any() else None,
        "close pairs": int(close.sum()),
    }


def recall(partners: torch.Tensor, truth: list[tuple[int, int, int]]) -> float:
    """Fraction of real pairs (b, i, j) with a partner of i in ``partners`` within j +- 1."""
    found = [any(abs(j - k) <= 1 for k in partners[b, i].tolist() if k >= 0) for b, i, j in truth]
    return round(float(np.mean(found)), 3)


@torch.no_grad()
def denoise_once(
    net: torch.nn.Module, batch: BackboneBatch, t: float
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """The network's clean estimate of the real chains noised to time ``t`` (seed 0), given
    their labels and true partners, self-conditioned on its own first estimate as the sampler
    is; and where its orientation error comes from.

    Returns the atoms ``[B, L, 4, 3]`` (Angstrom) of the estimate under ``"predicted"`` and,
    to separate the frames from the CA trace, under ``"R_t + true CA"`` (the noisy input
    rotations on the real CA), ``"R0 + true CA"`` (the predicted rotations on the real CA) and
    ``"true R + predicted CA"``; all with the predicted psi (which only places a chain's last
    O); and the mean geodesic rotation error (radians) of the input and of the prediction
    against the real frames, and the CA RMSD (Angstrom, no superposition: the estimate lives
    in the noisy chain's centred frame, as the real chain does).
    """
    mask = batch.mask.bool()
    atoms = batch.atoms.float()
    rot_0, x_0 = frames_from_backbone(atoms[..., 0, :], atoms[..., 1, :], atoms[..., 2, :])
    x_0 = center(x_0, mask)
    generator = torch.Generator().manual_seed(0)
    time = torch.full((mask.shape[0],), t)
    noisy = net.diffuser.sample_marginal(Frames(rot_0, x_0, mask), time, generator)
    codes = torch.cat([batch.ss[..., None], batch.partners], -1)
    out = None
    for _ in range(2):
        self_cond = None if out is None else out["x0"]
        out = net.scores(noisy.rot_t, noisy.trans_t, time, mask, self_cond, None, codes, generator)
    psi = torch.atan2(out["psi"][..., 1], out["psi"][..., 0])

    def build(rotation: torch.Tensor, ca: torch.Tensor) -> np.ndarray:
        return backbone_from_frames(rotation, ca, psi=psi, mask=mask).double().numpy()

    def mean_angle(rotation: torch.Tensor) -> float:
        return round(float(geodesic_distance(rotation, rot_0)[mask].mean()), 3)

    squared = ((out["x0"] - x_0) ** 2).sum(-1)[mask]
    variants = {
        "predicted": build(out["R0"], out["x0"]),
        "R_t + true CA": build(noisy.rot_t, x_0),
        "R0 + true CA": build(out["R0"], x_0),
        "true R + predicted CA": build(rot_0, out["x0"]),
    }
    return variants, {
        "rotation error in": mean_angle(noisy.rot_t),
        "rotation error out": mean_angle(out["R0"]),
        "CA RMSD": round(float(squared.mean().sqrt()), 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--rotation-score-scale", type=float, default=3.0)
    parser.add_argument(
        "--sources", nargs="*", default=["labels", "true", "rebuilt", "rule"],
        choices=["labels", "true", "rebuilt", "rule"],
    )  # fmt: skip
    parser.add_argument(
        "--denoise-times", type=float, nargs="*", default=[],
        help="also report the one-step clean estimate from the real chains noised to these t",
    )  # fmt: skip
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    net = load(args.model).eval()
    batch = strand_rich_val(args.n)
    lengths = batch.mask.sum(1).tolist()
    blueprints = [
        "".join(BLUEPRINT_LETTERS[int(c)] for c in batch.ss[b, :n]) for b, n in enumerate(lengths)
    ]
    truth = _pairs(batch.partners, lengths)

    def partners_of(make: Callable[[int], np.ndarray]) -> torch.Tensor:
        out = torch.full_like(batch.partners, -1)
        for b, n in enumerate(lengths):
            out[b, :n] = torch.from_numpy(make(b))
        return out

    sources = {
        "true": batch.partners,
        "rebuilt": partners_of(lambda b: partners_from_pairing(
            blueprints[b], element_pairing(blueprints[b], batch.partners[b, : lengths[b]].numpy())
        )),
        "rule": partners_of(
            lambda b: partners_from_pairing(blueprints[b], rule_pairing(blueprints[b]))
        ),
    }  # fmt: skip
    real = batch.atoms.numpy()
    report = {
        "chains": len(lengths),
        "real": {
            "E": round(strand_fraction(real, lengths), 3),
            **pair_geometry(real, truth, lengths),
        },
        "recall rebuilt": recall(sources["rebuilt"], truth),
        "recall rule": recall(sources["rule"], truth),
    }
    config = BackboneSamplerConfig(rotation_score_scale=args.rotation_score_scale).resolved(net)
    for name in args.sources:
        if name != "labels" and not getattr(net.config, "pair_condition", False):
            continue
        codes = batch.ss
        if name != "labels":
            codes = torch.cat([batch.ss[..., None], sources[name]], -1)
        generator = torch.Generator().manual_seed(0)
        atoms, _ = sampler._sample_batch(net, lengths, config, generator, "cpu", None, codes, None)
        strands = round(strand_fraction(atoms, lengths), 3)
        report[name] = {"E": strands, **pair_geometry(atoms, truth, lengths)}
    for t in args.denoise_times:
        variants, errors = denoise_once(net, batch, t)
        atoms = variants["predicted"]
        strands = round(strand_fraction(atoms, lengths), 3)
        report[f"one step from t {t}"] = {
            "E": strands,
            **pair_geometry(atoms, truth, lengths),
            **errors,
            **{
                f"carbonyl |cos|, {name}": pair_geometry(other, truth, lengths)["carbonyl |cos|"]
                for name, other in variants.items()
                if name != "predicted"
            },
        }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
