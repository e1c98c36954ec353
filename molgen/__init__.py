"""molgen: SE(3)-equivariant score-based diffusion for 3D molecular structures.

Units everywhere inside the package: lengths in Angstrom, angles in radians (degrees only in
human-facing reports). Batched tensors put the batch dimensions first; backbone atoms are
``[..., L, 4, 3]`` in the order N, CA, C, O.
"""

from molgen.errors import InputError

__version__ = "0.1.0"

__all__ = ["InputError", "__version__"]
