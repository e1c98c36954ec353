r"""Variance-preserving SDE on :math:`\mathbb R^3` for translations (lengths in Angstrom).

With scaled coordinates :math:`\tilde x = c\,x` (``coordinate_scale`` :math:`c`, default 0.1,
i.e. units of 10 Angstrom) the forward SDE is (Song et al. 2021, VP SDE)

.. math::

    d\tilde x = -\tfrac12\beta(t)\,\tilde x\,dt + \sqrt{\beta(t)}\,dW,\qquad
    \beta(t) = \beta_{\min} + t(\beta_{\max} - \beta_{\min}),

with marginals :math:`\tilde x_t \mid \tilde x_0 \sim \mathcal N(\alpha_t\tilde x_0,
\sigma_t^2 I)`, :math:`\alpha_t = \exp(-\tfrac12\int_0^t\beta) =
\exp(-\tfrac12\beta_{\min}t - \tfrac14(\beta_{\max}-\beta_{\min})t^2)`,
:math:`\sigma_t^2 = 1 - \alpha_t^2`. The prior is :math:`\tilde x_1 \sim \mathcal N(0, I)`.

Units: every position in and out is in Angstrom. Every score is
:math:`\nabla_x \log p_t(x)` with respect to the **Angstrom** coordinates (unit 1/Angstrom):
:math:`\nabla_x \log p_t(x_t \mid x_0) = -c^2 (x_t - \alpha_t x_0) / \sigma_t^2`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

__all__ = ["R3Diffuser", "expand_time"]

Time = float | torch.Tensor


def expand_time(t: Time, batch_shape: torch.Size, ref: torch.Tensor) -> torch.Tensor:
    """Time as a tensor of ``batch_shape`` with the dtype and device of ``ref``.

    ``t`` is a number, a 0-d tensor, or a tensor whose shape is a prefix of ``batch_shape``
    (one time per sample, e.g. ``[B]`` for data ``[B, L, ...]``).
    """
    t = torch.as_tensor(t, dtype=ref.dtype, device=ref.device)
    t = t.reshape(t.shape + (1,) * (len(batch_shape) - t.ndim))
    return t.expand(batch_shape)


class R3Diffuser:
    r"""VP SDE with linear :math:`\beta(t)` on scaled coordinates; see the module docstring.

    Parameters
    ----------
    min_b, max_b : float
        :math:`\beta_{\min}, \beta_{\max}` (per unit time), FrameDiff's 0.1 and 20.
    coordinate_scale : float
        :math:`c`: scaled coordinates are :math:`c\,x` with :math:`x` in Angstrom.
    """

    def __init__(self, min_b: float = 0.1, max_b: float = 20.0, coordinate_scale: float = 0.1):
        if not 0 < min_b <= max_b or coordinate_scale <= 0:
            raise ValueError(f"need 0 < min_b <= max_b and scale > 0, got {min_b}, {max_b}")
        self.min_b, self.max_b, self.scale = float(min_b), float(max_b), float(coordinate_scale)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> R3Diffuser:
        """Build from a mapping with keys ``min_b``, ``max_b``, ``coordinate_scale``."""
        return cls(**{k: config[k] for k in ("min_b", "max_b", "coordinate_scale") if k in config})

    def beta(self, t: Time) -> torch.Tensor:
        r""":math:`\beta(t) = \beta_{\min} + t(\beta_{\max} - \beta_{\min})`."""
        return self.min_b + torch.as_tensor(t) * (self.max_b - self.min_b)

    def marginal(self, t: Time) -> tuple[torch.Tensor, torch.Tensor]:
        r"""``(alpha_t, sigma_t)``: :math:`\tilde x_t = \alpha_t\tilde x_0 + \sigma_t z`."""
        t = torch.as_tensor(t)
        log_alpha = -0.5 * self.min_b * t - 0.25 * (self.max_b - self.min_b) * t**2
        return torch.exp(log_alpha), torch.sqrt(-torch.expm1(2 * log_alpha))

    def sample_marginal(
        self, x0: torch.Tensor, t: Time, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Draw :math:`x_t \mid x_0` and its score.

        Parameters
        ----------
        x0 : torch.Tensor, shape ``(..., 3)``, Angstrom
        t : float or torch.Tensor, shape a prefix of ``x0.shape[:-1]``, in (0, 1]

        Returns
        -------
        x_t : torch.Tensor, shape ``(..., 3)``, Angstrom
        score : torch.Tensor, shape ``(..., 3)``, 1/Angstrom
            :math:`\nabla_{x_t}\log p_t(x_t \mid x_0) = -c\,z/\sigma_t`.
        """
        alpha, sigma = self.marginal(expand_time(t, x0.shape[:-1], x0)[..., None])
        z = torch.randn(x0.shape, dtype=x0.dtype, device=x0.device, generator=generator)
        x_t = alpha * x0 + sigma * z / self.scale
        return x_t, -self.scale * z / sigma

    def score(self, x_t: torch.Tensor, x0: torch.Tensor, t: Time) -> torch.Tensor:
        r"""Score :math:`\nabla_{x_t}\log p_t(x_t\mid x_0) = -c^2(x_t - \alpha_t x_0)/\sigma_t^2`.

        Positions in Angstrom, score in 1/Angstrom, shape ``(..., 3)``.
        """
        alpha, sigma = self.marginal(expand_time(t, x_t.shape[:-1], x_t)[..., None])
        return -(self.scale**2) * (x_t - alpha * x0) / sigma**2

    def score_norm(self, t: Time) -> torch.Tensor:
        r"""Per point, :math:`\mathbb E\|\nabla\log p_t(x_t\mid x_0)\|^2 = 3c^2/\sigma_t^2`.

        In 1/Angstrom^2, per point of 3 coordinates; infinite at :math:`t = 0`.
        """
        return 3 * self.scale**2 / self.marginal(t)[1] ** 2

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
        r"""One step of the reverse SDE (or probability-flow ODE) from ``t`` to ``s = t - dt``.

        The score at ``t`` fixes the denoised estimate :math:`\alpha_t\hat x_0 = \tilde x_t +
        \sigma_t^2\tilde s` and the noise estimate :math:`\hat\varepsilon = -\sigma_t\tilde s`
        (scaled units, :math:`\tilde s = s / c` the score w.r.t. :math:`\tilde x = c x`). The
        step is the exact Gaussian transition given :math:`\hat x_0` (Ho et al. 2020; Song et
        al. 2021 DDIM), with :math:`\alpha_{t|s} = \alpha_t/\alpha_s` and
        :math:`\sigma_{t|s}^2 = \sigma_t^2 - \alpha_{t|s}^2\sigma_s^2`:

        .. math::

            \tilde x_s = \frac{\alpha_{t|s}\sigma_s^2}{\sigma_t^2}\tilde x_t
                + \frac{\alpha_s\sigma_{t|s}^2}{\sigma_t^2}\hat x_0
                + \eta\,\frac{\sigma_{t|s}\sigma_s}{\sigma_t} z \quad\text{(SDE)},\qquad
            \tilde x_s = \alpha_s\hat x_0 + \sigma_s\hat\varepsilon \quad\text{(ODE)}.

        Both discretise the same reverse-time dynamics as Euler-Maruyama does (they agree with
        it to first order in ``dt``), but stay exact for any step size when the data is a
        point mass. Euler-Maruyama on an even time grid adds far too much noise at small
        :math:`t` (variance :math:`\beta(t)dt` against a remaining :math:`\sigma_s^2` of the
        same order), which left sampled chains visibly noisier than the network's training
        inputs at the same :math:`t`.

        Parameters
        ----------
        x_t : torch.Tensor, shape ``(..., 3)``, Angstrom
        score : torch.Tensor, shape ``(..., 3)``, 1/Angstrom
        t : float or torch.Tensor (prefix of the batch shape)
        dt : float
            Positive step, at most ``t``; the result is at time ``t - dt``.
        noise_scale : float
            :math:`\eta`, multiplies the noise (1 is the exact reverse SDE).

        Returns
        -------
        torch.Tensor, shape ``(..., 3)``, Angstrom
        """
        t = expand_time(t, x_t.shape[:-1], x_t)[..., None]
        alpha_t, sigma_t = self.marginal(t)
        alpha_s, sigma_s = self.marginal((t - dt).clamp_min(0.0))
        x = x_t * self.scale  # scaled units
        s = score / self.scale
        x0_alpha = x + sigma_t**2 * s  # alpha_t * x0_hat
        x0 = x0_alpha / alpha_t
        if ode:
            x_s = alpha_s * x0 - sigma_s * sigma_t * s
        else:
            alpha_ts = alpha_t / alpha_s
            var_ts = sigma_t**2 - alpha_ts**2 * sigma_s**2
            x_s = (alpha_ts * sigma_s**2 * x + alpha_s * var_ts * x0) / sigma_t**2
            z = torch.randn(x_t.shape, dtype=x_t.dtype, device=x_t.device, generator=generator)
            x_s = x_s + noise_scale * torch.sqrt(var_ts.clamp_min(0.0)) * sigma_s / sigma_t * z
        return x_s / self.scale

    def sample_prior(
        self,
        shape: tuple[int, ...] | torch.Size,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        r"""Prior :math:`x = z / c` (Angstrom), :math:`z \sim \mathcal N(0, I)`.

        ``shape`` ends in 3; dtype defaults to torch's default dtype.
        """
        if generator is not None and device is None:
            device = generator.device
        return torch.randn(*shape, dtype=dtype, device=device, generator=generator) / self.scale
