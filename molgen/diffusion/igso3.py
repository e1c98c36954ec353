r"""The isotropic Gaussian on SO(3), IGSO(3)(sigma): density, score, sampling tables.

IGSO(3)(:math:`\sigma`) is the law of Brownian motion on SO(3) (generator :math:`\tfrac12\Delta`,
metric with :math:`\|v\| =` rotation angle) started at the identity and run for time
:math:`\sigma^2`. Its density with respect to the normalised Haar measure depends only on the
rotation angle :math:`\omega \in [0, \pi]` (radians), with :math:`\varepsilon = \sigma^2 / 2`:

.. math::

    f(\omega) = \sum_{l \ge 0} (2l+1)\, e^{-l(l+1)\varepsilon}\,
        \frac{\sin((l+\tfrac12)\omega)}{\sin(\omega/2)}                      \qquad (1)

    \phantom{f(\omega)} = \frac{\sqrt\pi\, e^{\varepsilon/4}}{2\,\varepsilon^{3/2}\sin(\omega/2)}
        \sum_{m \in \mathbb Z} (-1)^m (\omega - 2\pi m)\,
        e^{-(\omega - 2\pi m)^2 / 4\varepsilon}                                   \qquad (2)

Form (2) follows from (1) by Poisson summation over :math:`k = l + \tfrac12`; its
:math:`m = 0` term is the closed-form small-:math:`\sigma` approximation (Leach et al. 2022,
eq. 10, keeps :math:`|m| \le 1`), and the images :math:`m \ne 0` make it exact. Series (1)
needs about :math:`9.5/\sigma` terms, series (2) only a few images for
:math:`\sigma \lesssim 2`; we use (2) with the images :math:`|m| \le 2` below
``SERIES_SWITCH`` = 1.5 and (1) with ``N_TERMS`` = 8 terms above it. Both truncations are below
float64 round-off (checked against a 60-digit evaluation of (1) in the tests).

The angle of an IGSO(3) rotation has density :math:`f(\omega)(1 - \cos\omega)/\pi` on
:math:`[0, \pi]` (the Haar angle density is :math:`(1-\cos\omega)/\pi`). The score
:math:`s(\omega) = \mathrm d \log f / \mathrm d\omega` is evaluated as the smooth function
:math:`s(\omega)/\omega`, so it is analytic at :math:`\omega = 0`; at :math:`\omega = \pi` it
vanishes by the symmetry :math:`f(2\pi - \omega) = f(\omega)`.

Sampling inverts the angle CDF tabulated on a log-spaced :math:`\sigma` grid (see
:class:`Igso3Tables`); below ``SIGMA_MIN_TABLE`` = 0.01 the tangent Gaussian
:math:`\mathcal N(0, \sigma^2 I_3)` is used (its angle CDF differs by :math:`O(\sigma^2/8)
< 10^{-5}`), above ``SIGMA_MAX_TABLE`` = 5 the distribution is Haar to within :math:`10^{-10}`.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "igso3_log_density",
    "igso3_angle_density",
    "igso3_angle_score",
    "igso3_score_over_angle",
    "igso3_sample",
    "Igso3Tables",
    "igso3_tables",
]

SERIES_SWITCH = 1.5  # sigma below: image series (2); above: l-series (1)
N_TERMS = 8  # l-series terms for sigma >= 1.5: exp(-l(l+1) sigma^2 / 2) < e^-63 beyond l = 7
IMAGES = (1, 2)  # image pairs +-m of series (2); |m| = 3 is below e^-52 for sigma < 1.5
SIGMA_MIN_TABLE = 0.01
SIGMA_MAX_TABLE = 5.0
_SMALL = 1e-2  # below this angle, Taylor series replace log(w / sin(w/2)) and 1/w - cot(w/2)/2

Number = float | torch.Tensor


def _log_ratio(omega: torch.Tensor) -> torch.Tensor:
    r""":math:`\log(\omega/\sin(\omega/2))`, near 0 :math:`\log 2 + \omega^2/24+\dots`."""
    small = omega < _SMALL
    w = torch.where(small, torch.ones_like(omega), omega)
    series = math.log(2.0) + omega**2 / 24.0 + omega**4 / 2880.0
    return torch.where(small, series, torch.log(w / torch.sin(0.5 * w)))


def _h_over_omega(omega: torch.Tensor) -> torch.Tensor:
    r""":math:`h(\omega)/\omega = (1/\omega - \tfrac12\cot(\omega/2)) / \omega`; near 0 a series.

    :math:`h(\omega)/\omega = 1/12 + \omega^2/720 + \omega^4/30240 + O(\omega^6)`.
    """
    small = omega < _SMALL
    w = torch.where(small, torch.ones_like(omega), omega)
    w2 = omega * omega
    series = 1.0 / 12.0 + w2 / 720.0 + w2 * w2 / 30240.0
    return torch.where(small, series, (1.0 / w - 0.5 / torch.tan(0.5 * w)) / w)


def _images(omega: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Image sum of (2) relative to its :math:`m = 0` term, :math:`U`, and :math:`U'/\omega`.

    Pairing :math:`\pm m` with :math:`E_{\pm m} = e^{\pi m(\pm\omega - \pi m)/\varepsilon}
    \le 1`, :math:`A = e^{-\pi^2 m^2/\varepsilon}` and :math:`a = \pi m\omega/\varepsilon`:

    .. math::

        U = 1 + \sum_{m \ge 1} (-1)^m \big[2C_m - \tfrac{4\pi^2 m^2}{\varepsilon} S_m\big],
        \qquad \frac{U'}{\omega} = \sum_{m \ge 1} (-1)^m \big(\tfrac{\pi m}{\varepsilon}\big)^2
        \big[2 S_m - \tfrac{4\pi^2 m^2}{\varepsilon} T_m\big],

    :math:`C_m = A\cosh a`, :math:`S_m = A\sinh(a)/a`, :math:`T_m = A(a\cosh a - \sinh a)/a^3`,
    each from the :math:`E_{\pm m}` (no overflow) or, for small :math:`a`, by Taylor series
    (no cancellation), so both are finite at :math:`\omega = 0`.
    """
    u = torch.ones_like(omega)
    du_w = torch.zeros_like(omega)
    for m in IMAGES:
        rate = math.pi * m / eps
        a = rate * omega
        big_a = math.pi**2 * m * m / eps
        e_plus, e_minus, amp = torch.exp(a - big_a), torch.exp(-a - big_a), torch.exp(-big_a)
        small = a < 0.1
        a_safe = torch.where(small, torch.ones_like(a), a)
        a2 = a * a
        c = 0.5 * (e_plus + e_minus)
        s = torch.where(
            small, amp * (1 + a2 / 6 + a2 * a2 / 120), (e_plus - e_minus) / (2 * a_safe)
        )
        t_series = amp * (1 / 3 + a2 / 30 + a2 * a2 / 840 + a2**3 / 45360)
        t = torch.where(small, t_series, (c - s) / a_safe**2)
        sign = (-1.0) ** m
        u = u + sign * (2 * c - 4 * big_a * s)
        du_w = du_w + sign * rate**2 * (2 * s - 4 * big_a * t)
    return u, du_w


