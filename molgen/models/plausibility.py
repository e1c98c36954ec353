r"""A small classifier of whole-chain backbone features: real protein (1) or not (0).

The input is the feature vector of :func:`molgen.scoring.features.chain_features` (its names
are stored in the config and checked by the scorer). Features are standardised with the
train-set mean and standard deviation held as buffers, then

.. math::

    \ell = W_3\,\mathrm{SiLU}(W_2\,\mathrm{SiLU}(W_1 z + b_1) + b_2) + b_3,

and :math:`\ell` is the log-odds of "real-like" under equal class priors
(:math:`p = \sigma(\ell)`), trained with a class-balanced logistic loss
(``scripts/train_plausibility.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

__all__ = ["PlausibilityClassifier", "PlausibilityClassifierConfig"]


@dataclass
class PlausibilityClassifierConfig:
    """``feature_names``: the input features, in order; ``hidden``: width of both hidden
    layers."""

    feature_names: list[str] = field(default_factory=list)
    hidden: int = 32


class PlausibilityClassifier(nn.Module):
    """Log-odds ``[B]`` of real-like from features ``[B, F]`` (module docstring)."""

    def __init__(self, config: PlausibilityClassifierConfig) -> None:
        super().__init__()
        self.config = config
        width = len(config.feature_names)
        if width == 0:
            raise ValueError("a plausibility classifier needs at least one feature")
        self.register_buffer("feature_mean", torch.zeros(width))
        self.register_buffer("feature_std", torch.ones(width))
        self.net = nn.Sequential(
            nn.Linear(width, config.hidden), nn.SiLU(),
            nn.Linear(config.hidden, config.hidden), nn.SiLU(),
            nn.Linear(config.hidden, 1),
        )  # fmt: skip

    def set_standardisation(self, features: torch.Tensor) -> None:
        """Store the mean and standard deviation (floored at 1e-3) of ``features [N, F]``."""
        self.feature_mean.copy_(features.mean(0))
        self.feature_std.copy_(features.std(0).clamp_min(1e-3))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        z = (features - self.feature_mean) / self.feature_std
        return self.net(z).squeeze(-1)

    @classmethod
    def from_config(
        cls, config: PlausibilityClassifierConfig | Mapping[str, Any]
    ) -> PlausibilityClassifier:
        """Build from a :class:`PlausibilityClassifierConfig` or a mapping of its fields."""
        if isinstance(config, Mapping):
            config = PlausibilityClassifierConfig(**config)
        return cls(config)
