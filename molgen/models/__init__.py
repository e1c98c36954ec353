"""Score networks (backbone frames, conformer torsions) and their checkpoints.

Lengths in Angstrom, angles in radians; see :mod:`molgen.models.backbone`.
"""

from molgen.models.backbone import FrameScoreNetwork, FrameScoreNetworkConfig

__all__ = ["FrameScoreNetwork", "FrameScoreNetworkConfig"]
