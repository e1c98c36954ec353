"""Benchmark motif scaffolding (and partial diffusion) on motifs cut from val chains.

Problems are found deterministically in the val split of the chain set, one per kind and
chain, at most one per chain: helices of three lengths, beta-hairpins (two strands joined
by a 2-5 residue turn, in contact), discontinuous pairs of segments in contact, three short
segments around one spot (a catalytic-site-like arrangement) and loops. Each problem is a
contig over its chain (written to a temporary PDB as chain A, residues numbered from 1)
whose scaffold ranges allow other lengths than the source's, with total length 50-110.

For each problem ``--num`` samples are drawn with the default sampler; a sample *succeeds*
when its motif CA RMSD (the network's final prediction against the input motif, after
superposition) is at most 1 A and its backbone passes the break and clash checks
(``ca_breaks``, ``peptide_bonds``, ``ca_contacts``, ``ca_clashes`` of
:func:`molgen.checks.check_backbone`). Reported per problem: the success fraction, the
number of TM-score clusters (single linkage at 0.5, over all pairs whatever their length)
among the successes, the mean motif CA RMSD of the successes, and the mean TM-score of the
samples to the source chain (normalised by the sample). With ``--partial-chains N``, N val
chains of 50-150 residues are also diversified by partial diffusion at ``--partial-t``:
the fraction of samples passing the same checks and their mean TM-score to the input.

Prints (and with ``--out`` writes) one JSON object::

    {"settings": {...}, "problems": [{"name", "kind", "source", "contig", "success_fraction",
     "clusters", "motif_ca_rmsd_success_mean", "tm_to_source_mean", "samples": [...]}, ...],
     "summary": {"problems", "problems_with_success", "success_fraction",
     "motif_ca_rmsd_success_mean", "tm_to_source_mean"}, "partial": {...} or null}

Usage: ``python scripts/bench_motif.py [--steps 200] [--num 8] [--device auto]
[--partial-chains 16] [--partial-t 0.3] [--out motif_bench.json]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from itertools import combinations
from pathlib import Path

import numpy as np

from molgen.devices import resolve_device
from molgen.evaluation import tm_clusters, tm_score
from molgen.io.chainset import ChainSet
from molgen.io.structure import Protein
from molgen.io.writers import write_pdb
from molgen.models import load
from molgen.paths import default_data_path
from molgen.sample import sample_backbones

#: Checks a scaffold must pass (chain breaks and clashes).
CHECKS = ("ca_breaks", "peptide_bonds", "ca_contacts", "ca_clashes")
#: Motif CA RMSD (Angstrom) at most this for a success.
MAX_MOTIF_RMSD = 1.0
#: Total length of every scaffold (residues).
LENGTH_RANGE = (50, 110)
#: Problems of each kind (12 in all).
KINDS = {"helix": 3, "hairpin": 2, "pair": 3, "triple": 2, "loop": 2}


def three_state(dssp: str) -> str:
    """DSSP 8-state to H (H, G, I), E (E, B), L (the rest)."""
    return "".join("H" if c in "HGI" else "E" if c in "EB" else "L" for c in dssp)


def runs(states: str, letter: str) -> list[tuple[int, int]]:
    """0-based inclusive (start, end) of each run of ``letter``."""
    out, start = [], None
    for i, c in enumerate(states + "#"):
        if c == letter and start is None:
            start = i
        elif c != letter and start is not None:
            out.append((start, i - 1))
            start = None
    return out


def _ca_distances(atoms: np.ndarray) -> np.ndarray:
    ca = atoms[:, 1]
    return np.linalg.norm(ca[:, None] - ca[None], axis=-1)


def _in_contact(d: np.ndarray, a: tuple[int, int], b: tuple[int, int], cutoff: float) -> int:
    """Number of CA pairs closer than ``cutoff`` (A) between segments a and b."""
    return int((d[a[0] : a[1] + 1, b[0] : b[1] + 1] < cutoff).sum())


def _find(kind: str, states: str, d: np.ndarray) -> list[tuple[int, int]] | None:
    """Motif segments (0-based inclusive) of ``kind`` in one chain, or None."""
    n = len(states)
    if kind == "helix":
        for a, b in runs(states, "H"):
            if b - a + 1 >= 14 and a >= 5 and b < n - 5:
                mid = (a + b) // 2
                return [(mid - 6, mid + 6)]
    if kind == "loop":
        for a, b in runs(states, "L"):
            if 6 <= b - a + 1 <= 10 and a >= 5 and b < n - 5:
                return [(a - 1, b + 1)]
    if kind == "hairpin":
        strands = runs(states, "E")
        for (a, b), (c, e) in zip(strands, strands[1:], strict=False):
            if b - a >= 3 and e - c >= 3 and 2 <= c - b - 1 <= 5 and a >= 3 and e < n - 3:
                segment = (max(a, b - 5), min(e, c + 5))
                if _in_contact(d, (segment[0], b), (c, segment[1]), 5.5) >= 2:
                    return [segment]
    if kind == "pair":
        for i in range(5, n - 30, 3):
            for j in range(i + 25, n - 12, 3):
                a, b = (i, i + 6), (j, j + 6)
                if _in_contact(d, a, b, 8.0) >= 6:
                    return [a, b]
    if kind == "triple":
        for i in range(5, n - 40, 2):
            for j in range(i + 15, n - 20, 2):
                for k in range(j + 15, n - 5, 2):
                    segs = [(i, i + 3), (j, j + 3), (k, k + 3)]
                    mid = [a + 1 for a, _ in segs]
                    if all(d[mid[p], mid[q]] < 10.0 for p, q in combinations(range(3), 2)):
                        return segs
    return None


def contig_for(segments: list[tuple[int, int]], length: int) -> str:
    """A contig over 1-based residues: flanks and gaps as ranges around the source's."""
    parts, previous = [], -1
    for a, b in segments:
        gap = a - previous - 1
        low = 5 if previous < 0 else max(4, gap - 10)
        high = 25 if previous < 0 else gap + 10
        parts += [f"{low}-{high}", f"A{a + 1}-{b + 1}"]
        previous = b
    parts.append("5-25")
    return "/".join(parts)


