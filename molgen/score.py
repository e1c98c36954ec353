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


def _resolve_model(kind: str, spec: Any) -> Any:
    """``spec`` itself, or None (with one warning) for a default bundled model not installed."""
    from molgen.models import bundled_names

    if isinstance(spec, str) and spec == DEFAULT_MODELS[kind]:
        if spec not in bundled_names() and not Path(spec).is_dir():
            warnings.warn(
                f"bundled {spec!r} model is not installed: model_score is empty for "
                f"{kind} rows (pass a checkpoint directory to score them)",
                stacklevel=3,
            )
            return None
    return spec


def _load_models(specs: dict[str, Any], kinds: set[str], device: Any) -> dict[str, Any]:
    """Loaded models (eval mode, on ``device``) for the kinds of files present, else None."""
    from molgen.models import load

    models: dict[str, Any] = {}
    for kind, spec in specs.items():
        if kind not in kinds or spec is None:
            models[kind] = None
            continue
        model = load(spec, device=device) if isinstance(spec, str | os.PathLike) else spec
        models[kind] = model.to(device).eval()
    return models


def _score_chunk(
    pending: list, models: dict[str, Any], device: Any, seed: int, batch_size: int
) -> None:
    """Fill ``model_score`` (and diagnostics) of the pending rows in place."""
    proteins = [(row, x) for row, x in pending if x is not None and "chain" in row]
    if proteins and (net := models["protein"]) is not None:
        from molgen.scoring.backbone import backbone_model_scores

        values = backbone_model_scores(
            net, [x for _, x in proteins], seed=seed, batch_size=batch_size, device=device
        )
        for (row, _), value in zip(proteins, values, strict=True):
            row.update(value)
    molecules = [(row, x) for row, x in pending if x is not None and "record" in row]
    if molecules and (net := models["molecule"]) is not None:
        from molgen.scoring.molecule import conformer_model_scores

        for row, (mol, conf_id) in molecules:
            [row["model_score"]] = conformer_model_scores(
                net, mol, [conf_id], seed=seed, device=device
            )


def _finish(row: dict[str, Any], min_score: float | None) -> dict[str, Any]:
    if row["error"] is None:
        reasons = list(row.get("failed_checks") or [])
        score = row["model_score"]
        if min_score is not None and score is not None and score < min_score:
            reasons.append("model_score")
        row["reasons"], row["pass"] = reasons, bool(row.get("checks_passed")) and not reasons
    return row


_WORKER: dict[str, Any] = {}  # per process: models, seed, batch size


def _init_worker(models: dict[str, Any], device: Any, seed: int, batch_size: int) -> None:
    """Set up a scoring process (one torch thread: the processes are the parallelism)."""
    import torch

    if multiprocessing.parent_process() is not None:
        torch.set_num_threads(1)
    _WORKER.update(models=models, device=device, seed=seed, batch_size=batch_size)


def _score_files(task: tuple[list[str], str | None]) -> list[dict[str, Any]]:
    """Read, check and model-score a group of files; rows without the structures."""
    paths, chain = task
    pending = [item for path in paths for item in _read_and_check((path, chain))]
    _score_chunk(pending, *(_WORKER[k] for k in ("models", "device", "seed", "batch_size")))
    return [row for row, _ in pending]


def _results(groups: list, workers: int, init_args: tuple) -> Iterator[list[dict[str, Any]]]:
    if workers <= 1:
        _init_worker(*init_args)
        yield from map(_score_files, groups)
        return
    context = multiprocessing.get_context("spawn")  # no forked torch/OpenMP state
    with context.Pool(workers, initializer=_init_worker, initargs=init_args) as pool:
        yield from pool.imap(_score_files, groups)


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
        Processes that read, check and model-score groups of files (1: in this process);
        each loads its own copy of the models and uses one torch thread.
    batch_size : int
        Files per group (and at most structures per network call); a group's structures
        are held in memory until scored, so memory stays bounded whatever the file count.
    device : str
        ``"cpu"``, ``"cuda"``, ``"auto"``...
    seed : int
        Seed of the model-score noise (same seed, same scores, whatever the grouping).
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
    from rich.progress import Progress

    from molgen.devices import resolve_device

    files = collect_files(paths)
    specs = {
        "protein": _resolve_model("protein", model),
        "molecule": _resolve_model("molecule", conformer_model),
    }
    dev = resolve_device(device)
    # Loaded here (a bad model is an InputError before any work); workers get copies.
    models = _load_models(specs, {_kind(path) for path in files}, dev)
    groups = [[str(p) for p in files[i : i + batch_size]] for i in range(0, len(files), batch_size)]
    rows: list[dict[str, Any]] = []
    results = _results(
        [(g, chain) for g in groups], max(1, int(workers)), (models, dev, seed, batch_size)
    )
    with Progress(disable=not progress, transient=False) as bar:
        task = bar.add_task("scoring", total=len(files))
        for group, group_rows in zip(groups, results, strict=True):
            rows.extend(_finish(row, min_score) for row in group_rows)
            bar.advance(task, len(group))
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
