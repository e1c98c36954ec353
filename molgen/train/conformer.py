"""Train the torsion score network on QM9: configuration file in, run directory out.

A YAML (or JSON) file has four sections, each optional (defaults in brackets)::

    data:   {path: <qm9_split.npz>, split: train, limit: null, seed: 0, batch_size: 16,
             num_workers: 0, local_structure: seed}
    model:  TorsionScoreNetworkConfig fields (hidden_irreps, num_layers, radius, ...)
    loss:   ConformerLossConfig fields (min_sigma, max_sigma; radians)
    train:  TrainConfig fields (lr, max_steps, ema_decay, checkpoint_every, device, ...)

``data.limit`` trains on a random subset of that many molecules of the split (seeded by
``data.seed``); molecules without a rotatable bond are dropped. Items are built lazily
(:class:`molgen.datasets.conformer_data.ConformerDataset`: an ETKDG seed conformer with the
DFT torsions, about 25 ms each, cached), in ``num_workers`` DataLoader processes if asked.
The run directory is laid out as for the backbone trainer (:mod:`molgen.train.trainer`):
``config.json``, ``log.csv``, ``checkpoints/last.pt`` (resumed automatically) and, at the
end, ``model/`` with the EMA weights (:func:`molgen.models.save`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from molgen.datasets.conformer_data import ConformerDataset, collate_conformers
from molgen.datasets.qm9 import QM9Molecules
from molgen.errors import InputError
from molgen.models import TorsionScoreNetwork, TorsionScoreNetworkConfig
from molgen.seeding import seeded_build
from molgen.train.config import build_section, read_sections, resolve_data_path
from molgen.train.conformer_loss import ConformerLossConfig, conformer_loss
from molgen.train.trainer import TrainConfig, Trainer

__all__ = ["ConformerDataConfig", "load_conformer_config", "train_conformer"]

SECTIONS = ("data", "model", "loss", "train")


@dataclasses.dataclass
class ConformerDataConfig:
    """Which QM9 molecules and how they are batched (module docstring)."""

    path: str = "$MOLGEN_SHARED_DATA/qm9_split.npz"
    split: str = "train"
    limit: int | None = None
    seed: int = 0
    batch_size: int = 16
    num_workers: int = 0
    local_structure: str = "seed"


def load_conformer_config(path: str | os.PathLike) -> dict[str, Any]:
    """Read a conformer training file into typed sections ``data/model/loss/train``."""
    path = Path(path)
    raw = read_sections(path, SECTIONS)
    data = build_section(ConformerDataConfig, raw["data"], "data", path)
    data.path = str(resolve_data_path(data.path, path.parent))
    if data.split not in ("train", "val"):
        raise InputError(f"data.split must be 'train' or 'val', not {data.split!r}", path)
    if data.local_structure not in ("seed", "reference"):
        raise InputError("data.local_structure must be 'seed' or 'reference'", path)
    model = build_section(TorsionScoreNetworkConfig, raw["model"], "model", path)
    loss = build_section(ConformerLossConfig, raw["loss"], "loss", path)
    try:
        train = TrainConfig.from_dict(raw["train"])
    except (TypeError, ValueError) as err:
        raise InputError(str(err), path) from err
    return {"data": data, "model": model, "loss": loss, "train": train}


def _loader(data_cfg: ConformerDataConfig) -> torch.utils.data.DataLoader:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    molecules = QM9Molecules(
        data_cfg.path, data_cfg.split, limit=data_cfg.limit, seed=data_cfg.seed
    )
    dataset = ConformerDataset(
        molecules, seed=data_cfg.seed, local_structure=data_cfg.local_structure
    )
    if len(dataset) == 0:
        raise InputError("no QM9 molecule with a rotatable bond in the selection", data_cfg.path)
    # Seeded, epoch-dependent shuffling (the trainer calls set_epoch); shards across ranks.
    sampler = torch.utils.data.DistributedSampler(
        dataset, num_replicas=world, rank=rank, shuffle=True, seed=data_cfg.seed,
        drop_last=world > 1,
    )  # fmt: skip
    return torch.utils.data.DataLoader(
        dataset,
        batch_size=data_cfg.batch_size,
        sampler=sampler,
        collate_fn=collate_conformers,
        num_workers=data_cfg.num_workers,
        persistent_workers=data_cfg.num_workers > 0,  # workers keep their item caches
    )


def train_conformer(
    config: Mapping[str, Any], out_dir: str | os.PathLike, quiet: bool = False
) -> Path:
    """Train (or resume) a TorsionScoreNetwork; returns the exported ``out_dir/model`` folder."""
    data_cfg: ConformerDataConfig = config["data"]
    loss_cfg: ConformerLossConfig = config["loss"]
    network = seeded_build(lambda: TorsionScoreNetwork(config["model"]), config["train"].seed)
    run_config = {
        "task": "conformer",
        "data": dataclasses.asdict(data_cfg),
        "model": dataclasses.asdict(network.config),
        "loss": dataclasses.asdict(loss_cfg),
    }
    trainer = Trainer(
        network,
        lambda model, batch, generator: conformer_loss(model, batch, generator, loss_cfg),
        _loader(data_cfg),
        config["train"],
        out_dir,
        quiet=quiet,
        run_config=run_config,
    )
    return trainer.fit_and_export("conformer", dataclasses.asdict(loss_cfg))
