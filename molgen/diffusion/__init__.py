r"""Noise processes for score-based diffusion: R^3 (VP SDE), SO(3) (IGSO(3)), torus, SE(3) frames.

Time runs over :math:`t \in [0, 1]`: :math:`t = 0` is the data and :math:`t = 1` the prior.
Suffixes: ``_0`` for data, ``_t`` for the noisy value at time :math:`t`. Every process exposes
the same verbs: ``sigma(t)`` (or ``marginal(t)`` for R^3), ``sample_marginal``, ``score``,
``score_norm``, ``reverse_step`` (one step from :math:`t` to :math:`t - dt` of the reverse
SDE, or of the probability-flow ODE with ``ode=True``; called as
``reverse_step(state_t, score, t, dt, noise_scale, generator, ode)``) and ``sample_prior``.
Dtype and device follow the input tensors; every random draw takes an optional
``torch.Generator``. Lengths in Angstrom, angles in radians; rotations compose on the right,
:math:`R_t = R_0\exp(\hat v)`, and rotation scores are tangent vectors in the residue's own frame.
"""

from molgen.diffusion.r3 import R3Diffuser
from molgen.diffusion.se3 import DEFAULT_MIN_T, NoisyFrames, SE3Diffuser
from molgen.diffusion.so3 import SO3Diffuser
from molgen.diffusion.torus import TorusDiffuser, wrap_angle

__all__ = [
    "DEFAULT_MIN_T",
    "NoisyFrames",
    "R3Diffuser",
    "SE3Diffuser",
    "SO3Diffuser",
    "TorusDiffuser",
    "wrap_angle",
]
