"""Data-parallel helpers for ``torchrun`` (DistributedDataParallel, gloo on CPU, nccl on CUDA),
shared by training and sampling.

``torchrun --nproc_per_node N script`` starts N processes with the environment variables
``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``;
:func:`init_distributed` reads them and joins the process group. Without them (a plain
``python`` run) everything here is a no-op for a single process of rank 0.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from molgen.devices import resolve_device

__all__ = [
    "DistributedInfo",
    "all_gather_object",
    "cleanup_distributed",
    "init_distributed",
    "is_distributed",
    "is_main_process",
    "wrap_ddp",
]


@dataclass(frozen=True)
class DistributedInfo:
    """Where this process sits: ``rank`` of ``world_size``, ``local_rank`` on its node."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")


def init_distributed(device: str | torch.device = "auto") -> DistributedInfo:
    """Join the torchrun process group if ``WORLD_SIZE > 1`` (idempotent) and pick the device.

    The backend is nccl for CUDA devices and gloo otherwise; on CUDA each process uses
    ``cuda:LOCAL_RANK``.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = resolve_device(device, local_rank)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo")
    if dist.is_initialized():
        rank, world_size = dist.get_rank(), dist.get_world_size()
    return DistributedInfo(rank, world_size, local_rank, dev)


def is_distributed() -> bool:
    """True inside an initialised process group with more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def is_main_process() -> bool:
    """True on rank 0 (or outside a process group): the process that writes outputs."""
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def all_gather_object(obj: Any) -> list[Any]:
    """``[obj of rank 0, obj of rank 1, ...]`` on every rank (``[obj]`` when not distributed)."""
    if not is_distributed():
        return [obj]
    gathered: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, obj)
    return gathered


def wrap_ddp(
    model: nn.Module, device: torch.device, find_unused_parameters: bool = False
) -> nn.Module:
    """``DistributedDataParallel(model)`` when distributed, else ``model`` itself.

    DDP broadcasts rank 0's parameters and buffers at construction and averages gradients
    during ``backward``, so ranks stay identical. Gradients are only synchronised through the
    wrapper's ``forward``: a loss must call ``model(...)``, not another method. Set
    ``find_unused_parameters`` when some parameters get no gradient from the loss.
    """
    if not is_distributed():
        return model
    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(
        model, device_ids=ids, find_unused_parameters=find_unused_parameters
    )


def cleanup_distributed() -> None:
    """Leave the process group (no-op when not distributed).

    Every rank first waits at a barrier, so that no rank tears down its gloo connections
    while another is still writing after the last collective (a rank that destroys the group
    early can abort with "terminate called without an active exception").
    """
    if dist.is_available() and dist.is_initialized():
        if dist.get_world_size() > 1:
            dist.barrier()
        dist.destroy_process_group()
