"""Seeds derived from several integers (seed, rank, epoch, index...), without collisions.

One mixer, :func:`mix_seed`: numpy's ``SeedSequence`` hashes the integers into two 32-bit
words :math:`w_0, w_1`; the seed is the top ``bits`` bits of :math:`2^{32} w_0 + w_1`.
:func:`seeded_generator` seeds a ``torch.Generator`` with the 64-bit value; RDKit takes
31-bit seeds, ``torch.manual_seed`` and friends 63-bit ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np
import torch

__all__ = ["mix_seed", "rank_seed", "seeded_build", "seeded_generator"]


def mix_seed(*values: int, bits: int = 64) -> int:
    """One ``bits``-bit non-negative seed from the integers ``values`` (1 <= bits <= 64).

    Examples
    --------
    >>> mix_seed(0, 1) == mix_seed(0, 1) != mix_seed(1, 0)
    True
    >>> mix_seed(5, bits=31) < 2**31
    True
    """
    if not 1 <= bits <= 64:
        raise ValueError(f"bits must be 1-64, got {bits}")
    words = np.random.SeedSequence([int(v) for v in values]).generate_state(2, np.uint32)
    return (int(words[0]) << 32 | int(words[1])) >> (64 - bits)


def seeded_generator(*values: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded with :func:`mix_seed` of ``values``."""
    return torch.Generator(device=device).manual_seed(mix_seed(*values))


def rank_seed(seed: int, rank: int) -> int:
    """The seed of process ``rank`` of a distributed run: ``seed`` itself on rank 0 (a single
    process draws what ``seed`` says), :func:`mix_seed` of ``(seed, rank)`` on the others."""
    return int(seed) if rank == 0 else mix_seed(seed, rank, bits=63)


T = TypeVar("T")


def seeded_build(build: Callable[[], T], seed: int) -> T:
    """``build()`` with torch's global generator seeded by ``seed`` (a network's initial
    weights), leaving the global generator's state as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(mix_seed(seed, bits=63))
        return build()
