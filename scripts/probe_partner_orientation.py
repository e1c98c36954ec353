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
gives 0.5). The real chains' numbers and the recall of the rebuilt and rule partners (real
partners matched within one residue) come first.

Usage: python scripts/probe_partner_orientation.py --model DIR [--n 8] [--sources ...]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

import numpy as np
import torch
from probe_sheet_survival import strand_fraction, strand_rich_val

import molgen.sample.backbone as sampler
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


def pair_geometry(atoms: np.ndarray, pairs: list[tuple[int, int, int]]) -> dict[str, float]:
    """CA-CA distances and carbonyl orientation of ``pairs`` in ``atoms [B, L, 4, 3]``."""
    b, i, j = (np.array(column) for column in zip(*pairs, strict=True))
    to_partner = atoms[b, j, 1] - atoms[b, i, 1]  # [P, 3]
    distance = np.linalg.norm(to_partner, axis=-1)
    carbonyl = atoms[b, i, 3] - atoms[b, i, 2]
    cos = np.abs((carbonyl * to_partner).sum(-1)) / np.linalg.norm(carbonyl, axis=-1) / distance
    close = distance < ORIENTATION_CUTOFF
    return {
        "pair CA median": round(float(np.median(distance)), 2),
        "pairs found": round(float(np.mean(distance < FOUND_CUTOFF)), 3),
        "carbonyl |cos|": round(float(cos[close].mean()), 3) if close.any() else None,
        "close pairs": int(close.sum()),
    }


def recall(partners: torch.Tensor, truth: list[tuple[int, int, int]]) -> float:
    """Fraction of real pairs (b, i, j) with a partner of i in ``partners`` within j +- 1."""
    found = [any(abs(j - k) <= 1 for k in partners[b, i].tolist() if k >= 0) for b, i, j in truth]
    return round(float(np.mean(found)), 3)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--rotation-score-scale", type=float, default=3.0)
    parser.add_argument(
        "--sources", nargs="+", default=["labels", "true", "rebuilt", "rule"],
        choices=["labels", "true", "rebuilt", "rule"],
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
        "real": {"E": round(strand_fraction(real, lengths), 3), **pair_geometry(real, truth)},
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
        report[name] = {"E": strands, **pair_geometry(atoms, truth)}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