def _by_images(omega: torch.Tensor, sigma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Series (2): :math:`\log f` and :math:`s/\omega`.

    :math:`s/\omega = -1/(2\varepsilon) + h/\omega + U'/(\omega U)`.
    """
    eps = 0.5 * sigma * sigma
    u, du_w = _images(omega, eps)
    log_f = (
        eps / 4 + 0.5 * math.log(math.pi) - math.log(2.0) - 1.5 * torch.log(eps)
        - omega**2 / (4 * eps) + _log_ratio(omega) + torch.log(u)
    )  # fmt: skip
    return log_f, -0.5 / eps + _h_over_omega(omega) + du_w / u


def _by_series(omega: torch.Tensor, sigma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Series (1): :math:`\log f` and :math:`s/\omega`.

    With :math:`N = \sum_l c_l \sin(k\omega)`, :math:`c_l = (2l+1)e^{-l(l+1)\varepsilon}`,
    :math:`k = l + \tfrac12`: :math:`f = (N/\omega)\,(\omega/\sin(\omega/2))` and
    :math:`s/\omega = (\omega N' - N)/(\omega^3 \cdot N/\omega) + h/\omega`, where
    :math:`(\omega N' - N)/\omega^3 = \sum_l c_l k^3 g(k\omega)`,
    :math:`g(x) = (x\cos x - \sin x)/x^3` (Taylor series below :math:`x = 0.1`).
    """
    ell = torch.arange(N_TERMS, dtype=omega.dtype, device=omega.device)
    c = (2 * ell + 1) * torch.exp(-ell * (ell + 1) * (0.5 * sigma * sigma)[..., None])
    k = ell + 0.5
    x = k * omega[..., None]
    small = x < 0.1
    xs = torch.where(small, torch.ones_like(x), x)
    x2 = x * x
    g_series = -1.0 / 3.0 + x2 / 30.0 - x2 * x2 / 840.0 + x2**3 / 45360.0
    g = torch.where(small, g_series, (xs * torch.cos(xs) - torch.sin(xs)) / xs**3)
    n_over_w = (c * k * torch.sinc(x / math.pi)).sum(-1)
    log_f = torch.log(n_over_w) + _log_ratio(omega)
    return log_f, (c * k**3 * g).sum(-1) / n_over_w + _h_over_omega(omega)


def _evaluate(omega: torch.Tensor, sigma: Number) -> tuple[torch.Tensor, torch.Tensor]:
    """``(log f, s / omega)``; the branch is picked per element (both run for tensor sigma)."""
    if not isinstance(sigma, torch.Tensor):
        branch = _by_images if sigma < SERIES_SWITCH else _by_series
        return branch(omega, torch.full_like(omega, float(sigma)))
    omega, sigma = torch.broadcast_tensors(omega, sigma.to(omega))
    small = sigma < SERIES_SWITCH
    img = _by_images(omega, torch.where(small, sigma, torch.ones_like(sigma)))
    ser = _by_series(omega, torch.where(small, torch.full_like(sigma, 2.0), sigma))
    return torch.where(small, img[0], ser[0]), torch.where(small, img[1], ser[1])


def igso3_log_density(omega: torch.Tensor, sigma: Number) -> torch.Tensor:
    r""":math:`\log f(\omega)`, the IGSO(3) log density w.r.t. normalised Haar measure.

    Parameters
    ----------
    omega : torch.Tensor, shape ``(...)``
        Rotation angles in :math:`[0, \pi]`, radians.
    sigma : float or torch.Tensor broadcastable to ``omega``
        Scale (> 0): Brownian motion run for time :math:`\sigma^2`.

    Returns
    -------
    torch.Tensor, shape ``broadcast(omega, sigma)``
    """
    return _evaluate(omega, sigma)[0]


def igso3_angle_density(omega: torch.Tensor, sigma: Number) -> torch.Tensor:
    r"""Density of the rotation angle on :math:`[0, \pi]`: :math:`f(\omega)(1-\cos\omega)/\pi`.

    Per radian. Integrates to 1 over :math:`[0, \pi]`; zero at :math:`\omega = 0`.
    """
    return torch.exp(igso3_log_density(omega, sigma)) * (1.0 - torch.cos(omega)) / math.pi


def igso3_score_over_angle(omega: torch.Tensor, sigma: Number) -> torch.Tensor:
    r""":math:`s(\omega)/\omega`, :math:`s = \mathrm d\log f/\mathrm d\omega`: finite at 0.

    Units radian^-2. Tends to :math:`-1/\sigma^2 + 1/12` as :math:`\omega \to 0`.
    """
    return _evaluate(omega, sigma)[1]


def igso3_angle_score(omega: torch.Tensor, sigma: Number) -> torch.Tensor:
    r""":math:`s(\omega) = \mathrm d \log f / \mathrm d\omega` (radian^-1), zero at 0 and pi."""
    return omega * igso3_score_over_angle(omega, sigma)


class Igso3Tables:
    r"""Angle CDF and :math:`\sigma^2\,\mathbb E\|s\|^2` on a log-spaced :math:`\sigma` grid.

    Rows :math:`\sigma_i = \sigma_\star e^{i\Delta}` (:math:`\Delta` = ``log_step``) cover
    ``[SIGMA_MIN_TABLE, SIGMA_MAX_TABLE]`` with a node at :math:`\sigma_\star = \pi/12`. Row
    :math:`i` holds the CDF at :math:`\omega_{ij} = \omega_{\max}(\sigma_i)\, x_j` on a uniform
    grid :math:`x_j \in [0, 1]`, :math:`\omega_{\max} = \min(\pi, 12\sigma)` (the mass beyond
    :math:`12\sigma` is below :math:`e^{-70}`), integrated by Simpson's rule on each cell. The
    kink of :math:`\omega_{\max}` sits on the node :math:`\sigma_\star`, and since the grid
    scales with :math:`\sigma` the CDF in :math:`x` changes slowly with :math:`\sigma`: linear
    interpolation in :math:`\log\sigma` and in :math:`x` is accurate to about :math:`10^{-5}`.
    Built once in float64 on the CPU (a fraction of a second), copied per dtype and device.
    """

    def __init__(self, n_angles: int = 1024, log_step: float = 0.02) -> None:
        star = math.pi / 12
        lo = math.floor(math.log(SIGMA_MIN_TABLE / star) / log_step)
        hi = math.ceil(math.log(SIGMA_MAX_TABLE / star) / log_step)
        self.log_sigma0, self.log_step = math.log(star) + lo * log_step, log_step
        sigma = star * torch.exp(torch.arange(lo, hi + 1, dtype=torch.float64) * log_step)
        omega_max = torch.clamp(12.0 * sigma, max=math.pi)
        x = torch.linspace(0.0, 1.0, 2 * n_angles - 1, dtype=torch.float64)  # with midpoints
        omega = omega_max[:, None] * x  # [S, 2J - 1]
        log_f, s_w = torch.empty_like(omega), torch.empty_like(omega)
        for rows, branch in (
            (sigma < SERIES_SWITCH, _by_images),
            (sigma >= SERIES_SWITCH, _by_series),
        ):
            log_f[rows], s_w[rows] = branch(omega[rows], sigma[rows, None].expand_as(omega[rows]))
        p = torch.exp(log_f) * (1.0 - torch.cos(omega)) / math.pi
        h = (omega_max / (n_angles - 1))[:, None]

        def cumulative_simpson(y: torch.Tensor) -> torch.Tensor:
            cells = h / 6 * (y[:, 0:-1:2] + 4 * y[:, 1::2] + y[:, 2::2])
            return torch.cat([torch.zeros_like(cells[:, :1]), cells.cumsum(-1)], dim=-1)

        cdf = cumulative_simpson(p)
        self.sigma, self.omega_max = sigma, omega_max
        self.total_mass = cdf[:, -1].clone()  # 1 up to quadrature error: a check, not used
        self.cdf = cdf / cdf[:, -1:]  # [S, J]
        self.log_score_norm_scaled = torch.log(
            sigma**2 * cumulative_simpson((omega * s_w) ** 2 * p)[:, -1]
        )
        self._cache: dict[tuple[torch.dtype, torch.device], tuple[torch.Tensor, ...]] = {}

    def _on(self, ref: torch.Tensor) -> tuple[torch.Tensor, ...]:
        key = (ref.dtype, ref.device)
        if key not in self._cache:
            tables = (self.cdf, self.omega_max, self.log_score_norm_scaled)
            self._cache[key] = tuple(t.to(dtype=ref.dtype, device=ref.device) for t in tables)
        return self._cache[key]

    def _row(self, sigma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Lower row index and weight in log sigma (sigma clamped to the grid)."""
        s = torch.clamp(sigma, SIGMA_MIN_TABLE, SIGMA_MAX_TABLE)
        pos = (torch.log(s) - self.log_sigma0) / self.log_step
        i = torch.clamp(pos.floor().long(), 0, len(self.sigma) - 2)
        return i, pos - i

    def sample_angle(self, sigma: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        r"""Angles :math:`\omega = F_\sigma^{-1}(u)` for uniforms ``u`` shaped as ``sigma``.

        Inverts exactly the CDF interpolated linearly in :math:`\log\sigma` and in :math:`x`,
        by a vectorised binary search over the shared :math:`x` grid. Radians.
        """
        cdf, omega_max, _ = self._on(sigma)
        i, w = self._row(sigma)
        n = cdf.shape[-1]

        def at(j: torch.Tensor) -> torch.Tensor:
            return (1 - w) * cdf[i, j] + w * cdf[i + 1, j]

        lo, hi = torch.zeros_like(i), torch.full_like(i, n - 1)
        for _ in range(math.ceil(math.log2(n - 1))):
            mid = (lo + hi) // 2
            below = at(mid) <= u
            lo, hi = torch.where(below, mid, lo), torch.where(below, hi, mid)
        f_lo, f_hi = at(lo), at(hi)
        frac = ((u - f_lo) / (f_hi - f_lo).clamp_min(torch.finfo(u.dtype).tiny)).clamp(0.0, 1.0)
        # omega_max is exactly log-linear between two nodes (its kink is on a node).
        w_max = torch.exp((1 - w) * torch.log(omega_max[i]) + w * torch.log(omega_max[i + 1]))
        return (lo + frac) / (n - 1) * w_max

    def score_norm(self, sigma: torch.Tensor) -> torch.Tensor:
        r""":math:`\mathbb E\|s\|^2` (radian^-2) from a table of :math:`\sigma^2\mathbb E\|s\|^2`.

        :math:`\log(\sigma^2\mathbb E\|s\|^2)` is interpolated by the cubic through four
        neighbouring nodes in :math:`\log\sigma` (it falls like :math:`-\sigma^2` for large
        :math:`\sigma`, where linear interpolation would be off by a percent). Below the grid
        :math:`\sigma^2\mathbb E\|s\|^2 \to 3` (the tangent Gaussian); above it the value is
        below :math:`10^{-18}`.
        """
        _, _, log_q = self._on(sigma)
        i, w = self._row(sigma)
        shift = torch.clamp(i, 1, len(self.sigma) - 3) - i  # keep nodes i-1 .. i+2 on the grid
        i, w = i + shift, w - shift
        weights = (
            -w * (w - 1) * (w - 2) / 6,
            (w + 1) * (w - 1) * (w - 2) / 2,
            -(w + 1) * w * (w - 2) / 2,
            (w + 1) * w * (w - 1) / 6,
        )
        value = sum(c * log_q[i + k] for c, k in zip(weights, (-1, 0, 1, 2), strict=True))
        return torch.exp(value) / sigma**2


_TABLES: Igso3Tables | None = None


def igso3_tables() -> Igso3Tables:
    """The process-wide :class:`Igso3Tables`, built on first use and kept in memory."""
    global _TABLES
    if _TABLES is None:
        _TABLES = Igso3Tables()
    return _TABLES


def igso3_sample(sigma: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Rotation vectors :math:`\omega n` of IGSO(3)(:math:`\sigma`) samples, ``(*sigma.shape, 3)``.

    The axis :math:`n` is uniform on the sphere and the angle :math:`\omega` (radians) is drawn
    by inverting the tabulated angle CDF; below ``SIGMA_MIN_TABLE`` the rotation vector is
    :math:`\mathcal N(0, \sigma^2 I_3)`. Dtype and device follow ``sigma``.
    """
    z = torch.randn(*sigma.shape, 3, dtype=sigma.dtype, device=sigma.device, generator=generator)
    u = torch.rand(sigma.shape, dtype=sigma.dtype, device=sigma.device, generator=generator)
    axis = z / torch.linalg.vector_norm(z, dim=-1, keepdim=True).clamp_min(1e-30)
    omega = igso3_tables().sample_angle(sigma, u)
    small = (sigma < SIGMA_MIN_TABLE)[..., None]
    return torch.where(small, sigma[..., None] * z, omega[..., None] * axis)
