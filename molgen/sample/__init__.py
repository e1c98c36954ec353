"""Samplers: reverse SDE / probability-flow ODE for backbones and torsional diffusion for
conformers, with their settings (:mod:`molgen.sample.config`) and run entry points
(:mod:`molgen.sample.run`).

Names are imported on first use, so that reading the settings classes (as the CLI does to
show their defaults) does not load torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BackboneSamplerConfig": "molgen.sample.config",
    "ConformerSamplerConfig": "molgen.sample.config",
    "ConformerResult": "molgen.sample.conformers",
    "Contig": "molgen.sample.contig",
    "InputFailure": "molgen.sample.conformers",
    "MoleculeSource": "molgen.sample.run",
    "Motif": "molgen.sample.contig",
    "MotifPlacement": "molgen.sample.motif",
    "SampledBackbone": "molgen.sample.backbone",
    "read_smiles_lenient": "molgen.sample.conformers",
    "run_backbone_sampling": "molgen.sample.run",
    "run_conformer_sampling": "molgen.sample.run",
    "sample_backbones": "molgen.sample.backbone",
    "sample_conformers": "molgen.sample.conformers",
    "extract_motif": "molgen.sample.contig",
    "time_grid": "molgen.sample.schedule",
    "write_conformers": "molgen.sample.conformers",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'molgen.sample' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return __all__
