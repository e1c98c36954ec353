"""Issue-16 evaluation metrics on real val chains: secondary-structure elements, strand pairing,
chains passing every check, TM-score clusters, blueprint agreement read back from report.csv,
and the issue-16 acceptance floors."""

from __future__ import annotations

import re

import numpy as np
import pytest

from molgen.checks import check_backbone
from molgen.errors import InputError
from molgen.evaluation import (
    ACCEPTANCE,
    acceptance,
    dssp_eight_state,
    evaluate_backbones,
    paired_strands,
    read_backbone_dir,
    read_blueprints,
    reference_set,
    ss_elements,
    three_state,
    tm_clusters,
    tm_score,
)
from molgen.io import load_chain_set, write_pdb
from molgen.io.tables import write_records


@pytest.fixture(scope="module")
def val_chains(chain_set_path):
    """The first 12 whole val chains of 60-130 residues: (name, atoms, stored 8-state DSSP)."""
    chains = load_chain_set(chain_set_path, "val")
    pick = [i for i in range(len(chains)) if 60 <= chains.lengths[i] <= 130][:12]
    return [(chains.names[i], chains.atoms(i), chains.dssp[i]) for i in pick]


@pytest.fixture(scope="module")
def beta_rich(val_chains):
    """Those of the 12 whose stored DSSP has >= 30% E (5 chains)."""
    return [(n, a) for n, a, dssp in val_chains if dssp.count("E") >= 0.3 * len(dssp)]


@pytest.fixture(scope="module")
def protocol_set(chain_set_path):
    """32 val chains, 8 each of 60, 80, 100 and 128 residues (the issue-16 length range)."""
    return reference_set(chain_set_path, "val", [60, 80, 100, 128], 8, seed=0)


@pytest.fixture(scope="module")
def protocol_summary(protocol_set):
    return evaluate_backbones(protocol_set, None, mpnn=False)


def test_ss_elements_on_hand_made_string():
    """Helix elements: runs of H/G/I >= 4; strand elements: runs of E/B >= 2; gaps split."""
    dssp = "HHHHCHHHCCEECECCEEEEEGGGGHHBBTSHH-HHEE"
    states = three_state(dssp)
    assert "".join(states) == "HHHHCHHHCCEECECCEEEEEHHHHHHEECCHH-HHEE"
    assert ss_elements(states, "H", 4) == [(0, 4), (21, 27)]
    assert ss_elements(states, "E", 2) == [(10, 12), (16, 21), (27, 29), (36, 38)]
    assert ss_elements(three_state("HHHHHHH"), "H", 4) == [(0, 7)]
    assert ss_elements(three_state("CCTSC"), "E", 2) == []


def test_element_counts_on_real_chains_match_stored_dssp(val_chains):
    """Element counts from coordinates (mdtraj DSSP) against the same definition applied to
    the DSSP strings shipped with the chain set: equal on >= 10 of 12 chains, totals within
    10%, and the set means are what evaluate_backbones reports."""
    ours, stored = [], []
    for _, atoms, dssp in val_chains:
        states = three_state(dssp_eight_state(atoms))
        ours.append((len(ss_elements(states, "H", 4)), len(ss_elements(states, "E", 2))))
        stored.append((len(re.findall("[HGI]{4,}", dssp)), len(re.findall("[EB]{2,}", dssp))))
    ours, stored = np.array(ours), np.array(stored)
    assert (ours == stored).all(1).sum() >= 10
    assert np.abs(ours.sum(0) - stored.sum(0)).max() <= 0.1 * stored.sum(0).min()
    summary = evaluate_backbones([(n, a) for n, a, _ in val_chains], None)
    assert summary["helix_elements_per_chain"] == pytest.approx(ours[:, 0].mean())
    assert summary["strand_elements_per_chain"] == pytest.approx(ours[:, 1].mean())
    assert summary["helix_elements_per_chain"] > 1 and summary["strand_elements_per_chain"] > 3


def test_paired_strand_fraction_high_on_beta_rich_chains(beta_rich):
    """Real beta-rich val chains: > 80% of strand residues sit in a paired ladder."""
    assert len(beta_rich) == 5
    summary = evaluate_backbones(beta_rich, None)
    assert summary["n_strand_residues"] > 150
    assert summary["paired_strand_fraction"] > 0.8
    per_chain = [r["paired_strand_fraction"] for r in summary["per_structure"]]
    assert min(per_chain) > 0.75


