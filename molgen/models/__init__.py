"""Score networks (backbone frames, conformer torsions) and their checkpoints.

Lengths in Angstrom, angles in radians; see :mod:`molgen.models.backbone` and
:mod:`molgen.models.conformer`. Checkpoints (:mod:`molgen.models.checkpoint`) are a
``model.safetensors`` plus a ``config.json``; every class below is registered for :func:`load`.
"""

from molgen.models.backbone import FrameScoreNetwork, FrameScoreNetworkConfig
from molgen.models.checkpoint import (
    bundled_names,
    load,
    read_config,
    register_model,
    save,
    trained_value,
    update_extra,
)
from molgen.models.conformer import TorsionScoreNetwork, TorsionScoreNetworkConfig
from molgen.models.plausibility import PlausibilityClassifier, PlausibilityClassifierConfig

register_model(FrameScoreNetwork)
register_model(TorsionScoreNetwork)
register_model(PlausibilityClassifier)

__all__ = [
    "FrameScoreNetwork",
    "FrameScoreNetworkConfig",
    "PlausibilityClassifier",
    "PlausibilityClassifierConfig",
    "TorsionScoreNetwork",
    "TorsionScoreNetworkConfig",
    "bundled_names",
    "load",
    "read_config",
    "register_model",
    "save",
    "trained_value",
    "update_extra",
]
