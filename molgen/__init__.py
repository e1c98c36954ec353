"""molgen: SE(3)-equivariant score-based diffusion for 3D molecular structures.

Units everywhere inside the package: lengths in Angstrom, angles in radians (degrees only in
human-facing reports). Batched tensors put the batch dimensions first; backbone atoms are
``[..., L, 4, 3]`` in the order N, CA, C, O.
"""

from molgen.errors import InputError
from molgen.version import __version__


def score_structures(*args, **kwargs):
    """Checks plus learned plausibility scores, one row per chain or conformer.

    See :func:`molgen.score.score_structures` (imported lazily: it pulls in torch and e3nn).
    """
    from molgen.score import score_structures as _score_structures

    return _score_structures(*args, **kwargs)


__all__ = ["InputError", "__version__", "score_structures"]
