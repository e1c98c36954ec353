r"""Exponential moving average (EMA) of model parameters.

After every optimiser step the shadow copy moves towards the live weights,

.. math:: \bar\theta \leftarrow d\,\bar\theta + (1 - d)\,\theta,

with decay :math:`d` (``0.999`` averages over roughly the last 1000 steps). Buffers (e.g.
normalisation statistics) are copied, not averaged. Sampling uses the EMA weights.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["EMA"]


class EMA:
    r"""Shadow copy of a model's floating-point parameters and buffers.

    Parameters
    ----------
    model : nn.Module
        The live model (unwrapped, not the DDP wrapper); its state at construction is the
        starting average.
    decay : float
        :math:`d \in [0, 1)`; 0 copies the live weights every step.
    """

    def __init__(self, model: nn.Module, decay: float = 0.999) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.num_updates = 0
        self.shadow: dict[str, Tensor] = {
            k: v.detach().clone() for k, v in model.state_dict().items()
        }

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average one step towards ``model``'s current weights."""
        params = dict(model.named_parameters())
        for name, value in model.state_dict().items():
            avg = self.shadow[name]
            if name in params and avg.is_floating_point():
                avg.lerp_(value.detach(), 1.0 - self.decay)
            else:
                avg.copy_(value)
        self.num_updates += 1

    @torch.no_grad()
    def copy_to(self, model: nn.Module) -> None:
        """Load the averaged weights into ``model`` (in place)."""
        model.load_state_dict(self.shadow)

    def state_dict(self) -> dict[str, object]:
        """``{"decay", "num_updates", "shadow"}`` (tensors and Python scalars only)."""
        return {"decay": self.decay, "num_updates": self.num_updates, "shadow": self.shadow}

    def load_state_dict(self, state: dict[str, object]) -> None:
        """Restore from :meth:`state_dict` (tensors are copied onto the current devices)."""
        shadow = state["shadow"]
        if set(shadow) != set(self.shadow):
            raise ValueError("EMA state does not match the model's parameter names")
        with torch.no_grad():
            for name, value in shadow.items():
                self.shadow[name].copy_(value)
        self.decay = float(state["decay"])
        self.num_updates = int(state["num_updates"])
