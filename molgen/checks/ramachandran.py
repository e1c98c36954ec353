r"""Ramachandran regions (favoured / allowed / outlier) derived from real PDB chains.

Data: ``molgen/data/ramachandran_general.npz``, written by ``scripts/build_ramachandran.py``
from the ``train`` split of ``pdb_chains.npz`` (14,131 X-ray chains, about 2.3 million
residues with both :math:`\varphi` and :math:`\psi` defined; all residue types pooled,
Gly and Pro included -- one general-case map, so it also serves sequence-free backbones).

Procedure (:func:`build_ramachandran_density`): histogram :math:`(\varphi, \psi)` on a
periodic grid of ``bin_deg`` = 5 degree bins, smooth it with a periodic Gaussian of
``sigma_deg`` = 10 degrees (a product of wrapped Gaussians, applied by FFT), and normalise to
sum 1. Rank the bins by smoothed density; the favoured region is the set of highest-density
bins that together hold 98% of the train residues, the allowed region the set holding 99.8%
(MolProbity's contour levels). The file stores the density grid and the two density
thresholds; a residue is favoured when the density of its bin is at least the 98% threshold.
On the val split 98.1% of residues fall in the favoured region and 99.8% in the allowed one.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np

__all__ = [
    "RAMACHANDRAN_FILE",
    "DATA_DIR",
    "FAVOURED",
    "ALLOWED",
    "OUTLIER",
    "build_ramachandran_density",
    "load_ramachandran",
    "ramachandran_density",
    "classify_ramachandran",
]

RAMACHANDRAN_FILE = "ramachandran_general.npz"
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
FAVOURED, ALLOWED, OUTLIER = 0, 1, 2


def _bin_index(angle: np.ndarray, n_bins: int) -> np.ndarray:
    """Periodic bin of an angle (radians): bin k covers [-pi + k w, -pi + (k+1) w)."""
    frac = (np.asarray(angle, dtype=np.float64) + math.pi) / (2 * math.pi)
    return np.floor(frac * n_bins).astype(np.int64) % n_bins


def build_ramachandran_density(
    phi: np.ndarray,
    psi: np.ndarray,
    bin_deg: float = 5.0,
    sigma_deg: float = 10.0,
    levels: tuple[float, float] = (0.98, 0.998),
) -> tuple[np.ndarray, np.ndarray]:
    r"""Smoothed periodic :math:`(\varphi, \psi)` density and the thresholds of its regions.

    Parameters
    ----------
    phi, psi : np.ndarray, shape ``(N,)``, radians
        Residue torsions; non-finite entries are ignored.
    bin_deg : float
        Bin width in degrees (must divide 360).
    sigma_deg : float
        Standard deviation of the periodic Gaussian smoothing, degrees.
    levels : tuple of float
        Fractions of residues enclosed by each region (favoured, allowed).

    Returns
    -------
    density : np.ndarray, shape ``(360/bin_deg, 360/bin_deg)``, float32
        Smoothed density (sums to 1); axis 0 is phi, axis 1 psi, from -180 degrees.
    thresholds : np.ndarray, shape ``(len(levels),)``, float32
        Density of the lowest-ranked bin needed to enclose each level of the residues.
    """
    n_bins = int(round(360.0 / bin_deg))
    if not math.isclose(n_bins * bin_deg, 360.0):
        raise ValueError(f"bin_deg must divide 360, got {bin_deg}")
    ok = np.isfinite(phi) & np.isfinite(psi)
    counts = np.zeros((n_bins, n_bins))
    np.add.at(counts, (_bin_index(phi[ok], n_bins), _bin_index(psi[ok], n_bins)), 1.0)
    # Periodic Gaussian smoothing in Fourier space: the transform of a Gaussian of sd s bins
    # at frequency k (cycles per n bins) is exp(-2 pi^2 k^2 s^2 / n^2).
    freq = np.fft.fftfreq(n_bins)
    kernel = np.exp(-2.0 * (math.pi * freq * sigma_deg / bin_deg) ** 2)
    smooth = np.fft.ifft2(np.fft.fft2(counts) * kernel[:, None] * kernel[None, :]).real
    density = np.clip(smooth, 0.0, None)
    density /= density.sum()
    order = np.argsort(-density.ravel(), kind="stable")
    enclosed = np.cumsum(counts.ravel()[order]) / counts.sum()
    ranked = density.ravel()[order]
    idx = np.minimum(np.searchsorted(enclosed, np.asarray(levels)), ranked.size - 1)
    return density.astype(np.float32), ranked[idx].astype(np.float32)


@functools.lru_cache(maxsize=1)
def load_ramachandran() -> tuple[np.ndarray, np.ndarray]:
    """The shipped density grid ``(n, n)`` and thresholds ``(favoured, allowed)`` (cached)."""
    with np.load(DATA_DIR / RAMACHANDRAN_FILE) as data:
        return data["density"], data["thresholds"]


def ramachandran_density(phi: np.ndarray, psi: np.ndarray) -> np.ndarray:
    """Shipped density at ``(phi, psi)`` (radians, any shape, periodic); NaN where undefined."""
    density, _ = load_ramachandran()
    n = density.shape[0]
    phi, psi = np.asarray(phi, dtype=np.float64), np.asarray(psi, dtype=np.float64)
    ok = np.isfinite(phi) & np.isfinite(psi)
    value = density[_bin_index(np.where(ok, phi, 0.0), n), _bin_index(np.where(ok, psi, 0.0), n)]
    return np.where(ok, value, np.nan)


def classify_ramachandran(phi: np.ndarray, psi: np.ndarray) -> np.ndarray:
    """Region of each residue: FAVOURED (0), ALLOWED (1), OUTLIER (2), or -1 if undefined.

    Parameters
    ----------
    phi, psi : np.ndarray, same shape, radians

    Returns
    -------
    np.ndarray of int64, same shape
    """
    _, (favoured, allowed) = load_ramachandran()
    dens = ramachandran_density(phi, psi)
    region = np.where(dens >= favoured, FAVOURED, np.where(dens >= allowed, ALLOWED, OUTLIER))
    return np.where(np.isfinite(dens), region, -1)
