r"""Distance-geometry and flatness checks of one molecular conformer (PoseBusters "mol" style).

Bounds come from RDKit's distance-geometry bounds matrix (the same matrix ETKDG embeds
against). Heavy-atom pairs fall into three disjoint classes and each class is tested
against its bounds :math:`[l_{ij}, u_{ij}]` with a relative tolerance :math:`\tau`:

* bonds (1-2 pairs) fail when :math:`(d - l)/l < -\tau` or :math:`(d - u)/u > \tau`,
  :math:`\tau = 0.25`;
* angles (1-3 pairs: two atoms sharing a bonded neighbour, not bonded themselves) fail on
  the same two-sided test, :math:`\tau = 0.25`;
* all other pairs clash when :math:`(d - l)/l < -\tau`, :math:`\tau = 0.3`, i.e.
  :math:`d < 0.7\,l`.

Pairs involving a hydrogen are ignored, as in PoseBusters. Flat systems (aromatic 5- and
6-membered rings of sp2 atoms; C=C double bonds of two trigonal carbons together with their
four substituents) fail when an atom lies more than 0.25 A from the least-squares plane of
its system. All lengths are in Angstrom.

One deliberate difference from PoseBusters: a C=C with a carbon in two or more rings of
RDKit's ring perception (symmetrised SSSR) is not a flat system here. Ring strain
pyramidalises such alkenes in their energy minima: of the C=C systems in the DFT geometries
of 30,000 QM9 train molecules, 166 of 4,042 lie more than 0.25 A out of plane (up to
0.6 A), and every one of them has such a ring-fusion carbon (qm9_108699,
``OCC1=C2C[C@@H]3[C@H]2N3C1``, is 0.59 A out of plane); 618 C=C systems within 0.25 A are
no longer checked either.

The bounds matrix and the pair classes depend on the molecular graph only, so they are built
once per molecule (:class:`MoleculeTopology`) and reused for every conformer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rdkit import Chem
from rdkit.Chem import rdDistGeom

__all__ = [
    "BOND_TOLERANCE",
    "ANGLE_TOLERANCE",
    "CLASH_TOLERANCE",
    "FLATNESS_TOLERANCE",
    "MoleculeTopology",
    "build_topology",
    "distance_geometry_checks",
    "flatness_checks",
    "plane_deviations",
]

BOND_TOLERANCE = 0.25
ANGLE_TOLERANCE = 0.25
CLASH_TOLERANCE = 0.3
FLATNESS_TOLERANCE = 0.25  # Angstrom

_AROMATIC_RINGS = (
    Chem.MolFromSmarts("[ar5^2]1[ar5^2][ar5^2][ar5^2][ar5^2]1"),
    Chem.MolFromSmarts("[ar6^2]1[ar6^2][ar6^2][ar6^2][ar6^2][ar6^2]1"),
)
_DOUBLE_BONDS = (Chem.MolFromSmarts("[C;X3;^2](*)(*)=[C;X3;^2](*)(*)"),)
# A terminal O/N in a conjugated X-*=X group (carboxylate, nitro, amidine, ...) bonded to its
# central atom: resonance makes both terminal bonds alike, while the Kekule bounds differ.
_TERMINAL_CONJUGATED = Chem.MolFromSmarts(
    "[O,N;D1;$([O,N;D1]-[*]=[O,N;D1]),$([O,N;D1]=[*]-[O,N;D1])]~[*]"
)


@dataclass(frozen=True)
class MoleculeTopology:
    """Conformer-independent data for the geometry checks of one sanitised molecule.

    Attributes
    ----------
    bonds, angles, others : numpy.ndarray of int, shape (P, 2)
        Heavy-atom index pairs (i < j) of each class.
    lower, upper : numpy.ndarray of float, shape (N, N)
        Symmetric lower and upper distance bounds in Angstrom.
    flat_rings, flat_double_bonds : list of tuple of int
        Atom indices of each aromatic ring and each double-bond system (C=C without a
        ring-fusion carbon, see the module docstring).
    """

    bonds: np.ndarray
    angles: np.ndarray
    others: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    flat_rings: list[tuple[int, ...]]
    flat_double_bonds: list[tuple[int, ...]]


def _matches(mol: Chem.Mol, patterns: tuple[Chem.Mol, ...]) -> list[tuple[int, ...]]:
    return [match for pattern in patterns for match in mol.GetSubstructMatches(pattern)]


def _symmetrise_terminal_groups(mol: Chem.Mol, lower: np.ndarray, upper: np.ndarray) -> None:
    """Give all terminal conjugated bonds with the same element pair the union of their bounds."""
    groups: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for i, j in {tuple(sorted(m)) for m in mol.GetSubstructMatches(_TERMINAL_CONJUGATED)}:
        key = tuple(sorted((mol.GetAtomWithIdx(i).GetSymbol(), mol.GetAtomWithIdx(j).GetSymbol())))
        groups.setdefault(key, []).append((i, j))
    for pairs in groups.values():
        rows, cols = np.array(pairs).T
        lo, hi = lower[rows, cols].min(), upper[rows, cols].max()
        lower[rows, cols] = lower[cols, rows] = lo
        upper[rows, cols] = upper[cols, rows] = hi


def build_topology(mol: Chem.Mol) -> MoleculeTopology:
    """Bounds matrix, pair classes and flat systems of a sanitised molecule.

    Parameters
    ----------
    mol : rdkit.Chem.Mol
        Sanitised molecule (hydrogens, if present, take part in the bounds smoothing).

    Returns
    -------
    MoleculeTopology

    Raises
    ------
    RuntimeError
        When RDKit cannot build a consistent bounds matrix.
    """
    n = mol.GetNumAtoms()
    if n > 1:
        # Same options as PoseBusters' "mol" config: topological 1-5 bounds, smoothed.
        bounds = rdDistGeom.GetMoleculeBoundsMatrix(
            mol, set15bounds=True, scaleVDW=True, doTriangleSmoothing=True,
            useMacrocycle14config=False,
        )  # fmt: skip
    else:
        bounds = np.zeros((n, n))
    upper = np.triu(bounds, 1) + np.triu(bounds, 1).T  # RDKit: upper bounds above diagonal
    lower = np.tril(bounds, -1) + np.tril(bounds, -1).T
    _symmetrise_terminal_groups(mol, lower, upper)

    adjacency = Chem.GetAdjacencyMatrix(mol).astype(bool)
    shares_neighbour = (adjacency.astype(int) @ adjacency.astype(int)) > 0
    heavy = np.array([atom.GetAtomicNum() != 1 for atom in mol.GetAtoms()], dtype=bool)
    i, j = np.triu_indices(n, 1)
    keep = heavy[i] & heavy[j]
    i, j = i[keep], j[keep]
    is_bond = adjacency[i, j]
    is_angle = shares_neighbour[i, j] & ~is_bond
    pairs = np.stack([i, j], axis=1)
    rings = mol.GetRingInfo()  # C=C atoms are matches[0] and [3]; fused ones are not flat
    return MoleculeTopology(
        bonds=pairs[is_bond],
        angles=pairs[is_angle],
        others=pairs[~is_bond & ~is_angle],
        lower=lower,
        upper=upper,
        flat_rings=_matches(mol, _AROMATIC_RINGS),
        flat_double_bonds=[
            match
            for match in _matches(mol, _DOUBLE_BONDS)
            if max(rings.NumAtomRings(match[0]), rings.NumAtomRings(match[3])) < 2
        ],
    )


def _relative_violation(d: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    r"""Signed relative error outside the bounds: (d - l)/l below, (d - u)/u above, else 0."""
    below = np.where(d < lower, (d - lower) / np.where(lower > 0, lower, 1.0), 0.0)
    return np.where(d > upper, (d - upper) / upper, below)


def distance_geometry_checks(topology: MoleculeTopology, positions: np.ndarray) -> dict:
    """Bond-length, bond-angle and internal-clash checks of one conformer.

    Parameters
    ----------
    topology : MoleculeTopology
    positions : numpy.ndarray, shape (N, 3)
        Atom coordinates in Angstrom.

    Returns
    -------
    dict
        ``bond_lengths``, ``bond_angles``, ``internal_clash`` (True = passes) and the
        diagnostics ``num_bad_bonds``, ``bond_length_min_ratio`` (min d/l over bonds),
        ``bond_length_max_ratio`` (max d/u), ``num_bad_angles``, ``num_clashes`` and
        ``clash_min_ratio`` (min d/l over non-bonded pairs); ratios are None without pairs.
    """

    def distances(pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a, b = pairs[:, 0], pairs[:, 1]
        d = np.linalg.norm(positions[a] - positions[b], axis=-1)
        return d, topology.lower[a, b], topology.upper[a, b]

    def extreme(values: np.ndarray, fn) -> float | None:
        return float(fn(values)) if values.size else None

    d, lo, hi = distances(topology.bonds)
    bond_err = _relative_violation(d, lo, hi)
    num_bad_bonds = int(np.sum((bond_err < -BOND_TOLERANCE) | (bond_err > BOND_TOLERANCE)))
    bond_min, bond_max = extreme(d / lo, np.min), extreme(d / hi, np.max)

    d, lo, hi = distances(topology.angles)
    num_bad_angles = int(np.sum(np.abs(_relative_violation(d, lo, hi)) > ANGLE_TOLERANCE))

    d, lo, _ = distances(topology.others)
    clash_err = np.where(d < lo, (d - lo) / np.where(lo > 0, lo, 1.0), 0.0)
    num_clashes = int(np.sum(clash_err < -CLASH_TOLERANCE))
    clash_min = extreme(d / np.where(lo > 0, lo, np.inf), np.min)
    return {
        "bond_lengths": num_bad_bonds == 0,
        "bond_angles": num_bad_angles == 0,
        "internal_clash": num_clashes == 0,
        "num_bad_bonds": num_bad_bonds,
        "bond_length_min_ratio": bond_min,
        "bond_length_max_ratio": bond_max,
        "num_bad_angles": num_bad_angles,
        "num_clashes": num_clashes,
        "clash_min_ratio": clash_min,
    }


def plane_deviations(points: np.ndarray) -> np.ndarray:
    r"""Unsigned distances of points to their least-squares plane, in Angstrom.

    The plane passes through the centroid :math:`\bar x` with normal :math:`n`, the right
    singular vector of :math:`X - \bar x` with the smallest singular value; the deviation of
    point :math:`x_k` is :math:`|(x_k - \bar x) \cdot n|`.

    Parameters
    ----------
    points : numpy.ndarray, shape (K, 3)

    Returns
    -------
    numpy.ndarray, shape (K,)
    """
    centred = points - points.mean(axis=0)
    normal = np.linalg.svd(centred)[2][-1]
    return np.abs(centred @ normal)


def flatness_checks(topology: MoleculeTopology, positions: np.ndarray) -> dict:
    """Aromatic-ring and double-bond flatness of one conformer.

    Parameters
    ----------
    topology : MoleculeTopology
    positions : numpy.ndarray, shape (N, 3)
        Atom coordinates in Angstrom.

    Returns
    -------
    dict
        ``aromatic_ring_flatness`` and ``double_bond_flatness`` (True = every system within
        0.25 A of its plane, also when there is none), the number of systems checked and the
        largest deviation in Angstrom (None without systems).
    """
    record = {}
    for name, systems in (
        ("aromatic_ring", topology.flat_rings),
        ("double_bond", topology.flat_double_bonds),
    ):
        worst = [float(plane_deviations(positions[list(s)]).max()) for s in systems]
        record[f"{name}_flatness"] = all(w <= FLATNESS_TOLERANCE for w in worst)
        record[f"num_{name}s_checked"] = len(worst)
        record[f"{name}_max_deviation"] = max(worst) if worst else None
    return record
