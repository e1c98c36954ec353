r"""Score-based diffusion on the torus :math:`(-\pi, \pi]^d` with wrapped-normal marginals.

Forward SDE (torsional diffusion, Jing et al. 2022): :math:`dx = g(t)\,dW` on the circle with
:math:`\sigma(t) = \sigma_{\min}^{1-t}\sigma_{\max}^{t}` and :math:`g^2 = d\sigma^2/dt =
2\sigma^2\log(\sigma_{\max}/\sigma_{\min})`, so :math:`x_t = x_0 + \sigma(t) z` wrapped. The
wrapped normal density (per radian) is

.. math::

    p_\sigma(x) = \sum_{k\in\mathbb Z} \frac{e^{-(x + 2\pi k)^2/2\sigma^2}}{\sqrt{2\pi}\,\sigma}
    = \frac{1}{2\pi}\Big(1 + 2\sum_{n\ge1} e^{-n^2\sigma^2/2}\cos(nx)\Big),

evaluated with images :math:`|k| \le 3` for :math:`\sigma < 2` and with Fourier modes
:math:`n \le 6` above (both truncations below :math:`e^{-58}`). Reverse time, from
:math:`t` to :math:`t - dt`: :math:`x \leftarrow x + g^2 s\,dt + \eta g\sqrt{dt}\,z` (SDE) or
:math:`x \leftarrow x + \tfrac12 g^2 s\,dt` (probability-flow ODE), wrapped. The prior is
uniform on :math:`(-\pi, \pi]`. Angles in radians; scores in radian^-1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch

from molgen.diffusion.r3 import Time, expand_time

__all__ = ["TorusDiffuser", "wrap_angle"]

_SWITCH = 2.0
_IMAGES = 3
_MODES = 6


def wrap_angle(x: torch.Tensor) -> torch.Tensor:
    r"""Map angles (radians) to :math:`(-\pi, \pi]`."""
    return math.pi - torch.remainder(math.pi - x, 2 * math.pi)


def _log_density_and_score(x: torch.Tensor, sigma: torch.Tensor) -> tuple[torch.Tensor, ...]:
    x, sigma = torch.broadcast_tensors(wrap_angle(x), sigma.to(x))
    narrow = sigma < _SWITCH
    # Images, for sigma < 2.
    s_i = torch.where(narrow, sigma, torch.ones_like(sigma))[..., None]
    k = torch.arange(-_IMAGES, _IMAGES + 1, dtype=x.dtype, device=x.device)
    shifted = x[..., None] + 2 * math.pi * k
    expo = -(shifted**2) / (2 * s_i**2)
    log_img = torch.logsumexp(expo, -1) - torch.log(s_i[..., 0] * math.sqrt(2 * math.pi))
    score_img = (torch.softmax(expo, -1) * -shifted / s_i**2).sum(-1)
    # Fourier modes, for sigma >= 2.
    s_f = torch.where(narrow, torch.full_like(sigma, _SWITCH), sigma)[..., None]
    n = torch.arange(1, _MODES + 1, dtype=x.dtype, device=x.device)
    amp = 2 * torch.exp(-(n**2) * s_f**2 / 2)
    series = 1 + (amp * torch.cos(n * x[..., None])).sum(-1)
    log_four = torch.log(series) - math.log(2 * math.pi)
    score_four = -(amp * n * torch.sin(n * x[..., None])).sum(-1) / series
    return torch.where(narrow, log_img, log_four), torch.where(narrow, score_img, score_four)


class TorusDiffuser:
    r"""Wrapped-normal noise on angles; see the module docstring.

    Parameters
    ----------
    min_sigma, max_sigma : float
        :math:`\sigma(0)` and :math:`\sigma(1)` in radians (torsional diffusion: 0.01 pi, pi).
    """

    MIN_SIGMA = 0.01 * math.pi
    MAX_SIGMA = math.pi

    def __init__(self, min_sigma: float = MIN_SIGMA, max_sigma: float = MAX_SIGMA) -> None:
        if not 0 < min_sigma < max_sigma:
            raise ValueError(f"need 0 < min_sigma < max_sigma, got {min_sigma}, {max_sigma}")
        self.min_sigma, self.max_sigma = float(min_sigma), float(max_sigma)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TorusDiffuser:
        """Build from a mapping with keys ``min_sigma``, ``max_sigma``."""
        return cls(**{k: config[k] for k in ("min_sigma", "max_sigma") if k in config})

    def sigma(self, t: Time) -> torch.Tensor:
        r""":math:`\sigma(t) = \sigma_{\min}^{1-t}\sigma_{\max}^t` (radians)."""
        return self.min_sigma * torch.exp(
            torch.as_tensor(t) * math.log(self.max_sigma / self.min_sigma)
        )

    def g2(self, t: Time) -> torch.Tensor:
        r""":math:`g^2(t) = d\sigma^2/dt = 2\sigma^2\log(\sigma_{\max}/\sigma_{\min})`."""
        return 2 * self.sigma(t) ** 2 * math.log(self.max_sigma / self.min_sigma)

    @staticmethod
    def log_density(x: torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:
        r""":math:`\log p_\sigma(x)` of the wrapped normal; ``x`` in radians (any real)."""
        return _log_density_and_score(x, torch.as_tensor(sigma))[0]

    def score(self, x_t: torch.Tensor, x_0: torch.Tensor, t: Time) -> torch.Tensor:
        r"""Score :math:`\partial_{x_t}\log p_t(x_t \mid x_0)` (radian^-1, shaped like
        ``x_t``): :meth:`kernel_score` of :math:`x_t - x_0` at :math:`\sigma(t)`."""
        return self.kernel_score(x_t - x_0, self.sigma(expand_time(t, x_t.shape, x_t)))

    @staticmethod
    def kernel_score(x: torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:
        r""":math:`\partial_x \log p_\sigma(x)` of the wrapped normal (radian^-1)."""
        return _log_density_and_score(x, torch.as_tensor(sigma))[1]

    @staticmethod
    def sample(
        sigma: float | torch.Tensor,
        n: int,
        generator: torch.Generator | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> torch.Tensor:
        r"""``n`` wrapped-normal angles :math:`\mathrm{wrap}(\sigma z)` (radians), shape ``[n]``.

        ``sigma`` is a number or a tensor of shape ``[]`` or ``[n]``.
        """
        if isinstance(sigma, torch.Tensor):
            dtype, device = sigma.dtype, sigma.device
        elif generator is not None and device is None:
            device = generator.device
        z = torch.randn(n, dtype=dtype, device=device, generator=generator)
        return wrap_angle(torch.as_tensor(sigma).to(z) * z)

    def score_norm(self, t: Time) -> torch.Tensor:
        r""":math:`\mathbb E[s^2]` of the marginal at ``t``: :meth:`kernel_score_norm` at
        :math:`\sigma(t)` (radian^-2)."""
        return self.kernel_score_norm(self.sigma(t))

    @staticmethod
    def kernel_score_norm(sigma: float | torch.Tensor) -> torch.Tensor:
        r""":math:`\mathbb E[s^2] = \int s^2 p_\sigma` (radian^-2).

        :math:`1/\sigma^2` below :math:`\sigma = 0.15` (exact to :math:`e^{-200}`); above, the
        periodic trapezoid rule on 256 points (spectrally accurate there).
        """
        sigma = torch.as_tensor(sigma)
        if not sigma.is_floating_point():
            sigma = sigma.to(torch.get_default_dtype())
        x = torch.linspace(-math.pi, math.pi, 257, dtype=sigma.dtype, device=sigma.device)[:-1]
        safe = torch.clamp(sigma, min=0.15)[..., None]
        log_p, s = _log_density_and_score(x, safe)
        quad = (s**2 * torch.exp(log_p)).mean(-1) * 2 * math.pi
        return torch.where(sigma < 0.15, 1 / sigma**2, quad)

    def sample_marginal(
        self, x0: torch.Tensor, t: Time, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Draw :math:`x_t = \mathrm{wrap}(x_0 + \sigma(t) z)` and its score.

        ``x0`` has any shape (radians); ``t`` is a number or a tensor whose shape is a prefix of
        ``x0.shape``. Returns ``(x_t, score)``, both shaped like ``x0``.
        """
        sigma = self.sigma(expand_time(t, x0.shape, x0))
        z = torch.randn(x0.shape, dtype=x0.dtype, device=x0.device, generator=generator)
        return wrap_angle(x0 + sigma * z), self.kernel_score(sigma * z, sigma)

    def reverse_step(
        self,
        x_t: torch.Tensor,
        score: torch.Tensor,
        t: Time,
        dt: float,
        noise_scale: float = 1.0,
        generator: torch.Generator | None = None,
        ode: bool = False,
    ) -> torch.Tensor:
        r"""One Euler step from ``t`` to ``t - dt`` (``dt > 0``), wrapped to :math:`(-\pi, \pi]`.

        :math:`x \leftarrow x + g^2 s\,dt + \eta g\sqrt{dt}\,z` (SDE) or
        :math:`x + \tfrac12 g^2 s\,dt` (ODE); ``score`` in radian^-1.
        """
        g2 = self.g2(expand_time(t, x_t.shape, x_t))
        if ode:
            return wrap_angle(x_t + 0.5 * g2 * score * dt)
        z = torch.randn(x_t.shape, dtype=x_t.dtype, device=x_t.device, generator=generator)
        return wrap_angle(x_t + g2 * score * dt + noise_scale * torch.sqrt(g2 * dt) * z)

    @staticmethod
    def sample_prior(
        n: int | tuple[int, ...],
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        r"""Uniform angles on :math:`(-\pi, \pi]`, shape ``(n,)`` or ``n``."""
        shape = (n,) if isinstance(n, int) else tuple(n)
        if generator is not None and device is None:
            device = generator.device
        u = torch.rand(shape, dtype=dtype, device=device, generator=generator)
        return wrap_angle(math.pi - 2 * math.pi * u)
