"""scripts/bench_motif.py: 12 problems of five kinds from val chains, and a tiny end-to-end
run with a tiny model."""

from __future__ import annotations

import json

from molgen.io.chainset import ChainSet
from molgen.models import FrameScoreNetwork, FrameScoreNetworkConfig, save
from molgen.sample.contig import Contig
from tests.conftest import DATA_DIR
from tests.scripts.script_loader import load_script

TINY = {"hidden_irreps": "8x0e + 2x1o + 2x1e", "num_layers": 1, "k": 6, "mlp_dim": 16}


def _bench():
    return load_script("bench_motif")


def test_problems_cover_every_kind_from_distinct_val_chains():
    """12 problems (3 helices, 2 hairpins, 3 pairs, 2 triples, 2 loops), one per val chain;
    each contig parses, names 1-3 motif segments of at most 40 residues and allows totals
    inside the benchmark's length range."""
    bench = _bench()
    chains = ChainSet(DATA_DIR / "pdb_chains.npz", split="val")
    problems = bench.find_problems(chains)
    kinds = [p["kind"] for p in problems]
    assert {k: kinds.count(k) for k in bench.KINDS} == bench.KINDS
    assert len({p["index"] for p in problems}) == len(problems) == 12
    segments = {"helix": 1, "hairpin": 1, "loop": 1, "pair": 2, "triple": 3}
    for problem in problems:
        contig = Contig.parse(problem["contig"])
        assert len(contig.motif_segments) == segments[problem["kind"]]
        assert contig.motif_length <= 40
        low, high = contig.length_bounds()
        assert low <= bench.LENGTH_RANGE[1] and high >= bench.LENGTH_RANGE[0]


def test_bench_runs_end_to_end(tmp_path, capsys):
    """One problem, two samples, two steps, one partial-diffusion chain: the JSON report
    has the per-problem and summary fields."""
    save(FrameScoreNetwork(FrameScoreNetworkConfig(**TINY)), tmp_path / "model")
    out = tmp_path / "bench.json"
    argv = ["--model", str(tmp_path / "model"), "--chain-set", str(DATA_DIR / "pdb_chains.npz"),
            "--problems", "1", "--num", "2", "--steps", "2", "--device", "cpu",
            "--partial-chains", "1", "--partial-num", "1", "--out", str(out)]  # fmt: skip
    _bench().main(argv)
    report = json.loads(out.read_text())
    problem = report["problems"][0]
    assert len(problem["samples"]) == 2 and 0 <= problem["success_fraction"] <= 1
    assert report["summary"]["problems"] == 1
    assert report["partial"]["samples"] == 1
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == report["summary"]
