"""Training machinery shared by every model: loop, EMA, checkpoints and resume, DDP, logs.

:class:`Trainer` runs any ``loss_fn(model, batch, generator) -> (loss, metrics)``; the task
modules (backbones, conformers) supply the loss and the data.
"""

from molgen.train.checkpointing import (
    capture_rng_state,
    load_training_state,
    restore_rng_state,
    save_training_state,
    write_config,
)
from molgen.train.ema import EMA
from molgen.train.metric_log import MetricLogger, read_log
from molgen.train.trainer import LossFn, TrainConfig, Trainer, move_to_device

__all__ = [
    "EMA",
    "LossFn",
    "MetricLogger",
    "TrainConfig",
    "Trainer",
    "capture_rng_state",
    "load_training_state",
    "move_to_device",
    "read_log",
    "restore_rng_state",
    "save_training_state",
    "write_config",
]
