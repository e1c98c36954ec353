r"""Invariant whole-chain features of a protein backbone, the input of the plausibility classifier.

Every feature is a rotation-, translation- and length-normalised statistic of one chain
(N, CA, C, O in Angstrom; residues lacking N, CA or C are left out of every term that needs
them). The groups, in :data:`FEATURE_NAMES` order:

- **Ramachandran**: fractions of residues in the favoured and outlier regions of the shipped
  density (:func:`molgen.checks.ramachandran.classify_ramachandran`), with positive
  :math:`\varphi`, and a 4 x 4 histogram of :math:`(\varphi, \psi)` (bins of 90 degrees from
  -180); the favoured fraction of loop residues alone.
- **Secondary structure** (DSSP, three states): fractions H, E, C; helix and strand elements
  (runs of at least 4 H / 2 E) per 100 residues; mean helix length / 20; mean loop length / 10;
  longest loop / L.
- **Covalent geometry**: mean :math:`|z|` and the fraction with :math:`|z| > 4` of the
  Engh & Huber bond lengths and angles (:func:`molgen.checks.bonds.bond_z_scores`); the
  fraction of cis peptides (:math:`|\omega| < 30^\circ`).
- **CA trace**: histograms of the virtual bond angle
  :math:`\theta_i = \angle(CA_{i-1}, CA_i, CA_{i+1})` (5 bins of 20 degrees from 70, ends
  open) and the virtual torsion :math:`\tau_i` over four consecutive CA (6 bins of 60 degrees).
- **Packing**: :math:`R_g / (2.2 L^{0.38})` (the ratio the checks use); CA neighbours at
  least 3 residues away within 8 A (/ 10) and 12 A (/ 20) per residue; the fraction of
  residues with fewer than 2 such neighbours within 8 A; the relative contact order
  :math:`\langle |i-j| \rangle / L` over 8 A contacts; contacts at :math:`|i-j| \ge 24` per
  residue; the closest non-local CA-CA distance / 4 A.

Written here because the classifier needs one fixed vector per chain; the pieces (DSSP,
Ramachandran density, bond statistics) come from mdtraj and molgen's checks.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.spatial import cKDTree

from molgen.checks.backbone import radius_of_gyration
from molgen.checks.bonds import bond_z_scores
from molgen.checks.ramachandran import FAVOURED, OUTLIER, classify_ramachandran
from molgen.checks.secondary import HELIX_MIN_LENGTH, STRAND_MIN_LENGTH, dssp_states, ss_elements
from molgen.geometry.dihedrals import backbone_dihedrals

__all__ = ["FEATURE_NAMES", "chain_features"]

_RAMA_BINS = [f"rama_{i}{j}" for i in range(4) for j in range(4)]
_THETA_EDGES = np.radians([90.0, 110.0, 130.0, 150.0])  # 5 bins, ends open
_TAU_BINS = 6
FEATURE_NAMES: tuple[str, ...] = (
    "rama_favoured", "rama_outlier", "positive_phi", *_RAMA_BINS, "loop_rama_favoured",
    "helix", "strand", "coil", "helix_elements", "strand_elements", "helix_length",
    "loop_length", "longest_loop",
    "length_z", "length_outliers", "angle_z", "angle_outliers", "cis_peptides",
    *[f"ca_angle_{k}" for k in range(len(_THETA_EDGES) + 1)],
    *[f"ca_torsion_{k}" for k in range(_TAU_BINS)],
    "rg_ratio", "contacts_8", "contacts_12", "exposed", "contact_order", "long_range",
    "closest_nonlocal",
)  # fmt: skip
MIN_SEPARATION = 3
LONG_RANGE = 24


def _mean(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else 0.0


def _runs(states: np.ndarray, letter: str, min_length: int) -> list[int]:
    """Lengths of the elements of ``letter`` (:func:`molgen.checks.secondary.ss_elements`)."""
    return [b - a for a, b in ss_elements(states, letter, min_length)]


def _ramachandran(phi: np.ndarray, psi: np.ndarray, loop: np.ndarray) -> list[float]:
    region = classify_ramachandran(phi, psi)
    defined = region >= 0
    n = max(int(defined.sum()), 1)
    hist = np.zeros((4, 4))
    if defined.any():
        i = np.clip(((phi[defined] + math.pi) // (math.pi / 2)).astype(int), 0, 3)
        j = np.clip(((psi[defined] + math.pi) // (math.pi / 2)).astype(int), 0, 3)
        np.add.at(hist, (i, j), 1.0)
    loop_defined = defined & loop
    loop_fav = float((region[loop_defined] == FAVOURED).mean()) if loop_defined.any() else 1.0
    return [
        float((region == FAVOURED).sum() / n),
        float((region == OUTLIER).sum() / n),
        float((defined & (phi > 0)).sum() / n),
        *(hist.ravel() / n).tolist(),
        loop_fav,
    ]


def _secondary(states: np.ndarray) -> list[float]:
    assigned = states[states != "-"]
    n = max(len(assigned), 1)
    helices = _runs(states, "H", HELIX_MIN_LENGTH)
    strands = _runs(states, "E", STRAND_MIN_LENGTH)
    loops = _runs(states, "C", 1)
    return [
        float((assigned == "H").sum() / n),
        float((assigned == "E").sum() / n),
        float((assigned == "C").sum() / n),
        100.0 * len(helices) / n,
        100.0 * len(strands) / n,
        (float(np.mean(helices)) if helices else 0.0) / 20.0,
        (float(np.mean(loops)) if loops else 0.0) / 10.0,
        (max(loops) if loops else 0) / n,
    ]


def _covalent(atoms: np.ndarray, atom_mask: np.ndarray, omega: np.ndarray) -> list[float]:
    length_z, angle_z = (np.abs(z) for z in bond_z_scores(atoms, atom_mask))
    defined_omega = omega[np.isfinite(omega)]
    cis = float((np.abs(defined_omega) < math.radians(30.0)).mean()) if defined_omega.size else 0.0
    return [
        _mean(length_z), _mean((length_z > 4).astype(float)[np.isfinite(length_z)]),
        _mean(angle_z), _mean((angle_z > 4).astype(float)[np.isfinite(angle_z)]), cis,
    ]  # fmt: skip


def _ca_trace(ca: np.ndarray) -> list[float]:
    theta_hist = np.zeros(len(_THETA_EDGES) + 1)
    tau_hist = np.zeros(_TAU_BINS)
    if len(ca) >= 3:
        a, b = ca[:-2] - ca[1:-1], ca[2:] - ca[1:-1]
        cos = (a * b).sum(-1) / np.maximum(
            np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-9
        )
        theta = np.arccos(np.clip(cos, -1.0, 1.0))
        np.add.at(theta_hist, np.searchsorted(_THETA_EDGES, theta), 1.0)
        theta_hist /= len(theta)
    if len(ca) >= 4:
        b0, b1, b2 = ca[1:-2] - ca[:-3], ca[2:-1] - ca[1:-2], ca[3:] - ca[2:-1]
        n1, n2 = np.cross(b0, b1), np.cross(b1, b2)
        m1 = np.cross(n1, b1 / np.maximum(np.linalg.norm(b1, axis=-1, keepdims=True), 1e-9))
        tau = np.arctan2((m1 * n2).sum(-1), (n1 * n2).sum(-1))
        bins = np.clip(((tau + math.pi) // (2 * math.pi / _TAU_BINS)).astype(int), 0, _TAU_BINS - 1)
        np.add.at(tau_hist, bins, 1.0)
        tau_hist /= len(tau)
    return [*theta_hist.tolist(), *tau_hist.tolist()]


def _packing(ca: np.ndarray, index: np.ndarray) -> list[float]:
    """Packing terms of CA positions ``ca [n, 3]`` (n >= 2) with residue numbers ``index``.

    Only CA pairs within 12 A are formed (a k-d tree), so time and memory grow with the
    number of contacts, not with n^2; the closest non-local CA-CA is capped at 8 A anyway.
    """
    n = len(ca)
    i, j = cKDTree(ca).query_pairs(12.0, output_type="ndarray").T.reshape(2, -1)  # i < j
    dist = np.linalg.norm(ca[i] - ca[j], axis=-1)
    sep = np.abs(index[i] - index[j])
    keep = sep >= MIN_SEPARATION
    i, j, dist, sep = i[keep], j[keep], dist[keep], sep[keep]

    def per_residue(flags: np.ndarray) -> np.ndarray:
        return np.bincount(i[flags], minlength=n) + np.bincount(j[flags], minlength=n)

    near8 = dist < 8.0
    per8 = per_residue(near8)
    order = float(sep[near8].mean() / n) if near8.any() else 0.0
    closest = float(dist.min()) if dist.size else 8.0
    return [
        radius_of_gyration(ca) / (2.2 * n**0.38),
        float(per8.mean()) / 10.0,
        float(per_residue(dist < 12.0).mean()) / 20.0,
        float((per8 < 2).mean()),
        order,
        float(per_residue(near8 & (sep >= LONG_RANGE)).mean()),
        min(closest, 8.0) / 4.0,
    ]


def chain_features(atoms: np.ndarray) -> np.ndarray:
    """The :data:`FEATURE_NAMES` vector (float64) of one backbone ``(L, 4, 3)`` (Angstrom).

    Residues without finite N, CA and C are dropped (their neighbours keep their original
    residue numbers, so a gap is not read as a contact); a missing O only removes the
    terms that need it (DSSP treats that residue as a break).
    """
    atoms = np.asarray(atoms, dtype=np.float64)
    atom_mask = np.isfinite(atoms).all(-1)
    present = atom_mask[:, :3].all(-1)
    index = np.flatnonzero(present)
    if index.size < 2:
        raise ValueError("a chain needs at least 2 residues with N, CA and C for its features")
    clean = np.where(atom_mask[..., None], atoms, 0.0)
    phi, psi, omega = (
        v.numpy() for v in backbone_dihedrals(torch.from_numpy(clean), torch.from_numpy(present))
    )
    states = dssp_states(clean, atom_mask)
    loop = states == "C"
    ca = atoms[index, 1]
    values = [
        *_ramachandran(phi, psi, loop),
        *_secondary(states),
        *_covalent(clean, atom_mask, omega),
        *_ca_trace(ca),
        *_packing(ca, index),
    ]
    return np.asarray(values, dtype=np.float64)
