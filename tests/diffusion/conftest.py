"""Helpers for the noise-process tests: reference CDFs built by independent quadrature."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate

from molgen.diffusion import SO3Diffuser


def _igso3_angle_cdf(sigma: float):
    """CDF of the IGSO(3) angle: ``angle_density`` integrated by scipy's cumulative Simpson rule.

    The grid covers [0, min(pi, 15 sigma)] with 20,001 points (mass beyond 15 sigma < e^-100).
    """
    hi = min(math.pi, 15.0 * sigma)
    w = np.linspace(0.0, hi, 20001)
    p = SO3Diffuser.angle_density(torch.tensor(w, dtype=torch.float64), sigma).numpy()
    c = integrate.cumulative_simpson(p, x=w, initial=0.0)
    return lambda x: np.interp(x, w, c / c[-1])


@pytest.fixture(scope="session")
def igso3_angle_cdf():
    """Factory ``sigma -> CDF`` of the IGSO(3) angle, for KS tests."""
    return _igso3_angle_cdf