def find_problems(chains: ChainSet) -> list[dict]:
    """``KINDS`` problems, each from a different val chain of 60-200 residues."""
    want = dict(KINDS)
    problems, used = [], set()
    for i in range(len(chains)):
        if not 60 <= chains.lengths[i] <= 200 or not any(want.values()):
            continue
        atoms, states = chains.atoms(i), three_state(str(chains.dssp[i]))
        d = _ca_distances(atoms)
        for kind in [k for k, left in want.items() if left]:
            if i in used:
                break
            segments = _find(kind, states, d)
            if segments is None:
                continue
            motif_length = sum(b - a + 1 for a, b in segments)
            if motif_length > 40:
                continue
            used.add(i)
            want[kind] -= 1
            name = f"{kind}_{KINDS[kind] - want[kind]}"
            contig = contig_for(segments, int(chains.lengths[i]))
            problems.append({"name": name, "kind": kind, "index": i,
                             "source": str(chains.names[i]), "contig": contig})  # fmt: skip
    return problems


def _passes(record: dict) -> bool:
    return not set(record["failed_checks"]) & set(CHECKS)


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def run_problem(network, chains: ChainSet, problem: dict, args, folder: Path) -> dict:
    """Sample one problem and score its samples."""
    from molgen.checks import check_backbone

    source = chains.atoms(problem["index"])
    motif_file = folder / f"{problem['name']}.pdb"
    sequence = str(chains.sequences[problem["index"]])
    write_pdb(Protein(sequence, source, chain_id="A"), motif_file, overwrite=True)
    samples = sample_backbones(
        network, num=args.num, contig=problem["contig"], motif=str(motif_file),
        length_range=LENGTH_RANGE, steps=args.steps, seed=args.seed, device=args.device,
        progress=False,
    )  # fmt: skip
    rows, good = [], []
    for sample in samples:
        record = check_backbone(sample.atoms)
        tm, _ = tm_score(sample.atoms, source)
        ok = sample.motif.ca_rmsd <= MAX_MOTIF_RMSD and _passes(record)
        rows.append({"length": sample.length, "motif_ca_rmsd": round(sample.motif.ca_rmsd, 3),
                     "checks": _passes(record), "success": ok, "tm_to_source": round(tm, 3),
                     "failed_checks": record["failed_checks"]})  # fmt: skip
        if ok:
            good.append(sample)
    scores = {(i, j): float(np.mean(tm_score(good[i].atoms, good[j].atoms)))
              for i, j in combinations(range(len(good)), 2)}  # fmt: skip
    labels = tm_clusters([(str(k), s.atoms) for k, s in enumerate(good)], 0.5, scores=scores)
    return {
        **{k: problem[k] for k in ("name", "kind", "source", "contig")},
        "success_fraction": len(good) / len(samples),
        "clusters": len(set(labels)),
        "motif_ca_rmsd_success_mean": _mean([s.motif.ca_rmsd for s in good]),
        "tm_to_source_mean": _mean([r["tm_to_source"] for r in rows]),
        "samples": rows,
    }


