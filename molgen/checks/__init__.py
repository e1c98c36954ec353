"""Structure validity checks for protein backbones (MolProbity-style) and molecules
(PoseBusters-style). Each returns a flat, JSON-serialisable record with ``checks_passed`` and
``failed_checks``; :func:`check_paths` runs them over files (``molgen check``)."""

from molgen.checks.backbone import CHECK_NAMES as BACKBONE_CHECK_NAMES
from molgen.checks.backbone import check_backbone
from molgen.checks.molecule import CHECK_NAMES as MOLECULE_CHECK_NAMES
from molgen.checks.molecule import check_conformers, check_molecule
from molgen.checks.ramachandran import classify_ramachandran
from molgen.checks.report import check_paths

__all__ = [
    "BACKBONE_CHECK_NAMES",
    "MOLECULE_CHECK_NAMES",
    "check_backbone",
    "check_conformers",
    "check_molecule",
    "check_paths",
    "classify_ramachandran",
]