def test_isolated_strand_segment_is_unpaired(beta_rich):
    """One strand element cut out alone: DSSP finds no strand (fraction None), and even with
    the E labels it had inside its sheet, no residue counts as paired (no other strand's CA
    within 5.5 A); relabelling the whole chain's E as isolated bridges B pairs nothing."""
    _, atoms = beta_rich[0]
    states8 = dssp_eight_state(atoms)
    start, stop = max(ss_elements(three_state(states8), "E", 2), key=lambda r: r[1] - r[0])
    assert stop - start >= 5
    segment = atoms[start:stop]
    alone = evaluate_backbones([("segment", segment)], None)
    assert alone["n_strand_residues"] == 0 and alone["paired_strand_fraction"] is None
    assert alone["strand_elements_per_chain"] == 0
    strand, paired = paired_strands(states8[start:stop], segment[:, 1])
    assert strand.all() and not paired.any()
    strand, paired = paired_strands(states8, atoms[:, 1])
    assert paired[start:stop].mean() > 0.8  # the same residues inside their sheet
    strand_b, paired_b = paired_strands(np.where(states8 == "E", "B", states8), atoms[:, 1])
    assert (strand_b == strand).all() and not paired_b.any()


def test_paired_strands_distance_and_separation_rules():
    """Hand-placed CAs: an E residue of another element 5 A away but only 2 residues along
    the chain does not pair; one 4.8 A away and 4 residues along does (both ways); 5.6 A does
    not."""
    ca = np.arange(7)[:, None] * np.array([3.8, 0.0, 0.0])
    ca[5] = ca[3] + [0.0, 5.0, 0.0]
    strand, paired = paired_strands("EEECEEE", ca)
    assert strand.tolist() == [True] * 3 + [False] + [True] * 3 and not paired.any()
    ca[6] = ca[2] + [0.0, 0.0, 4.8]
    assert np.flatnonzero(paired_strands("EEECEEE", ca)[1]).tolist() == [2, 6]
    ca[6] = ca[2] + [0.0, 0.0, 5.6]
    assert not paired_strands("EEECEEE", ca)[1].any()


def test_checks_passed_fraction(beta_rich):
    """Fraction of chains whose check_backbone record passes: real chains 1, a real chain
    shifted by 10 A from residue 31 on (a CA break) counts as failing."""
    broken = beta_rich[0][1].copy()
    broken[30:] += np.array([0.0, 0.0, 10.0])
    structures = [*beta_rich, ("broken", broken)]
    summary = evaluate_backbones(structures, None)
    expected = [check_backbone(a)["checks_passed"] for _, a in structures]
    assert expected == [True] * 5 + [False]
    assert summary["checks_passed_fraction"] == pytest.approx(5 / 6)


def test_tm_clusters_copies_and_unrelated_chains(protocol_set):
    """Identical (and 0.2 A-jittered) copies form one cluster; unrelated real chains of the
    same length (pairwise TM < 0.5) stay separate; other lengths never join."""
    rng = np.random.default_rng(0)
    unrelated = [s for s in protocol_set if len(s[1]) == 80][:5]
    for (_, a), (_, b) in [(unrelated[i], unrelated[j]) for i in range(5) for j in range(i)]:
        assert np.mean(tm_score(a, b)) < 0.5
    name, atoms = unrelated[0]
    copies = [(f"{name}_copy{k}", atoms + rng.normal(scale=0.2 * (k > 0), size=atoms.shape))
              for k in range(4)]  # fmt: skip
    assert tm_clusters(copies) == [0, 0, 0, 0]
    assert tm_clusters(unrelated) == [0, 1, 2, 3, 4]
    structures = [*copies, *unrelated[1:], ("crop", atoms[:60])]
    assert tm_clusters(structures) == [0, 0, 0, 0, 1, 2, 3, 4, 5]
    summary = evaluate_backbones(structures, None)
    assert summary["n_tm_clusters"] == 6
    assert summary["tm_cluster_fraction"] == pytest.approx(6 / 9)


def test_tm_clusters_single_linkage():
    """A-B and B-C above the threshold join A and C even when A-C is below it."""
    structures = [(str(k), np.zeros((10, 4, 3))) for k in range(4)]
    scores = {(0, 1): 0.6, (1, 2): 0.55, (0, 2): 0.1, (0, 3): 0.49, (1, 3): 0.2, (2, 3): 0.3}
    assert tm_clusters(structures, scores=scores) == [0, 0, 0, 1]
    assert tm_clusters(structures, threshold=0.3, scores=scores) == [0, 0, 0, 0]


