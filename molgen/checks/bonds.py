r"""Covalent backbone geometry: bond lengths, bond angles and consecutive CA-CA distances.

Every bond length and angle of the backbone is compared with the Engh & Huber (2001) targets
as a z-score :math:`z = (x - \mu) / \sigma`. Per residue i (``atoms[i] = N, CA, C, O``):

- lengths (Angstrom): N-CA(i), CA-C(i), C=O(i), C(i)-N(i+1) (the peptide bond);
- angles (radians): N-CA-C(i), CA-C(i)-N(i+1), C(i)-N(i+1)-CA(i+1), CA-C-O(i),
  O(i)-C(i)-N(i+1).

Terms spanning residues i and i+1 exist only when both residues are present (mask), so a
declared gap (a masked residue) is never measured as a stretched peptide bond. A present pair
that is far apart is measured, and is an outlier (a real chain break).

Targets: R. A. Engh & R. Huber (2001), "Structure quality and target parameters",
International Tables for Crystallography Vol. F, ch. 18.3, Table 18.3.2.2 -- the values for
residues other than Gly and Pro (the same numbers MolProbity uses for its general case).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "BOND_LENGTH_NAMES",
    "BOND_ANGLE_NAMES",
    "ENGH_HUBER_LENGTHS",
    "ENGH_HUBER_ANGLES",
    "IDEAL_CA_CA",
    "bond_lengths",
    "bond_angles",
    "bond_z_scores",
    "consecutive_ca_distances",
]

BOND_LENGTH_NAMES = ("N-CA", "CA-C", "C=O", "C-N")
BOND_ANGLE_NAMES = ("N-CA-C", "CA-C-N", "C-N-CA", "CA-C-O", "O-C-N")

#: Engh & Huber (2001) bond lengths, (mean, sigma) in Angstrom, order of BOND_LENGTH_NAMES.
ENGH_HUBER_LENGTHS = np.array(
    [[1.459, 0.020], [1.525, 0.026], [1.229, 0.019], [1.336, 0.023]], dtype=np.float64
)
#: Engh & Huber (2001) bond angles, (mean, sigma) in radians (listed in degrees),
#: order of BOND_ANGLE_NAMES.
ENGH_HUBER_ANGLES = np.radians(
    np.array([[111.0, 2.7], [117.2, 2.2], [121.7, 2.5], [120.1, 2.1], [122.7, 1.6]])
)
#: CA(i)-CA(i+1) distance of a trans peptide with ideal geometry, Angstrom.
IDEAL_CA_CA = 3.80


def _pair_mask(atom_mask: np.ndarray) -> np.ndarray:
    """``[L-1]`` bool: residues i and i+1 both fully present."""
    full = atom_mask.all(-1)
    return full[:-1] & full[1:]


def _norm(v: np.ndarray) -> np.ndarray:
    return np.sqrt((v * v).sum(-1))


def _angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Angle a-b-c in radians for points ``(..., 3)``."""
    u, v = a - b, c - b
    with np.errstate(invalid="ignore", divide="ignore"):  # zero vectors: masked out by callers
        cos = (u * v).sum(-1) / (_norm(u) * _norm(v))
    return np.arccos(np.clip(cos, -1.0, 1.0))


def _shift(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Append NaN so an ``[L-1]`` inter-residue term becomes ``[L]``; NaN where not valid."""
    x = np.where(valid, x, np.nan)
    return np.concatenate([x, np.full(1, np.nan)])


def bond_lengths(atoms: np.ndarray, atom_mask: np.ndarray) -> np.ndarray:
    """Backbone bond lengths per residue.

    Parameters
    ----------
    atoms : np.ndarray, shape ``(L, 4, 3)``, Angstrom (N, CA, C, O)
    atom_mask : np.ndarray, shape ``(L, 4)``, bool

    Returns
    -------
    np.ndarray, shape ``(L, 4)``, Angstrom
        Columns N-CA, CA-C, C=O, C(i)-N(i+1); NaN where an atom is missing (and for the last
        residue's peptide bond).
    """
    n, ca, c, o = (atoms[:, k] for k in range(4))
    own = np.stack([_norm(ca - n), _norm(c - ca), _norm(o - c)], -1)
    own = np.where(atom_mask[:, [0, 1, 2]] & atom_mask[:, [1, 2, 3]], own, np.nan)
    peptide = _shift(_norm(n[1:] - c[:-1]), _pair_mask(atom_mask))
    return np.concatenate([own, peptide[:, None]], -1)


def bond_angles(atoms: np.ndarray, atom_mask: np.ndarray) -> np.ndarray:
    """Backbone bond angles per residue, radians.

    Parameters
    ----------
    atoms : np.ndarray, shape ``(L, 4, 3)``, Angstrom (N, CA, C, O)
    atom_mask : np.ndarray, shape ``(L, 4)``, bool

    Returns
    -------
    np.ndarray, shape ``(L, 5)``, radians
        Columns N-CA-C, CA-C-N(+1), C-N(+1)-CA(+1), CA-C-O, O-C-N(+1); NaN where undefined.
    """
    n, ca, c, o = (atoms[:, k] for k in range(4))
    pair = _pair_mask(atom_mask)
    n_ca_c = np.where(atom_mask[:, :3].all(-1), _angle(n, ca, c), np.nan)
    ca_c_o = np.where(atom_mask[:, 1:].all(-1), _angle(ca, c, o), np.nan)
    ca_c_n = _shift(_angle(ca[:-1], c[:-1], n[1:]), pair)
    c_n_ca = _shift(_angle(c[:-1], n[1:], ca[1:]), pair)
    o_c_n = _shift(_angle(o[:-1], c[:-1], n[1:]), pair)
    return np.stack([n_ca_c, ca_c_n, c_n_ca, ca_c_o, o_c_n], -1)


def bond_z_scores(atoms: np.ndarray, atom_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Engh & Huber z-scores :math:`(x - \mu)/\sigma` of all backbone lengths and angles.

    Parameters
    ----------
    atoms : np.ndarray, shape ``(L, 4, 3)``, Angstrom
    atom_mask : np.ndarray, shape ``(L, 4)``, bool

    Returns
    -------
    length_z : np.ndarray, shape ``(L, 4)``
    angle_z : np.ndarray, shape ``(L, 5)``
        NaN where the term is undefined (missing atoms, chain end, masked neighbour).
    """
    lz = (bond_lengths(atoms, atom_mask) - ENGH_HUBER_LENGTHS[:, 0]) / ENGH_HUBER_LENGTHS[:, 1]
    az = (bond_angles(atoms, atom_mask) - ENGH_HUBER_ANGLES[:, 0]) / ENGH_HUBER_ANGLES[:, 1]
    return lz, az


def consecutive_ca_distances(ca: np.ndarray, present: np.ndarray) -> np.ndarray:
    """CA(i)-CA(i+1) distances (Angstrom), ``[L-1]``, NaN unless both residues are present.

    The ideal trans-peptide value is :data:`IDEAL_CA_CA` = 3.80 A (cis: about 2.9 A).
    """
    d = _norm(ca[1:] - ca[:-1])
    return np.where(present[1:] & present[:-1], d, np.nan)
