r"""MolProbity-style validity record of one protein backbone (Angstrom, radians).

:func:`check_backbone` measures a chain of N, CA, C, O atoms and returns a flat record of
JSON-ready Python scalars: covalent geometry against Engh & Huber (2001)
(:mod:`molgen.checks.bonds`), consecutive CA-CA breaks, non-local clashes
(:mod:`molgen.checks.clashes`), Ramachandran regions from the PDB train split
(:mod:`molgen.checks.ramachandran`), cis peptides, DSSP three-state fractions
(:mod:`molgen.checks.secondary`) and the radius of gyration relative to
:math:`R_g^0(L) = 2.2\,L^{0.38}` A. ``checks_passed`` is True when every named check below
holds (a backbone with no present residue never passes); ``failed_checks`` lists the names
of those that do not.

Thresholds were set so that real chains pass: on the 785 val chains of ``pdb_chains.npz``
98.1% pass all checks together; the Ramachandran and handedness thresholds also fail the mirror
image of nearly every chain (see the constants' comments for the measured numbers).

Missing residues: a residue is present when its mask says so and its coordinates are finite.
Only consecutive present residues form a peptide bond or a CA-CA pair, so a declared gap (one
or more masked residues between i and j, e.g. a jump in residue numbering or the boundary
between two chains) is never counted as a break; insert a masked placeholder residue to
declare one.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from molgen.checks.bonds import bond_z_scores, consecutive_ca_distances
from molgen.checks.clashes import ca_clashes, heavy_atom_clashes
from molgen.checks.ramachandran import ALLOWED, FAVOURED, OUTLIER, classify_ramachandran
from molgen.checks.secondary import dssp_states
from molgen.errors import InputError
from molgen.geometry import backbone_dihedrals

__all__ = [
    "CA_BREAK_DISTANCE",
    "CA_CONTACT_DISTANCE",
    "CIS_CA_CONTACT",
    "PEPTIDE_BREAK_SIGMA",
    "MAX_CA_BREAK_FRACTION",
    "MAX_CA_CLASH_FRACTION",
    "MAX_HEAVY_ATOM_CLASH_FRACTION",
    "OUTLIER_SIGMA",
    "MAX_BOND_LENGTH_OUTLIER_FRACTION",
    "MAX_BOND_ANGLE_OUTLIER_FRACTION",
    "MIN_RAMA_FAVOURED_FRACTION",
    "MAX_POSITIVE_PHI_FRACTION",
    "CIS_OMEGA",
    "MAX_CIS_PEPTIDE_FRACTION",
    "RG_RATIO_RANGE",
    "CHECK_NAMES",
    "radius_of_gyration",
    "check_backbone",
]

#: A consecutive CA-CA distance above this (Angstrom) is a chain break (ideal 3.80 A).
CA_BREAK_DISTANCE = 4.2
#: Check "peptide_bonds": a peptide C(i)-N(i+1) with |z| above this (Engh & Huber 1.329 +-
#: 0.014 A, so outside 1.245-1.413 A) is a broken peptide whatever the CA-CA distance (val
#: chains: 6 of 785 have one; a rigidly shifted half always does, |z| >= 14).
PEPTIDE_BREAK_SIGMA = 6.0
#: Check "ca_contacts": consecutive CA atoms of a trans peptide closer than this (Angstrom)
#: fail (val chains: 5 of 785 have one, the closest 3.09 A); a cis peptide's CA-CA is about
#: 2.9 A (val: 2.73-3.33 A), so cis pairs fail only below CIS_CA_CONTACT.
CA_CONTACT_DISTANCE = 3.5
CIS_CA_CONTACT = 2.6
#: Check "ca_breaks": no consecutive present pair may be broken.
MAX_CA_BREAK_FRACTION = 0.0
#: Check "ca_clashes": no residue in a CA-CA contact < 3.0 A with |i - j| >= 3.
MAX_CA_CLASH_FRACTION = 0.0
#: Check "heavy_atom_clashes": at most 5% of residues with a backbone atom overlapping a
#: non-local one by >= 0.4 A (val chains: 95% have none, the worst has 4.4%).
MAX_HEAVY_ATOM_CLASH_FRACTION = 0.05
#: A bond length or angle with |z| above this is an outlier.
OUTLIER_SIGMA = 4.0
#: Checks "bond_lengths" / "bond_angles": fraction of the chain's defined bond lengths
#: (angles) beyond 4 sigma (val chains: 99th percentile 0.6% / 0.9%).
MAX_BOND_LENGTH_OUTLIER_FRACTION = 0.01
MAX_BOND_ANGLE_OUTLIER_FRACTION = 0.02
#: Check "ramachandran": fraction of residues in the favoured (98%) region (val chains:
#: mean 98.2%, 99.4% of chains pass; their mirror images: 98% fail).
MIN_RAMA_FAVOURED_FRACTION = 0.93
#: Check "handedness": fraction of residues with phi > 0 (L-amino acids: val chains at most
#: about 20%; a mirror image has the complement, at least 80%).
MAX_POSITIVE_PHI_FRACTION = 0.35
#: |omega| below this (radians, 30 degrees) is a cis peptide.
CIS_OMEGA = math.radians(30.0)
#: Check "cis_peptides": fraction of peptide bonds that are cis (val chains: at most ~3%).
MAX_CIS_PEPTIDE_FRACTION = 0.05
#: Check "radius_of_gyration": Rg(CA) / (2.2 L^0.38) inside this band (val chains: minimum
#: 0.91, median 1.05, 99th percentile 2.24; a few elongated chains reach 4).
RG_RATIO_RANGE = (0.8, 2.5)

CHECK_NAMES = (
    "residues_present",
    "ca_breaks",
    "peptide_bonds",
    "ca_contacts",
    "ca_clashes",
    "heavy_atom_clashes",
    "bond_lengths",
    "bond_angles",
    "ramachandran",
    "handedness",
    "cis_peptides",
    "radius_of_gyration",
)


def radius_of_gyration(points: np.ndarray) -> float:
    r""":math:`R_g = \sqrt{\frac{1}{N}\sum_i \|x_i - \bar x\|^2}` of points ``(N, 3)``, Angstrom."""
    centred = points - points.mean(0)
    return float(np.sqrt((centred * centred).sum(-1).mean()))


def _fraction(flags: np.ndarray, defined: np.ndarray) -> float | None:
    """Fraction of True among defined entries; None when nothing is defined."""
    n = int(defined.sum())
    return float((flags & defined).sum() / n) if n else None


def _outlier_fraction(z: np.ndarray) -> float | None:
    defined = np.isfinite(z)
    return _fraction(np.abs(np.where(defined, z, 0.0)) > OUTLIER_SIGMA, defined)


def _max_abs(z: np.ndarray) -> float | None:
    z = np.abs(z[np.isfinite(z)])
    return float(z.max()) if z.size else None


def _atom_mask(atoms: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    finite = np.isfinite(atoms).all(-1)  # [L, 4]
    if mask is None:
        return finite
    mask = np.asarray(mask, dtype=bool)
    if mask.shape == atoms.shape[:1]:
        return finite & mask[:, None]
    if mask.shape == atoms.shape[:2]:
        return finite & mask
    raise InputError(f"mask must have shape (L,) or (L, 4) for L={len(atoms)}, got {mask.shape}")


def _failed(record: dict) -> list[str]:
    def above(key: str, limit: float) -> bool:
        return record[key] is not None and record[key] > limit

    low, high = RG_RATIO_RANGE
    rg = record["rg_ratio"]
    rama = record["rama_favoured_fraction"]
    failed = {
        "residues_present": record["n_residues"] == 0,
        "ca_breaks": above("ca_break_fraction", MAX_CA_BREAK_FRACTION),
        "peptide_bonds": record["n_peptide_breaks"] > 0,
        "ca_contacts": record["n_close_ca_pairs"] > 0,
        "ca_clashes": above("ca_clash_fraction", MAX_CA_CLASH_FRACTION),
        "heavy_atom_clashes": above("heavy_atom_clash_fraction", MAX_HEAVY_ATOM_CLASH_FRACTION),
        "bond_lengths": above("bond_length_outlier_fraction", MAX_BOND_LENGTH_OUTLIER_FRACTION),
        "bond_angles": above("bond_angle_outlier_fraction", MAX_BOND_ANGLE_OUTLIER_FRACTION),
        "ramachandran": rama is not None and rama < MIN_RAMA_FAVOURED_FRACTION,
        "handedness": above("positive_phi_fraction", MAX_POSITIVE_PHI_FRACTION),
        "cis_peptides": above("cis_peptide_fraction", MAX_CIS_PEPTIDE_FRACTION),
        "radius_of_gyration": rg is not None and not low <= rg <= high,
    }
    return [name for name in CHECK_NAMES if failed[name]]


def check_backbone(
    atoms: np.ndarray, mask: np.ndarray | None = None, sequence: str | None = None
) -> dict:
    """Validity record of one backbone.

    Parameters
    ----------
    atoms : np.ndarray, shape ``(L, 4, 3)``, Angstrom
        N, CA, C, O per residue (a CPU torch tensor is accepted too).
    mask : np.ndarray, shape ``(L,)`` or ``(L, 4)``, bool, optional
        Residues (or atoms) present; non-finite coordinates count as missing either way.
    sequence : str, optional
        One-letter sequence of length L (names residues for DSSP; prolines matter).

    Returns
    -------
    dict
        Flat record of Python scalars (fractions in [0, 1]; None where nothing is defined,
        e.g. Ramachandran fractions of a chain shorter than 3), with ``checks_passed`` and
        ``failed_checks`` (names from :data:`CHECK_NAMES`). Keys: ``n_residues`` (present),
        ``n_missing``, ``ca_break_fraction`` (of consecutive present CA pairs > 4.2 A),
        ``n_ca_breaks``, ``ca_ca_distance_mean`` (A), ``n_peptide_breaks`` (peptide C-N with
        |z| > 6), ``n_close_ca_pairs`` (consecutive CA closer than 3.5 A, 2.6 A for a cis
        peptide), ``ca_clash_fraction`` and
        ``heavy_atom_clash_fraction`` (of residues), ``bond_length_outlier_fraction`` and
        ``bond_angle_outlier_fraction`` (of defined terms, |z| > 4), ``max_bond_length_z``,
        ``max_bond_angle_z`` (largest |z|), ``rama_favoured_fraction``,
        ``rama_allowed_fraction`` (allowed but not favoured) and ``rama_outlier_fraction``
        (the three sum to 1), ``positive_phi_fraction``, ``cis_peptide_fraction``,
        ``n_cis_peptides``, ``helix_fraction``, ``strand_fraction``, ``coil_fraction`` (sum to
        1 over residues DSSP assigns), ``radius_of_gyration`` (CA, A), ``rg_ratio``.
    """
    atoms = np.asarray(atoms, dtype=np.float64)
    if atoms.ndim != 3 or atoms.shape[1:] != (4, 3) or atoms.shape[0] == 0:
        raise InputError(f"backbone atoms must have shape (L, 4, 3) with L > 0, got {atoms.shape}")
    if sequence is not None and len(sequence) != atoms.shape[0]:
        raise InputError(f"sequence has {len(sequence)} residues, atoms have {atoms.shape[0]}")
    atom_mask = _atom_mask(atoms, mask)
    atoms = np.where(atom_mask[..., None], atoms, 0.0)  # keep NaN out of the arithmetic
    has_ca = atom_mask[:, 1]
    ca = atoms[:, 1]

    ca_ca = consecutive_ca_distances(ca, has_ca)
    length_z, angle_z = bond_z_scores(atoms, atom_mask)
    ca_clash = ca_clashes(ca, has_ca)
    heavy_clash = heavy_atom_clashes(atoms, atom_mask)

    has_ncac = atom_mask[:, :3].all(-1)
    phi, psi, omega = (
        t.numpy() for t in backbone_dihedrals(torch.from_numpy(atoms), torch.from_numpy(has_ncac))
    )
    peptide_z = length_z[:, 3]  # C(i)-N(i+1), NaN where the pair is not present
    peptide_break = np.abs(np.where(np.isfinite(peptide_z), peptide_z, 0.0)) > PEPTIDE_BREAK_SIGMA
    pair_cis = np.abs(np.where(np.isfinite(omega), omega, math.pi))[:-1] < CIS_OMEGA
    contact = np.where(pair_cis, CIS_CA_CONTACT, CA_CONTACT_DISTANCE)  # [L-1], Angstrom
    close_ca = np.where(np.isfinite(ca_ca), ca_ca, np.inf) < contact
    region = classify_ramachandran(phi, psi)
    rama_defined = region >= 0
    phi_defined = np.isfinite(phi)
    omega_defined = np.isfinite(omega)
    cis = np.abs(np.where(omega_defined, omega, math.pi)) < CIS_OMEGA

    states = dssp_states(atoms, atom_mask, sequence)
    assigned = states != "-"
    n_res = int(has_ca.sum())
    rg = radius_of_gyration(ca[has_ca]) if n_res else None

    record = {
        "n_residues": n_res,
        "n_missing": int(atoms.shape[0] - n_res),
        "ca_break_fraction": _fraction(ca_ca > CA_BREAK_DISTANCE, np.isfinite(ca_ca)),
        "n_ca_breaks": int((ca_ca > CA_BREAK_DISTANCE).sum()),
        "ca_ca_distance_mean": float(np.nanmean(ca_ca)) if np.isfinite(ca_ca).any() else None,
        "n_peptide_breaks": int(peptide_break.sum()),
        "n_close_ca_pairs": int(close_ca.sum()),
        "ca_clash_fraction": _fraction(ca_clash, has_ca),
        "heavy_atom_clash_fraction": _fraction(heavy_clash, atom_mask.any(-1)),
        "bond_length_outlier_fraction": _outlier_fraction(length_z),
        "bond_angle_outlier_fraction": _outlier_fraction(angle_z),
        "max_bond_length_z": _max_abs(length_z),
        "max_bond_angle_z": _max_abs(angle_z),
        "rama_favoured_fraction": _fraction(region == FAVOURED, rama_defined),
        "rama_allowed_fraction": _fraction(region == ALLOWED, rama_defined),
        "rama_outlier_fraction": _fraction(region == OUTLIER, rama_defined),
        "positive_phi_fraction": _fraction(np.where(phi_defined, phi, 0.0) > 0, phi_defined),
        "cis_peptide_fraction": _fraction(cis, omega_defined),
        "n_cis_peptides": int(cis.sum()),
        "helix_fraction": _fraction(states == "H", assigned),
        "strand_fraction": _fraction(states == "E", assigned),
        "coil_fraction": _fraction(states == "C", assigned),
        "radius_of_gyration": rg,
        "rg_ratio": None if rg is None else rg / (2.2 * n_res**0.38),
    }
    failed = _failed(record)
    record["checks_passed"] = not failed
    record["failed_checks"] = failed
    return record