def test_blueprint_agreement_read_back_from_report(val_chains, tmp_path):
    """report.csv blueprints (path, blueprint) are read back by file stem and pooled over
    specified residues: an exact blueprint with 10 X scores 1 on L - 10 residues, an all-E
    one scores the strand fraction on L residues; empty blueprints and unknown paths skip."""
    (name_a, atoms_a, _), (name_b, atoms_b, _), (name_c, atoms_c, _) = val_chains[1:4]
    for name, atoms in [(name_a, atoms_a), (name_b, atoms_b), (name_c, atoms_c)]:
        write_pdb(atoms, tmp_path / f"{name}.pdb")
    structures = read_backbone_dir(tmp_path)
    assert read_blueprints(tmp_path) is None  # no report.csv
    atoms = dict(structures)
    exact = "".join(three_state(dssp_eight_state(atoms[name_a]))).replace("C", "L")
    exact = "X" * 10 + exact[10:]
    strand = "E" * len(atoms[name_b])
    rows = [
        {"path": f"{name_a}.pdb", "length": len(exact), "blueprint": exact},
        {"path": f"{name_b}.pdb", "length": len(strand), "blueprint": strand},
        {"path": f"{name_c}.pdb", "length": len(atoms[name_c]), "blueprint": None},
        {"path": "gone.pdb", "length": 5, "blueprint": "HHHHH"},
    ]
    write_records(rows, tmp_path / "report.csv")
    blueprints = read_blueprints(tmp_path)
    assert blueprints == {name_a: exact, name_b: strand, "gone": "HHHHH"}
    summary = evaluate_backbones(structures, None, blueprints=blueprints)
    strand_b = next(r for r in summary["per_structure"] if r["name"] == name_b)
    n_a, n_b = len(exact) - 10, len(strand)
    expected = (n_a * 1.0 + n_b * strand_b["strand_fraction"]) / (n_a + n_b)
    assert 0.2 < strand_b["strand_fraction"] < 0.8
    assert summary["ss_agreement"] == pytest.approx(expected)
    assert summary["n_blueprint_structures"] == 2 and summary["n_blueprint_residues"] == n_a + n_b
    assert acceptance(summary)["ss_agreement"]["value"] == pytest.approx(expected)
    assert evaluate_backbones(structures, None)["ss_agreement"] is None
    assert "ss_agreement" not in acceptance(evaluate_backbones(structures, None))
    with pytest.raises(InputError, match="blueprint of 5 letters"):
        evaluate_backbones(structures, None, blueprints={name_c: "HHHHH"})
    write_records([{"path": f"{name_a}.pdb", "length": 1}], tmp_path / "report.csv",
                  overwrite=True)  # fmt: skip
    assert read_blueprints(tmp_path) is None  # no blueprint column


def test_acceptance_has_issue16_floors():
    """The issue-16 floors; ProteinMPNN and blueprint agreement only when measured."""
    assert ACCEPTANCE["strand_fraction"] == (">=", 0.15)
    assert ACCEPTANCE["helix_plus_strand_fraction"] == (">=", 0.60)
    assert ACCEPTANCE["rama_favoured_fraction"] == (">=", 0.95)
    assert ACCEPTANCE["checks_passed_fraction"] == (">=", 0.60)
    assert ACCEPTANCE["ca_break_fraction"] == ACCEPTANCE["ca_clash_fraction"] == ("<=", 0.01)
    assert ACCEPTANCE["mpnn_mean_nll"] == ("<=", 1.10)
    assert ACCEPTANCE["mean_pairwise_tm"] == ("<=", 0.45)
    assert ACCEPTANCE["ss_agreement"] == (">=", 0.75)
    assert set(acceptance({})) == set(ACCEPTANCE) - {"mpnn_mean_nll", "ss_agreement"}
    assert not any(v["pass"] for v in acceptance({}).values())
    result = acceptance({"mpnn_mean_nll": 1.2, "ss_agreement": 0.8})
    assert result["mpnn_mean_nll"]["pass"] is False and result["ss_agreement"]["pass"] is True


def test_real_chains_pass_issue16_acceptance(protocol_summary):
    """32 real val chains of 60-128 residues pass every issue-16 floor; they are mostly
    distinct folds (>= 80% clusters per chain) and > 80% of their strand residues pair."""
    result = acceptance(protocol_summary)
    assert all(v["pass"] for v in result.values()), result
    assert protocol_summary["tm_cluster_fraction"] >= 0.8
    assert protocol_summary["paired_strand_fraction"] > 0.8
    assert protocol_summary["mpnn_mean_nll"] is None and protocol_summary["ss_agreement"] is None
