"""Export the EMA weights of a training run's latest checkpoint as a loadable model folder.

    python scripts/export_weights.py RUN_DIR OUT_DIR [--overwrite]

RUN_DIR is a ``molgen train ...`` run folder (``checkpoints/last.pt`` and ``config.json``); OUT_DIR
receives ``model.safetensors`` + ``config.json`` (:func:`molgen.models.save`), e.g.
``molgen/weights/backbone`` for the bundled model. Useful to ship a model from a run that is
still going (the trainer itself exports only when it reaches ``max_steps``).
"""

from __future__ import annotations

import argparse
import sys

from molgen.errors import InputError
from molgen.models import FrameScoreNetwork, TorsionScoreNetwork, save
from molgen.train.checkpointing import load_training_state
from molgen.train.config import trained_with

NETWORKS = {"backbone": FrameScoreNetwork, "conformer": TorsionScoreNetwork}


def export(run_dir: str, out_dir: str, overwrite: bool = False) -> dict:
    """Build the run's network, load its EMA weights and save it to ``out_dir``."""
    state = load_training_state(f"{run_dir}/checkpoints/last.pt")
    config = state["config"]
    task = config.get("task")
    if task not in NETWORKS:
        raise InputError(f"unknown task {task!r} in the checkpoint config", run_dir)
    network = NETWORKS[task].from_config(config["model"])
    network.load_state_dict(state["ema"]["shadow"])
    extra = {"task": task, "step": int(state["step"]), "train_seconds": float(state["seconds"])}
    extra["trained_with"] = trained_with(task, config.get("loss") or {})
    save(network, out_dir, overwrite=overwrite, extra=extra)
    return extra


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args()
    try:
        print(export(args.run_dir, args.out_dir, args.overwrite))
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
