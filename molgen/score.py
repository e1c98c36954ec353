"""Score structures for design pipelines: validity checks plus a learned plausibility score.

:func:`score_structures` (what ``molgen score`` calls) reads PDB/mmCIF (optionally ``.gz``) and
SDF files, or directories of them (walked recursively), and returns one row per protein chain
or molecule conformer. Proteins get :func:`molgen.checks.check_backbone` and the backbone
model's denoising score (:mod:`molgen.scoring.backbone`); molecules get
:func:`molgen.checks.check_conformers` and the torsion model's score
(:mod:`molgen.scoring.molecule`).

Public columns, first in every row: ``path``; ``chain`` (proteins) or ``record`` (0-based SDF
record), ``name`` and ``conformer_id`` (molecules); ``model_score`` (higher = more plausible,
None without a model); ``pass`` (all checks passed and, if ``min_score`` is given,
``model_score >= min_score``); ``reasons`` (failed check names, plus ``"model_score"`` when
below the threshold); ``error`` (None, or the one-line reason a file could not be read or
checked: that row has ``pass`` False, ``reasons`` ``["error"]`` and nulls elsewhere). The
check diagnostics follow.

Missing models: the default names ``"backbone"`` and ``"conformer"`` refer to bundled
weights (``molgen/weights/``). If a default is not installed, a one-line warning is issued and
``model_score`` is None for those rows (the checks still decide ``pass``); an explicit name or
directory that cannot be loaded is an :class:`~molgen.errors.InputError`.
"""

from __future__ import annotations

import multiprocessing
import os
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from molgen.errors import InputError

__all__ = ["collect_files", "score_structures", "summarize_scores"]

PROTEIN_SUFFIXES = (".pdb", ".ent", ".cif", ".mmcif")
MOLECULE_SUFFIXES = (".sdf",)
DEFAULT_MODELS = {"protein": "backbone", "molecule": "conformer"}
_CHUNK = 256  # structures held in memory (atoms) before they are model-scored and dropped


def _kind(path: Path) -> str:
    name = path.name.lower().removesuffix(".gz")
    return "molecule" if name.endswith(MOLECULE_SUFFIXES) else "protein"


def _is_structure_file(path: Path) -> bool:
    name = path.name.lower().removesuffix(".gz")
    return name.endswith(PROTEIN_SUFFIXES + MOLECULE_SUFFIXES)


def collect_files(paths: Sequence[str | os.PathLike]) -> list[Path]:
    """Files named in ``paths`` plus structure files under directories (recursive, sorted).

    Raises
    ------
    InputError
        A path that does not exist.
    """
    files: list[Path] = []
    for item in paths:
        path = Path(item)
        if not path.exists():
            raise InputError("no such file or directory", path)
        if path.is_dir():
            found = (p for p in path.rglob("*") if p.is_file() and _is_structure_file(p))
            files.extend(sorted(found))
        else:
            files.append(path)
    return files


def _head(path: Path, kind: str, **keys: Any) -> dict[str, Any]:
    if kind == "protein":
        ident = {"chain": keys.pop("chain", None)}
    else:
        ident = {k: keys.pop(k, None) for k in ("record", "name", "conformer_id")}
    head = {"path": str(path), **ident, "model_score": None, "pass": False, "reasons": []}
    head["error"] = None
    head.update(keys)
    return head


def _read_and_check(task: tuple[str, str | None]) -> list[tuple[dict[str, Any], Any]]:
    """Rows and model inputs of one file: ``[(row, atoms or (mol, conf_id)), ...]``.

    Runs in worker processes; any failure becomes one error row instead of an exception.
    """
    path, chain = Path(task[0]), task[1]
    kind = _kind(path)
    try:
        out = []
        if kind == "protein":
            from molgen.checks import check_backbone
            from molgen.io import read_structure

            for protein in read_structure(path, chain=chain):
                record = check_backbone(protein.atoms, protein.atom_mask, protein.sequence)
                out.append(({**_head(path, kind, chain=protein.chain_id), **record}, protein.atoms))
        else:
            from molgen.checks import check_conformers
            from molgen.io import read_sdf

            for index, mol in enumerate(read_sdf(path)):
                name = mol.GetProp("_Name") if mol.HasProp("_Name") else ""
                for record in check_conformers(mol):
                    row = _head(path, kind, record=index, name=name)
                    out.append(({**row, **record}, (mol, record["conformer_id"])))
        return out
    except Exception as err:  # noqa: BLE001 - a bad file must not abort the batch
        message = (
            str(err) if isinstance(err, InputError) else f"{path}: {type(err).__name__}: {err}"
        )
        row = _head(path, kind, reasons=["error"], error=" ".join(message.split()))
        return [(row, None)]


