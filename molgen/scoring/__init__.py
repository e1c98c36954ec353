"""Learned plausibility scores of structures (the backbone plausibility classifier, the
denoising error of the score networks), ROC AUC, and decoys for benchmarking them. The
file-level pipeline is :mod:`molgen.score`."""

from molgen.scoring.auc import aucs_by_class, roc_auc
from molgen.scoring.backbone import (
    DEFAULT_T_GRID,
    ScoreCalibration,
    backbone_model_scores,
    calibrate,
)
from molgen.scoring.decoys import (
    chain_from_torsions,
    ideal_helix,
    mirror_decoy,
    noise_decoy,
    swap_decoy,
    torsion_noise_decoy,
)
from molgen.scoring.molecule import DEFAULT_SIGMA_GRID, conformer_model_scores
from molgen.scoring.plausibility import plausibility_scores

__all__ = [
    "DEFAULT_SIGMA_GRID",
    "aucs_by_class",
    "DEFAULT_T_GRID",
    "ScoreCalibration",
    "backbone_model_scores",
    "calibrate",
    "chain_from_torsions",
    "conformer_model_scores",
    "ideal_helix",
    "mirror_decoy",
    "noise_decoy",
    "plausibility_scores",
    "roc_auc",
    "swap_decoy",
    "torsion_noise_decoy",
]
