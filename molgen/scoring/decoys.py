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
- :func:`torsion_noise_decoy`: the chain rebuilt from its own :math:`\varphi, \psi` plus
  Gaussian noise, with ideal bonds (:func:`chain_from_torsions`).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from molgen.geometry.dihedrals import backbone_dihedrals
from molgen.geometry.frames import (
    IDEAL_ANGLE_N_CA_C,
    IDEAL_BOND_CA_C,
    IDEAL_BOND_N_CA,
    ideal_local_backbone,
    oxygen_from_psi,
    place_atom,
)

__all__ = [
    "HELIX_PHI",
    "HELIX_PSI",
    "chain_from_torsions",
    "ideal_helix",
    "mirror_decoy",
    "noise_decoy",
    "swap_decoy",
    "torsion_noise_decoy",
]

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


def chain_from_torsions(phi: np.ndarray, psi: np.ndarray, omega: np.ndarray) -> np.ndarray:
    """Backbone ``(L, 4, 3)`` (float64, Angstrom, CA-centred) with ideal Engh-Huber bonds and
    the given torsions (radians, ``(L,)`` each; ``phi[0]``, ``psi[-1]`` and ``omega[-1]`` are
    not used, except ``psi[-1]`` for the last O), built residue by residue with NeRF."""
    phi, psi, omega = (
        torch.as_tensor(np.asarray(v), dtype=torch.float64) for v in (phi, psi, omega)
    )
    n, ca, c = ideal_local_backbone(torch.float64)
    residues = [(n, ca, c)]
    for i in range(1, len(phi)):  # NeRF is sequential: each atom hangs on the previous three
        n_prev, ca_prev, c_prev = residues[-1]
        n = place_atom(n_prev, ca_prev, c_prev, _BOND_C_N, _ANGLE_CA_C_N, psi[i - 1])
        ca = place_atom(ca_prev, c_prev, n, IDEAL_BOND_N_CA, _ANGLE_C_N_CA, omega[i - 1])
        c = place_atom(c_prev, n, ca, IDEAL_BOND_CA_C, IDEAL_ANGLE_N_CA_C, phi[i])
        residues.append((n, ca, c))
    backbone = torch.stack([torch.stack(r) for r in residues])  # [L, 3, 3]
    o = oxygen_from_psi(backbone[:, 0], backbone[:, 1], backbone[:, 2], psi)
    atoms = torch.cat([backbone, o[:, None]], 1).numpy()
    return atoms - atoms[:, 1].mean(0)


def ideal_helix(length: int) -> np.ndarray:
    """Ideal alpha helix ``(length, 4, 3)`` (float64, Angstrom, CA-centred)."""
    return chain_from_torsions(
        np.full(length, HELIX_PHI), np.full(length, HELIX_PSI), np.full(length, math.pi)
    )


def torsion_noise_decoy(atoms: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """The chain rebuilt with ideal bonds from its own phi, psi (each plus Gaussian noise of
    standard deviation ``sigma`` radians) and omega: clean covalent geometry, a wrong fold.
    Needs all N, CA, C present; undefined end torsions are taken as -60 / 140 degrees."""
    phi, psi, omega = (v.numpy() for v in backbone_dihedrals(torch.from_numpy(atoms[:, :3])))
    phi = np.nan_to_num(phi, nan=math.radians(-60.0)) + rng.normal(scale=sigma, size=len(phi))
    psi = np.nan_to_num(psi, nan=math.radians(140.0)) + rng.normal(scale=sigma, size=len(psi))
    return chain_from_torsions(phi, psi, np.nan_to_num(omega, nan=math.pi))


def mirror_decoy(atoms: np.ndarray) -> np.ndarray:
    """The mirror image (x -> -x) of the backbone."""
    return atoms * np.array([-1.0, 1.0, 1.0])
