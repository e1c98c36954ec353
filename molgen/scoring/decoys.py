r"""Decoy backbones for benchmarking structure scores (Angstrom, radians).

Each function takes a real backbone ``(L, 4, 3)`` (N, CA, C, O) and returns a new array of the
same shape; inputs are never modified.

- :func:`noise_decoy`: every atom displaced by isotropic Gaussian noise with RMS displacement
  ``rms`` per atom, i.e. standard deviation :math:`\mathrm{rms}/\sqrt3` per coordinate.
- :func:`swap_decoy`: two non-overlapping stretches of equal length ``m`` (10-20 residues)
  exchange places: each stretch's coordinates are moved rigidly (translated, not rotated) so
  that its CA centroid lands on the CA centroid of the stretch it replaces.
- :func:`ideal_helix`: an ideal straight alpha helix of the same length, built residue by
  residue with NeRF (:func:`molgen.geometry.place_atom`) from :math:`\phi = -57^\circ`,
  :math:`\psi = -47^\circ`, :math:`\omega = 180^\circ` and Engh-Huber bond geometry.
- :func:`mirror_decoy`: the mirror image :math:`x \to -x`.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from molgen.geometry.frames import (
    IDEAL_ANGLE_N_CA_C,
    IDEAL_BOND_CA_C,
    IDEAL_BOND_N_CA,
    ideal_local_backbone,
    oxygen_from_psi,
    place_atom,
)

__all__ = ["HELIX_PHI", "HELIX_PSI", "ideal_helix", "mirror_decoy", "noise_decoy", "swap_decoy"]

HELIX_PHI = math.radians(-57.0)
HELIX_PSI = math.radians(-47.0)
_BOND_C_N = 1.329  # Engh & Huber (1991) peptide bond, Angstrom
_ANGLE_CA_C_N = math.radians(116.2)
_ANGLE_C_N_CA = math.radians(121.7)


def noise_decoy(atoms: np.ndarray, rms: float, rng: np.random.Generator) -> np.ndarray:
    """Atoms plus Gaussian noise of RMS displacement ``rms`` Angstrom per atom."""
    return atoms + rng.normal(scale=rms / math.sqrt(3.0), size=atoms.shape)


def swap_decoy(atoms: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Exchange two random non-overlapping stretches of 10-20 residues (needs L >= 20)."""
    n = len(atoms)
    if n < 20:
        raise ValueError(f"a segment swap needs at least 20 residues, got {n}")
    m = int(rng.integers(10, min(20, n // 2) + 1))
    a = int(rng.integers(0, n - 2 * m + 1))
    b = int(rng.integers(a + m, n - m + 1))
    out = atoms.copy()
    first, second = atoms[a : a + m], atoms[b : b + m]
    shift = first[:, 1].mean(0) - second[:, 1].mean(0)  # CA centroid A - centroid B
    out[a : a + m] = second + shift
    out[b : b + m] = first - shift
    return out


def ideal_helix(length: int) -> np.ndarray:
    """Ideal alpha helix ``(length, 4, 3)`` (float64, Angstrom, CA-centred)."""
    phi, psi, omega = (
        torch.tensor(v, dtype=torch.float64) for v in (HELIX_PHI, HELIX_PSI, math.pi)
    )
    n, ca, c = ideal_local_backbone(torch.float64)
    residues = [(n, ca, c)]
    for _ in range(length - 1):  # NeRF is sequential: each atom hangs on the previous three
        n_prev, ca_prev, c_prev = residues[-1]
        n = place_atom(n_prev, ca_prev, c_prev, _BOND_C_N, _ANGLE_CA_C_N, psi)
        ca = place_atom(ca_prev, c_prev, n, IDEAL_BOND_N_CA, _ANGLE_C_N_CA, omega)
        c = place_atom(c_prev, n, ca, IDEAL_BOND_CA_C, IDEAL_ANGLE_N_CA_C, phi)
        residues.append((n, ca, c))
    backbone = torch.stack([torch.stack(r) for r in residues])  # [L, 3, 3]
    o = oxygen_from_psi(backbone[:, 0], backbone[:, 1], backbone[:, 2], psi.expand(length))
    atoms = torch.cat([backbone, o[:, None]], 1).numpy()
    return atoms - atoms[:, 1].mean(0)


def mirror_decoy(atoms: np.ndarray) -> np.ndarray:
    """The mirror image (x -> -x) of the backbone."""
    return atoms * np.array([-1.0, 1.0, 1.0])
