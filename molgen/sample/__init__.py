"""Samplers: reverse SDE / probability-flow ODE for backbones (and conformers)."""

from molgen.sample.backbone import SampledBackbone, sample_backbones, time_grid

__all__ = ["SampledBackbone", "sample_backbones", "time_grid"]
