"""Reverse-time grids shared by the samplers: full runs from t = 1 and partial runs from a
start time, both at the full run's step size, evenly spaced or warped toward small t."""

from __future__ import annotations

import torch

from molgen.diffusion import DEFAULT_MIN_T

__all__ = ["scaled_steps", "time_grid"]


def time_grid(
    steps: int, min_t: float = DEFAULT_MIN_T, start: float = 1.0, warp: float = 1.0
) -> list[float]:
    r"""``steps + 1`` times from ``start`` (1, or the partial-diffusion time) down to ``min_t``:

    .. math:: t_k = t_{min} + (t_{start} - t_{min})\,(1 - k/N)^{\rho}, \quad k = 0 \dots N,

    with :math:`\rho` = ``warp``. 1 spaces them evenly; above 1 they crowd toward ``min_t``,
    where the fine structure is decided: a share :math:`\tau^{1/\rho}` of the steps lies in
    the lowest fraction :math:`\tau` of the span (:math:`\rho = 2`: a third of the steps in
    the lowest tenth, against a tenth when even)."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if not warp > 0:
        raise ValueError(f"warp must be > 0, got {warp}")
    fraction = torch.linspace(1.0, 0.0, steps + 1, dtype=torch.float64) ** warp
    return (min_t + (start - min_t) * fraction).tolist()


def scaled_steps(steps: int, start: float, min_t: float) -> int:
    """Steps of a run from ``start`` to ``min_t`` at the step size of ``steps`` steps from 1:
    ``steps x (start - min_t) / (1 - min_t)``, rounded, at least 1."""
    return max(1, round(steps * (start - min_t) / (1.0 - min_t)))
