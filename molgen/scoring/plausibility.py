r"""``model_score``: log-odds that a chain or a conformer is real-like, from invariant features.

Backbones: :func:`plausibility_scores`. Conformers: :func:`conformer_plausibility_scores`
evaluates a second classifier (bundled as ``molecule_plausibility``, trained by
``scripts/train_molecule_plausibility.py`` on QM9 train DFT geometries against decoy
conformers) on :func:`molgen.scoring.molecule_features.conformer_features`: the torsion
model's denoising score plus how far the conformer is from its own MMFF94 minimum.

:func:`plausibility_scores` computes :func:`molgen.scoring.features.chain_features` of each
backbone and evaluates a :class:`molgen.models.PlausibilityClassifier` (bundled as
``plausibility``, trained by ``scripts/train_plausibility.py`` on train chains against
molgen's own samples and synthetic decoys). The score
:math:`\ell = \log\frac{p(\text{real}\mid f)}{p(\text{decoy}\mid f)}` (equal class priors) is
0 where the classifier cannot tell, positive for real-like chains; the share of val chains
above each threshold is in the classifier's model card.

Why a classifier and not the denoising error (:mod:`molgen.scoring.backbone`, kept as the
``denoising_score`` column): a score model rates its own samples as likely (ROC AUC 0.56 real
vs generated, issue 21), while what a generator gets wrong is global (too little strand, loose
loops, poor packing) and shows in chain statistics.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from rdkit import Chem
from torch import nn

from molgen.errors import InputError
from molgen.models.plausibility import PlausibilityClassifier
from molgen.scoring import molecule_features
from molgen.scoring.features import FEATURE_NAMES, chain_features

__all__ = ["conformer_plausibility_scores", "plausibility_scores"]


def _check_classifier(classifier: nn.Module, names: Sequence[str]) -> None:
    if not isinstance(classifier, PlausibilityClassifier):
        raise InputError(f"not a plausibility classifier: a {type(classifier).__name__}")
    if list(classifier.config.feature_names) != list(names):
        raise InputError("this plausibility classifier was trained on other features")


def _log_odds(classifier: nn.Module, rows: Sequence[np.ndarray | None]) -> list[float | None]:
    """The classifier's output for each feature row, one row at a time (a score never depends
    on what else is scored with it); None rows stay None."""
    first = next(classifier.parameters())
    out: list[float | None] = []
    for row in rows:
        if row is None:
            out.append(None)
            continue
        features = torch.tensor(row[None], dtype=first.dtype, device=first.device)
        out.append(float(f"{float(classifier(features)[0]):.9g}"))
    return out


@torch.no_grad()
def plausibility_scores(
    classifier: nn.Module, backbones: Sequence[np.ndarray]
) -> list[float | None]:
    """``model_score`` of each backbone ``(L, 4, 3)`` (Angstrom), None for a chain with fewer
    than 2 residues with N, CA and C.

    Raises
    ------
    InputError
        Not a plausibility classifier, or one trained on other features than
        :data:`FEATURE_NAMES`.
    """
    _check_classifier(classifier, FEATURE_NAMES)
    rows: list[np.ndarray | None] = []
    for atoms in backbones:
        try:
            rows.append(chain_features(atoms))
        except ValueError:
            rows.append(None)
    return _log_odds(classifier, rows)


@torch.no_grad()
def conformer_plausibility_scores(
    classifier: nn.Module, mol: Chem.Mol, conf_ids: Sequence[int], denoising: Sequence[float | None]
) -> list[float | None]:
    """``model_score`` of conformers ``conf_ids`` of ``mol`` (explicit hydrogens, Angstrom),
    given their torsion-model ``denoising`` scores (None for a molecule without a rotatable
    bond: see :func:`~molgen.scoring.molecule_features.conformer_features`); None where MMFF94
    has no parameters for the molecule.

    Raises
    ------
    InputError
        Not a plausibility classifier, or one trained on other features than
        :data:`molgen.scoring.molecule_features.FEATURE_NAMES`.
    """
    _check_classifier(classifier, molecule_features.FEATURE_NAMES)
    usable = molecule_features.has_mmff_parameters(mol)
    rows = [
        molecule_features.conformer_features(mol, conf_id, score) if usable else None
        for conf_id, score in zip(conf_ids, denoising, strict=True)
    ]
    return _log_odds(classifier, rows)