class _Models:
    """Lazily loaded models; a missing default bundled model gives one warning and None."""

    def __init__(self, specs: dict[str, Any], device: Any) -> None:
        self.specs, self.device, self.cache = specs, device, {}

    def get(self, kind: str):
        if kind not in self.cache:
            from torch import nn

            from molgen.models import bundled_names, load

            spec = self.specs[kind]
            if spec is None or isinstance(spec, nn.Module):
                model = spec
            elif (
                spec == DEFAULT_MODELS[kind]
                and spec not in bundled_names()
                and not Path(spec).is_dir()
            ):
                warnings.warn(
                    f"bundled {spec!r} model is not installed: model_score is empty for "
                    f"{kind} rows (pass a checkpoint directory to score them)",
                    stacklevel=3,
                )
                model = None
            else:
                model = load(spec, device=self.device)
            self.cache[kind] = model.to(self.device).eval() if model is not None else None
        return self.cache[kind]


def _score_chunk(pending: list, models: _Models, seed: int, batch_size: int) -> None:
    """Fill ``model_score`` (and diagnostics) of the pending rows in place."""
    proteins = [(row, x) for row, x in pending if x is not None and "chain" in row]
    if proteins and (net := models.get("protein")) is not None:
        from molgen.scoring.backbone import backbone_model_scores

        values = backbone_model_scores(
            net, [x for _, x in proteins], seed=seed, batch_size=batch_size, device=models.device
        )
        for (row, _), value in zip(proteins, values, strict=True):
            row.update(value)
    molecules = [(row, x) for row, x in pending if x is not None and "record" in row]
    if molecules and (net := models.get("molecule")) is not None:
        from molgen.scoring.molecule import conformer_model_scores

        for row, (mol, conf_id) in molecules:
            [row["model_score"]] = conformer_model_scores(
                net, mol, [conf_id], seed=seed, device=models.device
            )


def _finish(row: dict[str, Any], min_score: float | None) -> dict[str, Any]:
    if row["error"] is None:
        reasons = list(row.get("failed_checks") or [])
        score = row["model_score"]
        if min_score is not None and score is not None and score < min_score:
            reasons.append("model_score")
        row["reasons"], row["pass"] = reasons, bool(row.get("checks_passed")) and not reasons
    return row


def _results(tasks: list, workers: int) -> Iterator[list]:
    if workers <= 1:
        yield from map(_read_and_check, tasks)
        return
    context = multiprocessing.get_context("spawn")  # no forked torch/OpenMP state
    with context.Pool(workers, initializer=_init_worker) as pool:
        yield from pool.imap(_read_and_check, tasks, chunksize=2)


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)


def score_structures(
    paths: Sequence[str | os.PathLike],
    *,
    model: Any = "backbone",
    conformer_model: Any = "conformer",
    min_score: float | None = None,
    chain: str | None = None,
    workers: int = 1,
    batch_size: int = 32,
    device: str = "cpu",
    seed: int = 0,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Score every structure in ``paths``: one row per protein chain or molecule conformer.

    Parameters
    ----------
    paths : sequence of paths
        Files (PDB/mmCIF/``.gz``/SDF) and directories (walked recursively for those).
    model, conformer_model : str, path, nn.Module or None
        Backbone (FrameScoreNetwork) and torsion (TorsionScoreNetwork) models: a bundled name,
        a checkpoint directory, a loaded module, or None for no learned score.
    min_score : float, optional
        Rows with ``model_score`` below this fail with reason ``"model_score"``.
    chain : str, optional
        Only this chain of each protein file.
    workers : int
        Processes reading and checking files (1: in this process).
    batch_size : int
        Structures per network call.
    device : str
        ``"cpu"``, ``"cuda"``, ``"auto"``...
    seed : int
        Seed of the model-score noise (same seed, same scores).
    progress : bool
        Show a progress bar over files.

    Returns
    -------
    list of dict
        Rows in file order (see the module docstring for the columns).

    Raises
    ------
    InputError
        A missing path or a model that cannot be loaded.
    """
    from rich.progress import track

    from molgen.devices import resolve_device

    files = collect_files(paths)
    models = _Models({"protein": model, "molecule": conformer_model}, resolve_device(device))
    tasks = [(str(path), chain) for path in files]
    rows: list[dict[str, Any]] = []
    pending: list = []
    results = _results(tasks, max(1, int(workers)))
    for file_rows in track(results, total=len(tasks), description="scoring", disable=not progress):
        pending.extend(file_rows)
        if len(pending) >= _CHUNK:
            _score_chunk(pending, models, seed, batch_size)
            rows.extend(_finish(row, min_score) for row, _ in pending)
            pending = []
    _score_chunk(pending, models, seed, batch_size)
    rows.extend(_finish(row, min_score) for row, _ in pending)
    return rows


def summarize_scores(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Counts for the end of a run: rows, passing, failing (by reason), errors, model scores."""
    failed = [r for r in rows if not r["pass"] and r["error"] is None]
    reasons = Counter(reason for r in failed for reason in r["reasons"])
    scores = [r["model_score"] for r in rows if r["model_score"] is not None]
    return {
        "rows": len(rows),
        "passed": sum(bool(r["pass"]) for r in rows),
        "failed": len(failed),
        "errors": sum(r["error"] is not None for r in rows),
        "failed_by_reason": dict(sorted(reasons.items())),
        "model_scored": len(scores),
        "model_score_median": float(np.median(scores)) if scores else None,
    }
