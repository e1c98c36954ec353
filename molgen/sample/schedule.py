"""Reverse-time grids shared by the samplers: full runs from t = 1 and partial runs from a
start time, both at the full run's step size."""

from __future__ import annotations

import torch

from molgen.diffusion import DEFAULT_MIN_T

__all__ = ["scaled_steps", "time_grid"]


def time_grid(steps: int, min_t: float = DEFAULT_MIN_T, start: float = 1.0) -> list[float]:
    """``steps + 1`` times from ``start`` (1, or the partial-diffusion time) down to
    ``min_t``, evenly spaced."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    return torch.linspace(start, min_t, steps + 1, dtype=torch.float64).tolist()


def scaled_steps(steps: int, start: float, min_t: float) -> int:
    """Steps of a run from ``start`` to ``min_t`` at the step size of ``steps`` steps from 1:
    ``steps x (start - min_t) / (1 - min_t)``, rounded, at least 1."""
    return max(1, round(steps * (start - min_t) / (1.0 - min_t)))
