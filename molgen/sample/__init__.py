"""Samplers: reverse SDE / probability-flow ODE for backbones and torsional diffusion for
conformers."""

from molgen.sample.backbone import SampledBackbone, sample_backbones, time_grid
from molgen.sample.conformers import (
    ConformerResult,
    InputFailure,
    read_smiles_lenient,
    sample_conformers,
    write_conformers,
)

__all__ = [
    "ConformerResult",
    "InputFailure",
    "SampledBackbone",
    "read_smiles_lenient",
    "sample_backbones",
    "sample_conformers",
    "time_grid",
    "write_conformers",
]
