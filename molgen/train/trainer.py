"""A generic training loop: AdamW, gradient clipping, EMA, logs, atomic checkpoints, resume, DDP.

The loop knows nothing about proteins or molecules. A task supplies a model, a loss function

    ``loss_fn(model, batch, generator) -> (loss, metrics)``

(``loss`` a scalar tensor to minimise, ``metrics`` a dict of floats to log; draw all noise from
``generator``) and its data: an iterable of batches re-iterated every epoch, or a callable
``epoch -> iterable``. Objects with ``set_epoch`` (the data itself, its ``batch_sampler``,
``sampler`` or ``dataset``, e.g. :class:`~molgen.datasets.LengthBucketSampler`) are told the
epoch before it starts. Batches with a ``.to(device)`` method (or tensors, or dicts/lists of
them) are moved to the device.

Run directory layout: ``config.json`` (resolved configuration), ``log.csv``,
``checkpoints/last.pt`` (model, EMA, optimiser, scheduler, step, epoch, RNG states of every
rank) and ``checkpoints/config.json``. :meth:`Trainer.fit` resumes from ``last.pt`` when it
exists, skipping the batches of the current epoch already seen, so a killed and resumed run
continues exactly as an uninterrupted one (given deterministic data, e.g. seeded samplers).
Under ``torchrun`` the model is wrapped in DistributedDataParallel; rank 0 alone writes files
and shows the progress bar.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import json
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from torch import Tensor, nn

from molgen.distributed import all_gather_object, init_distributed, wrap_ddp
from molgen.errors import InputError
from molgen.seeding import mix_seed
from molgen.train.checkpointing import (
    capture_rng_state,
    load_training_state,
    restore_rng_state,
    save_training_state,
    write_config,
)
from molgen.train.ema import EMA
from molgen.train.metric_log import MetricLogger

__all__ = ["LossFn", "TrainConfig", "Trainer", "lr_factor", "move_to_device"]

LossFn = Callable[[nn.Module, Any, torch.Generator], tuple[Tensor, Mapping[str, float]]]


@dataclass
class TrainConfig:
    r"""Optimisation settings shared by every trainer.

    AdamW (``lr``, ``weight_decay``, ``betas``, ``eps``) with linear warm-up over
    ``warmup_steps`` and, from step ``decay_start`` (None: never), a cosine decay of the rate
    to 0 at ``max_steps``: :math:`\eta(s) = \eta\,\tfrac12\big(1 + \cos(\pi\,
    \frac{s - s_0}{s_{\max} - s_0})\big)` (a run finished at a constant rate can be resumed
    with a larger ``max_steps`` and ``decay_start`` at its last step). Gradients clipped to
    global norm ``grad_clip`` (None: no clipping); EMA decay ``ema_decay``; ``max_steps``
    optimiser steps; a CSV row every ``log_every`` steps and a checkpoint every
    ``checkpoint_every`` steps (and at the end); ``seed`` for every random draw; ``device``
    ``"auto"``, ``"cpu"`` or ``"cuda"``; ``find_unused_parameters`` for DDP when the loss
    leaves some parameters without gradient; ``init_weights`` a molgen model folder or
    bundled name (:func:`molgen.models.load`) whose tensors start a fresh run (parameters it
    lacks, e.g. layers added to a trained network, keep their initialisation; ignored when
    resuming).
    """

    lr: float = 1e-4
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    grad_clip: float | None = 1.0
    ema_decay: float = 0.999
    warmup_steps: int = 0
    decay_start: int | None = None
    max_steps: int = 10_000
    checkpoint_every: int = 1_000
    log_every: int = 50
    seed: int = 0
    device: str = "auto"
    find_unused_parameters: bool = False
    init_weights: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        out = dataclasses.asdict(self)
        out["betas"] = list(self.betas)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """Build from a mapping; unknown keys raise ``ValueError`` naming them."""
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown training settings: {', '.join(sorted(unknown))}")
        values = dict(data)
        if "betas" in values:
            values["betas"] = tuple(float(b) for b in values["betas"])
        return cls(**values)


def lr_factor(config: TrainConfig, step: int) -> float:
    """Multiplier of ``config.lr`` after ``step`` optimiser steps (:class:`TrainConfig`)."""
    warmup = max(config.warmup_steps, 0)
    factor = min(1.0, (step + 1) / warmup) if warmup else 1.0
    start = config.decay_start
    if start is not None and step > start:
        progress = min(1.0, (step - start) / max(config.max_steps - start, 1))
        factor *= 0.5 * (1.0 + math.cos(math.pi * progress))
    return factor


def move_to_device(batch: Any, device: torch.device) -> Any:
    """Move a batch (object with ``.to``, tensor, or dict/list/tuple of them) to ``device``."""
    if isinstance(batch, Mapping):
        return {k: move_to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(move_to_device(v, device) for v in batch)
    if hasattr(batch, "to"):
        return batch.to(device)
    return batch


class Trainer:
    """Train ``model`` by minimising ``loss_fn`` over ``data``; see the module docstring.

    Parameters
    ----------
    model : nn.Module
        The model (moved to the training device; wrapped in DDP when distributed).
    loss_fn : callable
        ``loss_fn(model, batch, generator) -> (loss, metrics)``. Under DDP ``model`` is the
        wrapper: call ``model(...)`` (its forward) so gradients are synchronised.
    data : iterable or callable
        Batches of one epoch, or ``epoch -> iterable of batches``.
    config : TrainConfig
    out_dir : str or Path
        Run directory (created); an existing ``checkpoints/last.pt`` there is resumed.
    quiet : bool
        No progress bar and no messages.
    run_config : mapping, optional
        The task's resolved configuration (model, data, ...), saved with ``config``.
    """

    def __init__(
        self,
        model: nn.Module,
        loss_fn: LossFn,
        data: Iterable[Any] | Callable[[int], Iterable[Any]],
        config: TrainConfig,
        out_dir: str | Path,
        quiet: bool = False,
        run_config: Mapping[str, Any] | None = None,
    ) -> None:
        self.config, self.loss_fn, self.data, self.quiet = config, loss_fn, data, quiet
        self.dist = init_distributed(config.device)
        self.device, self.rank = self.dist.device, self.dist.rank
        self.is_main = self.rank == 0
        self.out_dir = Path(out_dir)
        self.checkpoint_path = self.out_dir / "checkpoints" / "last.pt"
        self.model = model.to(self.device)
        self.ddp_model = wrap_ddp(self.model, self.device, config.find_unused_parameters)
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(),
            lr=config.lr,
            betas=config.betas,
            eps=config.eps,
            weight_decay=config.weight_decay,
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: lr_factor(config, s)
        )
        self.ema = EMA(self.model, config.ema_decay)
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(mix_seed(config.seed, self.rank, bits=63))
        self.step = self.epoch = self.batch_in_epoch = 0
        self.seconds, self._nonfinite = 0.0, 0
        self.run_config = {
            **dict(run_config or {}),
            "train": config.to_dict(),
            "world_size": self.dist.world_size,
        }
        self.console = Console(stderr=True, quiet=quiet or not self.is_main)
        self._refuse_foreign_folder()
        # A collective: no rank writes into out_dir (rank 0's logger may at once) before every
        # rank has looked at it, or a slower rank would take rank 0's files for the user's.
        all_gather_object(None)
        self.logger = MetricLogger(self.out_dir, enabled=self.is_main)

    def _refuse_foreign_folder(self) -> None:
        """Raise InputError when ``out_dir`` holds files but no ``checkpoints/last.pt``."""
        if self.checkpoint_path.exists() or not self.out_dir.is_dir():
            return
        if any(self.out_dir.iterdir()):  # the user's files: never overwritten
            raise InputError(
                "not empty and not a molgen run folder (no checkpoints/last.pt); "
                "train into a new or empty folder",
                self.out_dir,
            )

    # ----------------------------------------------------------------- checkpoints
    def save_checkpoint(self) -> None:
        """Write ``checkpoints/last.pt`` and ``checkpoints/config.json`` atomically (rank 0)."""
        rng = all_gather_object(capture_rng_state(self.generator))  # collective: every rank
        if not self.is_main:
            return
        state = {
            "step": self.step,
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "seconds": self.seconds,
            "model": self.model.state_dict(),
            "ema": self.ema.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "rng": rng,
            "config": self.run_config,
        }
        save_training_state(self.checkpoint_path, state)
        write_config(self.checkpoint_path.parent / "config.json", self.run_config)

    def load_checkpoint(self, path: str | Path) -> None:
        """Restore model, EMA, optimiser, counters and this rank's RNG states from ``path``."""
        state = load_training_state(path, self.device)
        self.model.load_state_dict(state["model"])
        self.ema.load_state_dict(state["ema"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        # The configuration's learning rate wins over the saved one (e.g. a lower rate to
        # finish a run); the schedule's factor at the saved step still applies.
        self.scheduler.base_lrs = [self.config.lr] * len(self.optimizer.param_groups)
        factor = lr_factor(self.config, self.scheduler.last_epoch)
        for group in self.optimizer.param_groups:
            group["lr"] = self.config.lr * factor
        self.step, self.epoch = int(state["step"]), int(state["epoch"])
        self.batch_in_epoch, self.seconds = int(state["batch_in_epoch"]), float(state["seconds"])
        saved = state["rng"][self.rank] if len(state["rng"]) == self.dist.world_size else None
        own = self.generator.get_state()
        if saved is not None and saved["generator"].shape == own.shape:
            restore_rng_state(saved, self.generator)
        else:  # another world size or device type: the run continues, not bit-identically
            self.console.print(f"[yellow]world size or device changed; reseeding at {self.step}")
            self.generator.manual_seed(mix_seed(self.config.seed, self.rank, self.step, bits=63))

    def warm_start(self, source: str) -> None:
        """Copy the tensors of a saved model into :attr:`model` (and the EMA) by name.

        Raises ``ValueError`` if ``source`` holds a tensor the model lacks or of another shape.
        """
        from molgen.models import load

        state = load(source).state_dict()
        own = self.model.state_dict()
        clash = [k for k, v in state.items() if k not in own or own[k].shape != v.shape]
        if clash:
            raise ValueError(f"init_weights {source}: tensors that do not fit the model: {clash}")
        self.model.load_state_dict(state, strict=False)
        self.ema = EMA(self.model, self.config.ema_decay)
        added = sorted(set(own) - set(state))
        self.console.print(f"weights from {source}; {len(added)} new tensors keep their init")

    # ----------------------------------------------------------------- the loop
    def _epoch_batches(self, epoch: int, skip: int = 0) -> Iterator[Any]:
        """The batches of ``epoch`` after its first ``skip``."""
        data = self.data if hasattr(self.data, "__iter__") else self.data(epoch)
        owners = [data] + [getattr(data, a, None) for a in ("batch_sampler", "sampler", "dataset")]
        for owner in owners:
            if hasattr(owner, "set_epoch"):
                owner.set_epoch(epoch)
        if skip and isinstance(data, torch.utils.data.DataLoader) and data.num_workers == 0:
            # Skip indices, not batches: building the skipped items (e.g. embedding molecules)
            # would cost as much as the steps. The rest are the same batches the loader yields.
            index_batches = itertools.islice(iter(data.batch_sampler), skip, None)
            return (data.collate_fn([data.dataset[i] for i in ids]) for ids in index_batches)
        # A DataLoader draws its workers' base seed from the global RNG when iterated; keep that
        # draw out of the global stream so a resumed run (one extra iter()) matches a straight one.
        with torch.random.fork_rng(devices=[]):
            return itertools.islice(iter(data), skip, None)

    def train_step(self, batch: Any) -> dict[str, float]:
        """One optimiser step on ``batch``: loss, backward, clip, AdamW, EMA; returns metrics."""
        self.ddp_model.train()
        loss, metrics = self.loss_fn(
            self.ddp_model, move_to_device(batch, self.device), self.generator
        )
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        clip = self.config.grad_clip if self.config.grad_clip is not None else math.inf
        grad_norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip))
        lr = self.optimizer.param_groups[0]["lr"]
        if math.isfinite(grad_norm):  # identical on all ranks: gradients are all-reduced
            self.optimizer.step()
            self.ema.update(self.model)
            self._nonfinite = 0
        else:  # skip the update; give up when it keeps happening
            self._nonfinite += 1
            if self._nonfinite >= 10:
                raise FloatingPointError(f"non-finite gradients for 10 steps up to {self.step + 1}")
        self.scheduler.step()
        self.step += 1
        return {
            "loss": float(loss.detach()),
            **{k: float(v) for k, v in metrics.items()},
            "lr": lr,
            "grad_norm": grad_norm,
        }

    def fit(self) -> dict[str, float]:
        """Train until ``max_steps`` (resuming from ``checkpoints/last.pt`` if present).

        Returns the metrics averaged over the last logging interval (empty if nothing ran).
        """
        cfg = self.config
        if self.checkpoint_path.exists():
            self.load_checkpoint(self.checkpoint_path)
            self.logger.truncate_after(self.step)
            self.console.print(f"resuming from {self.checkpoint_path} at step {self.step}")
        else:
            seed = mix_seed(cfg.seed, self.rank, bits=63)
            torch.manual_seed(seed)
            np.random.seed(seed % 2**32)  # noqa: NPY002 (seed the global state)
            random.seed(seed)
            if cfg.init_weights:
                self.warm_start(cfg.init_weights)
        if self.is_main:
            write_config(self.out_dir / "config.json", self.run_config)
        batches = self._epoch_batches(self.epoch, skip=self.batch_in_epoch)
        window: dict[str, list[float]] = {}
        summary: dict[str, float] = {}
        columns = (
            TextColumn("train"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TextColumn("{task.fields[loss]}"),
            TimeRemainingColumn(),
        )
        bar = Progress(*columns, console=self.console, disable=self.quiet or not self.is_main)
        with bar:
            task = bar.add_task("train", total=cfg.max_steps, completed=self.step, loss="")
            while self.step < cfg.max_steps:
                started = time.perf_counter()
                batch = next(batches, None)
                if batch is None:
                    if self.batch_in_epoch == 0:
                        raise ValueError(f"training data yielded no batches in epoch {self.epoch}")
                    self.epoch, self.batch_in_epoch = self.epoch + 1, 0
                    batches = self._epoch_batches(self.epoch)
                    continue
                metrics = self.train_step(batch)
                self.batch_in_epoch += 1
                self.seconds += time.perf_counter() - started
                for key, value in metrics.items():
                    window.setdefault(key, []).append(value)
                if self.step % cfg.log_every == 0 or self.step == cfg.max_steps:
                    summary = {k: float(np.mean(v)) for k, v in window.items()}
                    summary["lr"] = metrics["lr"]
                    window = {}
                    self.logger.log(
                        {
                            "step": self.step,
                            "epoch": self.epoch,
                            **summary,
                            "seconds": round(self.seconds, 3),
                        }
                    )
                    bar.update(task, loss=f"loss {summary['loss']:.4g}")
                if self.step % cfg.checkpoint_every == 0 or self.step == cfg.max_steps:
                    self.save_checkpoint()
                bar.update(task, completed=self.step)
        self.logger.close()
        return summary

    def averaged_model(self) -> nn.Module:
        """A copy of the model holding the EMA weights (for sampling or export)."""
        model = copy.deepcopy(self.model)
        self.ema.copy_to(model)
        return model

    def fit_and_export(self, task: str, loss: Mapping[str, Any]) -> Path:
        """:meth:`fit`, then (on rank 0) save the EMA weights to ``out_dir/model`` with the
        step, seconds, last metrics and the loss settings that samplers read back
        (``extra["trained_with"]``, :func:`molgen.train.config.trained_with`); then every
        rank leaves the process group. Returns the model folder."""
        from molgen.distributed import cleanup_distributed
        from molgen.models import save
        from molgen.train.config import trained_with

        summary = self.fit()
        export = self.out_dir / "model"
        if self.is_main:
            extra = {"step": self.step, "seconds": self.seconds, "last_metrics": summary}
            extra["trained_with"] = trained_with(task, loss)
            save(self.averaged_model(), export, overwrite=True, extra=json.loads(json.dumps(extra)))
        cleanup_distributed()
        return export
