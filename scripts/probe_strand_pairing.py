"""Probe: does steering CA pairs of requested strands make the v2 model form sheets? Print JSON.

A negative-result experiment of issue 16 (model card, "v2 in training"), kept so its numbers
can be reproduced; nothing in molgen uses it. For ``--n`` val chains of 60-128 residues with
at least 20% strand and at most 50% loop, the chain's DSSP blueprint is given to the sampler
together with its strand pair map: residue pairs (i, j), both E, ``|i - j| >= 3``, CA-CA under
5.5 A in the real chain. On top of the sampler's own CA restraint
(:func:`molgen.sample.restraints.restrain_ca`), every step's clean estimate is moved by
``--weight`` x the gradient descent of a flat-bottom pair potential (CA-CA held in 4.3-5.2 A;
20 iterations, step ``0.1 min(w, 5)``, the shift then scaled by ``max(w / 5, 1)``) during the
first ``--fraction`` of the steps. It reports per residue: DSSP E, paired E, helix, the
blueprint agreement, the share of requested-E residues with beta phi/psi
(phi < -69 deg and psi > 92 or < -160 deg), and the share of the pairs within 5.6 A at the end.

Usage: python scripts/probe_strand_pairing.py --model DIR --weight 20 [--n 6]
    [--fraction 1.0] [--rotation-score-scale 3]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

import molgen.sample.backbone as sampler
from molgen.evaluation import dssp_eight_state, paired_strands, phi_psi, three_state
from molgen.io import load_chain_set
from molgen.io.blueprint import blueprint_from_dssp
from molgen.models import load
from molgen.paths import default_data_path

PAIR_RANGE = (4.3, 5.2)  # Angstrom


def strand_problems(n: int) -> list[tuple[str, np.ndarray]]:
    """``n`` (blueprint, pairs [2, P]) of val chains (seeded order)."""
    chains = load_chain_set(default_data_path("pdb_chains.npz"), "val")
    out = []
    for i in np.random.default_rng(0).permutation(len(chains)):
        bp = blueprint_from_dssp(str(chains.dssp[int(i)]))
        size = len(bp)
        ca = chains.atoms(int(i))[:, 1]
        if not 60 <= size <= 128 or bp.count("E") < 0.2 * size or bp.count("L") > 0.5 * size:
            continue
        if not np.isfinite(ca).all():
            continue
        strand = np.array([c == "E" for c in bp])
        near = np.linalg.norm(ca[:, None] - ca[None], axis=-1) < 5.5
        apart = np.abs(np.arange(size)[:, None] - np.arange(size)[None]) >= 3
        rows, cols = np.nonzero(near & strand[:, None] & strand[None] & apart)
        keep = rows < cols
        out.append((bp, np.stack([rows[keep], cols[keep]])))
        if len(out) == n:
            break
    return out


def pair_steering(pairs: list[np.ndarray], weight: float, active_steps: float):
    """A drop-in for ``restrain_ca`` that also pulls the pairs of batch row b together."""
    own, calls = sampler.restrain_ca, [0]

    def restrain(x, mask, iterations=20, step_size=0.1, k=16):
        x = own(x, mask, iterations, step_size, k)
        calls[0] += 1
        if weight == 0 or calls[0] > active_steps:
            return x
        start, x = x.clone(), x.clone()
        for _ in range(iterations):
            grad = torch.zeros_like(x)
            for b, pair in enumerate(pairs):
                i, j = torch.as_tensor(pair[0]), torch.as_tensor(pair[1])
                diff = x[b, i] - x[b, j]
                dist = diff.norm(dim=-1).clamp_min(1e-6)
                excess = (dist - PAIR_RANGE[1]).clamp_min(0) - (PAIR_RANGE[0] - dist).clamp_min(0)
                force = (excess / dist)[:, None] * diff
                grad[b].index_add_(0, i, force)
                grad[b].index_add_(0, j, -force)
            x = x - step_size * min(weight, 5.0) * grad
        return start + max(weight / 5.0, 1.0) * (x - start)

    return restrain


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--weight", type=float, default=20.0)
    parser.add_argument("--n", type=int, default=6)
    parser.add_argument("--fraction", type=float, default=1.0)
    parser.add_argument("--rotation-score-scale", type=float, default=3.0)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args(argv)
    problems = strand_problems(args.n)
    order = sorted(range(len(problems)), key=lambda k: (len(problems[k][0]), k))  # batch rows
    sampler.restrain_ca = pair_steering(
        [problems[k][1] for k in order], args.weight, args.fraction * args.steps
    )
    samples = sampler.sample_backbones(
        load(args.model), [], 1, blueprints=[bp for bp, _ in problems], progress=False, seed=1,
        rotation_score_scale=args.rotation_score_scale, blueprint_prior=False, steps=args.steps,
        batch_size=len(problems),
    )  # fmt: skip
    totals = dict.fromkeys(("strand", "paired", "helix", "agreement", "beta", "requested"), 0.0)
    met, residues = [], 0
    for (bp, pairs), sample in zip(problems, samples, strict=True):
        atoms = sample.atoms
        dist = np.linalg.norm(atoms[pairs[0], 1] - atoms[pairs[1], 1], axis=-1)
        met.append(float((dist < 5.6).mean()))
        states8 = dssp_eight_state(atoms)
        states = three_state(states8)
        _, paired = paired_strands(states8, atoms[:, 1])
        phi, psi = phi_psi(atoms)
        asked = np.array([c == "E" for c in bp])
        beta = (phi < -1.2) & ((psi > 1.6) | (psi < -2.8))
        totals["strand"] += (states == "E").sum()
        totals["paired"] += paired.sum()
        totals["helix"] += (states == "H").sum()
        totals["agreement"] += (np.array(list(bp)) == np.where(states == "C", "L", states)).sum()
        totals["beta"] += beta[asked].sum()
        totals["requested"] += asked.sum()
        residues += len(bp)
    report = {k: float(totals[k] / residues) for k in ("strand", "paired", "helix", "agreement")}
    report.update(
        requested_strand=float(totals["requested"] / residues),
        requested_strand_with_beta_phi_psi=float(totals["beta"] / totals["requested"]),
        pairs_within_5_6=float(np.mean(met)),
        weight=args.weight,
        fraction=args.fraction,
    )
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
