r"""Non-local steric clashes of backbone atoms (Angstrom).

Two checks, both between residues at least ``min_separation`` = 3 apart in the chain (so
covalently bonded and angle-coupled atoms of neighbours are never compared):

- CA-CA contact: :math:`\|CA_i - CA_j\| < 3.0` A. Real chains never do this (the closest
  non-local CA pairs in the PDB are about 3.5 A apart).
- heavy-atom overlap: with Bondi (1964) van der Waals radii :math:`r` (N 1.55, C 1.70,
  O 1.52 A), atoms a, b clash when :math:`r_a + r_b - d_{ab} \ge 0.4` A (MolProbity's
  clash cut-off). Backbone N-H...O=C hydrogen bonds put N and O about 2.9 A apart (overlap
  0.17 A), and the shortest real ones reach 2.3 A (overlap 0.8 A on val chains), so N-O pairs
  get an extra :data:`HBOND_ALLOWANCE` of 0.6 A: they clash only below 2.07 A.

A third measure, C-beta crowding (:func:`cb_crowding`), is reported by the evaluation, not
checked: a residue is crowded when its virtual C-beta (:func:`virtual_cb`) lies within
:data:`CB_CROWDING_DISTANCE` = 3.0 A of the N, CA, C, O or virtual C-beta of a residue at
least 3 apart. Only glycine fits there; 1.5% of the residues of 48 val chains are crowded,
most of them glycines at positive phi.

Written by hand (no library in the stack finds backbone-only clashes on bare arrays) as a
two-stage search: residue pairs are first kept when their bounding spheres (centre = mean of
the residue's atoms, radius = farthest atom) come within the largest clash distance, computed
in blocks of rows so memory stays ``O(block * L)``; only those pairs get the 4 x 4 atom
distance test. Both stages are vectorised; the result is exact, not approximate.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "CA_CLASH_DISTANCE",
    "CB_CROWDING_DISTANCE",
    "CLASH_OVERLAP",
    "HBOND_ALLOWANCE",
    "MIN_SEPARATION",
    "VDW_RADII",
    "close_residue_pairs",
    "ca_clashes",
    "cb_crowding",
    "cb_crowding_distance",
    "clash_limits",
    "heavy_atom_clashes",
    "virtual_cb",
]

CA_CLASH_DISTANCE = 3.0
CB_CROWDING_DISTANCE = 3.0
CLASH_OVERLAP = 0.4
HBOND_ALLOWANCE = 0.6
MIN_SEPARATION = 3
#: Bondi van der Waals radii of N, CA, C, O (Angstrom).
VDW_RADII = np.array([1.55, 1.70, 1.70, 1.52])
_BLOCK = 512


def close_residue_pairs(
    centres: np.ndarray, radii: np.ndarray, cutoff: float, min_separation: int
) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``i < j``, ``j - i >= min_separation``, with distance < radii sum + cutoff.

    Parameters
    ----------
    centres : np.ndarray, shape ``(L, 3)``, Angstrom (rows of NaN are never paired)
    radii : np.ndarray, shape ``(L,)``, Angstrom
    cutoff : float, Angstrom
    min_separation : int

    Returns
    -------
    i, j : np.ndarray of int64, shape ``(P,)``
    """
    n = centres.shape[0]
    rows, cols = [], []
    for start in range(0, n, _BLOCK):
        block = centres[start : start + _BLOCK]
        diff = block[:, None, :] - centres[None, :, :]
        dist = np.sqrt((diff * diff).sum(-1))  # [B, L]
        i = np.arange(start, start + block.shape[0])[:, None]
        keep = (np.arange(n)[None, :] - i >= min_separation) & (
            dist < radii[start : start + _BLOCK, None] + radii[None, :] + cutoff
        )
        r, c = np.nonzero(keep)
        rows.append(r + start)
        cols.append(c)
    return np.concatenate(rows), np.concatenate(cols)