def run_partial(network, chains: ChainSet, args, folder: Path) -> dict:
    """Partial diffusion of ``--partial-chains`` val chains of 50-150 residues."""
    from molgen.checks import check_backbone

    picked = [i for i in range(len(chains)) if 50 <= chains.lengths[i] <= 150]
    picked = picked[: args.partial_chains]
    rows = []
    for i in picked:
        path = folder / f"partial_{i}.pdb"
        write_pdb(chains.atoms(i), path, overwrite=True)
        samples = sample_backbones(
            network, num=args.partial_num, input=str(path), partial_t=args.partial_t,
            steps=args.steps, seed=args.seed, device=args.device, progress=False,
        )  # fmt: skip
        for sample in samples:
            tm, _ = tm_score(sample.atoms, chains.atoms(i))
            rows.append({"source": str(chains.names[i]), "tm_to_input": round(tm, 3),
                         "checks": _passes(check_backbone(sample.atoms))})  # fmt: skip
    return {
        "chains": len(picked),
        "samples": len(rows),
        "partial_t": args.partial_t,
        "checks_fraction": _mean([float(r["checks"]) for r in rows]),
        "tm_to_input_mean": _mean([r["tm_to_input"] for r in rows]),
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="backbone")
    parser.add_argument("--chain-set", type=Path, default=None, help="pdb_chains.npz")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--num", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--problems", type=int, default=None, help="Only the first N.")
    parser.add_argument("--partial-chains", type=int, default=0)
    parser.add_argument("--partial-num", type=int, default=4)
    parser.add_argument("--partial-t", type=float, default=0.3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    chains = ChainSet(args.chain_set or default_data_path("pdb_chains.npz"), split="val")
    network = load(args.model, device=resolve_device(args.device))
    problems = find_problems(chains)[: args.problems]
    tick = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for problem in problems:
            results.append(run_problem(network, chains, problem, args, Path(tmp)))
        partial = run_partial(network, chains, args, Path(tmp)) if args.partial_chains else None
    every = [s for r in results for s in r["samples"]]
    successes = [s for s in every if s["success"]]
    report = {
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "seconds": round(time.perf_counter() - tick, 1),
        "problems": results,
        "summary": {
            "problems": len(results),
            "problems_with_success": sum(r["success_fraction"] > 0 for r in results),
            "success_fraction": _mean([float(s["success"]) for s in every]),
            "motif_ca_rmsd_success_mean": _mean([s["motif_ca_rmsd"] for s in successes]),
            "tm_to_source_mean": _mean([s["tm_to_source"] for s in every]),
        },
        "partial": partial,
    }
    text = json.dumps(report, indent=2)
    if args.out is not None:
        args.out.write_text(text + "\n")
    print(json.dumps(report["summary"]))
    return report


if __name__ == "__main__":
    main()
