"""Train the backbone frame network: configuration file in, run directory out.

A YAML (or JSON) file has four sections, each optional (defaults in brackets)::

    data:   {path: <chain-set npz>, split: train, crop_length: 64, min_length: 40,
             max_length: null, max_coil_fraction: null, min_strand_fraction: null,
             one_per_cluster: false, max_residues: 512, seed: 0}
    model:  FrameScoreNetworkConfig fields (k, hidden_irreps, num_layers, diffuser, ...)
    loss:   BackboneLossConfig fields (weights, min_t, self_condition_rate, ...)
    train:  TrainConfig fields (lr, max_steps, ema_decay, checkpoint_every, device, ...)

``data.path`` may be relative to the configuration file and may use ``$VARS``. The run
directory gets ``config.json`` (the resolved configuration), ``log.csv``,
``checkpoints/last.pt`` (resumed automatically) and, at the end, ``model/`` with the EMA
weights as safetensors + JSON config (:func:`molgen.models.save`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from molgen.datasets import LengthBucketSampler, PDBChains, collate_backbones
from molgen.errors import InputError
from molgen.models import FrameScoreNetwork, FrameScoreNetworkConfig
from molgen.seeding import seeded_build
from molgen.train.backbone_loss import BackboneLossConfig, backbone_loss
from molgen.train.config import build_section, read_sections, resolve_data_path
from molgen.train.trainer import TrainConfig, Trainer

__all__ = ["DataConfig", "load_training_config", "train_backbone"]

SECTIONS = ("data", "model", "loss", "train")


@dataclasses.dataclass
class DataConfig:
    """Which chains, how they are cropped and batched (lengths in residues).

    ``max_coil_fraction`` drops chains with more DSSP loop than that,
    ``min_strand_fraction`` those with less DSSP strand; ``one_per_cluster``
    draws one chain of every 30%-identity cluster per epoch (see
    :class:`~molgen.datasets.LengthBucketSampler`).
    """

    path: str = "$MOLGEN_SHARED_DATA/pdb_chains.npz"
    split: str = "train"
    crop_length: int = 64
    min_length: int = 40
    max_length: int | None = None
    max_coil_fraction: float | None = None
    min_strand_fraction: float | None = None
    one_per_cluster: bool = False
    max_residues: int = 512
    seed: int = 0


def load_training_config(path: str | os.PathLike) -> dict[str, Any]:
    """Read a training configuration file into typed sections ``data/model/loss/train``."""
    path = Path(path)
    raw = read_sections(path, SECTIONS)
    data = build_section(DataConfig, raw["data"], "data", path)
    data.path = str(resolve_data_path(data.path, path.parent))
    try:
        model = FrameScoreNetworkConfig.from_dict(raw["model"])
        train = TrainConfig.from_dict(raw["train"])
    except (TypeError, ValueError) as err:
        raise InputError(str(err), path) from err
    loss = build_section(BackboneLossConfig, raw["loss"], "loss", path)
    return {"data": data, "model": model, "loss": loss, "train": train}


def train_backbone(
    config: Mapping[str, Any], out_dir: str | os.PathLike, quiet: bool = False
) -> Path:
    """Train (or resume) a FrameScoreNetwork; returns the exported ``out_dir/model`` folder."""
    data_cfg: DataConfig = config["data"]
    train_cfg: TrainConfig = config["train"]
    trainer_model = seeded_build(lambda: FrameScoreNetwork(config["model"]), train_cfg.seed)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    dataset = PDBChains(
        data_cfg.path,
        split=data_cfg.split,
        crop_length=data_cfg.crop_length,
        min_length=data_cfg.min_length,
        max_length=data_cfg.max_length,
        max_coil_fraction=data_cfg.max_coil_fraction,
        min_strand_fraction=data_cfg.min_strand_fraction,
        seed=data_cfg.seed,
    )
    sampler = LengthBucketSampler(
        dataset.lengths, max_residues=data_cfg.max_residues, seed=data_cfg.seed,
        num_replicas=world, rank=rank, drop_last=world > 1,
        groups=dataset.clusters if data_cfg.one_per_cluster else None,
    )  # fmt: skip
    loader = torch.utils.data.DataLoader(
        dataset, batch_sampler=sampler, collate_fn=collate_backbones
    )
    loss_cfg: BackboneLossConfig = config["loss"]
    run_config = {
        "task": "backbone",
        "data": dataclasses.asdict(data_cfg),
        "model": trainer_model.config.to_dict(),
        "loss": dataclasses.asdict(loss_cfg),
    }
    trainer = Trainer(
        trainer_model,
        lambda model, batch, generator: backbone_loss(model, batch, generator, loss_cfg),
        loader,
        train_cfg,
        out_dir,
        quiet=quiet,
        run_config=run_config,
    )
    return trainer.fit_and_export("backbone", dataclasses.asdict(loss_cfg))