def _bounding_spheres(points: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre ``(L, 3)`` (mean of the present points; NaN for a residue without any) and
    radius ``(L,)`` (farthest present point) of each residue's points ``(L, A, 3)``."""
    count = present.sum(-1)
    centres = np.where(present[..., None], points, 0.0).sum(1) / np.maximum(count, 1)[:, None]
    centres[count == 0] = np.nan
    spread = np.sqrt(((points - centres[:, None]) ** 2).sum(-1))
    return centres, np.where(present, spread, 0.0).max(-1)


def ca_clashes(
    ca: np.ndarray,
    present: np.ndarray,
    cutoff: float = CA_CLASH_DISTANCE,
    min_separation: int = MIN_SEPARATION,
) -> np.ndarray:
    """Residues in a non-local CA-CA contact closer than ``cutoff``.

    Parameters
    ----------
    ca : np.ndarray, shape ``(L, 3)``, Angstrom
    present : np.ndarray, shape ``(L,)``, bool
    cutoff : float, Angstrom
    min_separation : int
        Smallest index gap |i - j| compared (index in the array, masked residues included).

    Returns
    -------
    np.ndarray, shape ``(L,)``, bool
    """
    centres = np.where(present[:, None], ca, np.nan)
    i, j = close_residue_pairs(centres, np.zeros(len(ca)), cutoff, min_separation)
    out = np.zeros(len(ca), dtype=bool)
    out[i] = out[j] = True
    return out


def clash_limits(
    overlap: float = CLASH_OVERLAP, hbond_allowance: float = HBOND_ALLOWANCE
) -> np.ndarray:
    """Largest clashing distance ``[4, 4]`` (Angstrom) between N, CA, C, O atoms.

    :math:`r_a + r_b` - ``overlap`` with Bondi radii, ``hbond_allowance`` less for N-O pairs.
    """
    limit = VDW_RADII[:, None] + VDW_RADII[None, :] - overlap
    limit[0, 3] -= hbond_allowance
    limit[3, 0] -= hbond_allowance
    return limit


def heavy_atom_clashes(
    atoms: np.ndarray,
    atom_mask: np.ndarray,
    overlap: float = CLASH_OVERLAP,
    hbond_allowance: float = HBOND_ALLOWANCE,
    min_separation: int = MIN_SEPARATION,
) -> np.ndarray:
    r"""Residues with a backbone heavy atom overlapping a non-local one by >= ``overlap``.

    Parameters
    ----------
    atoms : np.ndarray, shape ``(L, 4, 3)``, Angstrom (N, CA, C, O)
    atom_mask : np.ndarray, shape ``(L, 4)``, bool
    overlap : float, Angstrom
        Clash when :math:`r_a + r_b - d \ge` overlap.
    hbond_allowance : float, Angstrom
        Extra overlap tolerated for N-O pairs (backbone hydrogen bonds).
    min_separation : int
        Smallest residue index gap compared.

    Returns
    -------
    np.ndarray, shape ``(L,)``, bool
        True for residues with at least one clashing atom.
    """
    limit = clash_limits(overlap, hbond_allowance)  # clash if d <= limit
    atoms = np.where(atom_mask[..., None], atoms, 0.0)
    centres, radii = _bounding_spheres(atoms, atom_mask)
    i, j = close_residue_pairs(centres, radii, float(limit.max()) + 1e-6, min_separation)
    diff = atoms[i][:, :, None, :] - atoms[j][:, None, :, :]  # [P, 4, 4, 3]
    dist = np.sqrt((diff * diff).sum(-1))
    valid = atom_mask[i][:, :, None] & atom_mask[j][:, None, :]
    hit = ((dist <= limit) & valid).any((1, 2))
    out = np.zeros(len(atoms), dtype=bool)
    out[i[hit]] = out[j[hit]] = True
    return out


def virtual_cb(atoms: np.ndarray) -> np.ndarray:
    r"""Virtual C-beta ``(..., 3)`` of backbones ``(..., 4, 3)`` (Angstrom) at ideal tetrahedral
    geometry: :math:`C_\beta = C_\alpha - 0.58273 (b \times c) + 0.56803\,b - 0.54067\,c`
    with :math:`b = C_\alpha - N`, :math:`c = C - C_\alpha` (ProteinMPNN's construction)."""
    n, ca, c = atoms[..., 0, :], atoms[..., 1, :], atoms[..., 2, :]
    b, c = ca - n, c - ca
    return ca - 0.58273431 * np.cross(b, c) + 0.56802827 * b - 0.54067466 * c


def cb_crowding_distance(
    atoms: np.ndarray,
    atom_mask: np.ndarray,
    reach: float = 2 * CB_CROWDING_DISTANCE,
    min_separation: int = MIN_SEPARATION,
) -> np.ndarray:
    """Per residue, the distance (Angstrom) from its virtual C-beta to the nearest N, CA, C, O
    or virtual C-beta of a residue ``min_separation`` or more apart; ``inf`` when none is
    closer than ``reach`` or the residue lacks N, CA or C.

    Parameters
    ----------
    atoms : np.ndarray, shape ``(L, 4, 3)``, Angstrom (N, CA, C, O)
    atom_mask : np.ndarray, shape ``(L, 4)``, bool
        A residue lacking N, CA or C has no C-beta; its present atoms still count as partners.
    reach : float, Angstrom
    min_separation : int
        Smallest residue index gap compared.

    Returns
    -------
    np.ndarray, shape ``(L,)``, float
    """
    atoms = np.where(atom_mask[..., None], atoms, np.nan)
    cb = virtual_cb(atoms)  # [L, 3], NaN without N, CA or C
    points = np.concatenate([atoms, cb[:, None]], axis=1)  # [L, 5, 3]
    present = np.isfinite(points).all(-1)  # [L, 5]
    centres, radii = _bounding_spheres(np.where(present[..., None], points, 0.0), present)
    i, j = close_residue_pairs(centres, radii, reach, min_separation)
    out = np.full(len(atoms), np.inf)
    for a, b in ((i, j), (j, i)):  # a's C-beta against b's five points
        dist = np.linalg.norm(cb[a][:, None, :] - points[b], axis=-1)  # [P, 5], NaN if absent
        nearest = np.nan_to_num(dist, nan=np.inf).min(-1)
        np.minimum.at(out, a, nearest)
    out[out >= reach] = np.inf
    return out


def cb_crowding(
    atoms: np.ndarray,
    atom_mask: np.ndarray,
    cutoff: float = CB_CROWDING_DISTANCE,
    min_separation: int = MIN_SEPARATION,
) -> np.ndarray:
    """Residues whose virtual C-beta is closer than ``cutoff`` (Angstrom) to a non-local
    backbone atom or virtual C-beta (module docstring; :func:`cb_crowding_distance`): bool
    ``(L,)`` for ``atoms (L, 4, 3)`` and ``atom_mask (L, 4)``."""
    return cb_crowding_distance(atoms, atom_mask, cutoff, min_separation) < cutoff
