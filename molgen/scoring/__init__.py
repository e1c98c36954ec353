"""Learned plausibility scores of structures (denoising error of the score networks), ROC AUC,
and decoys for benchmarking them. The file-level pipeline is :mod:`molgen.score`."""

from molgen.scoring.auc import roc_auc
from molgen.scoring.backbone import (
    DEFAULT_T_GRID,
    ScoreCalibration,
    backbone_model_scores,
    calibrate,
)
from molgen.scoring.decoys import ideal_helix, mirror_decoy, noise_decoy, swap_decoy
from molgen.scoring.molecule import DEFAULT_SIGMA_GRID, conformer_model_scores

__all__ = [
    "DEFAULT_SIGMA_GRID",
    "DEFAULT_T_GRID",
    "ScoreCalibration",
    "backbone_model_scores",
    "calibrate",
    "conformer_model_scores",
    "ideal_helix",
    "mirror_decoy",
    "noise_decoy",
    "roc_auc",
    "swap_decoy",
]
