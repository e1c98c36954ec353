"""Validity checks of molecular conformers, after PoseBusters' "mol" configuration.

One flat, JSON-serialisable record per conformer, one entry per check (True = passes):

==========================  =================================================================
``sanitization``            RDKit finds no chemistry problem (valence, kekulisation, ...)
``single_fragment``         all atoms are connected (PoseBusters: "all atoms connected")
``bond_lengths``            heavy-atom bonds within RDKit distance-geometry bounds +- 25 %
``bond_angles``             heavy-atom 1-3 distances within the bounds +- 25 %
``internal_clash``          no non-bonded heavy-atom pair closer than 0.7 x its lower bound
``aromatic_ring_flatness``  aromatic 5/6-rings within 0.25 A of their plane
``double_bond_flatness``    C=C with their substituents within 0.25 A of their plane (not
                            C=C with a ring-fusion carbon: strain makes those pyramidal)
``stereo_preserved``        R/S and E/Z from the coordinates equal the reference's
==========================  =================================================================

Geometry checks need a sanitisable molecule; when sanitisation fails they are None (not
evaluated), as is ``stereo_preserved`` without a reference. ``checks_passed`` is True when
no check is False; ``failed_checks`` lists the checks that are False. Numeric diagnostics
(lengths in Angstrom) sit beside the checks; see :mod:`molgen.checks.molecule_geometry` and
:mod:`molgen.checks.molecule_stereo` for the definitions.
"""

from __future__ import annotations

import numpy as np
from rdkit import Chem, RDLogger

from molgen.checks.molecule_geometry import (
    MoleculeTopology,
    build_topology,
    distance_geometry_checks,
    flatness_checks,
)
from molgen.checks.molecule_stereo import matches_target, stereo_target
from molgen.errors import InputError

__all__ = ["CHECK_NAMES", "check_molecule", "check_conformers"]

CHECK_NAMES = (
    "atoms_present",
    "sanitization",
    "single_fragment",
    "bond_lengths",
    "bond_angles",
    "internal_clash",
    "aromatic_ring_flatness",
    "double_bond_flatness",
    "stereo_preserved",
)
_GEOMETRY_KEYS = (
    "bond_lengths", "bond_angles", "internal_clash", "num_bad_bonds", "bond_length_min_ratio",
    "bond_length_max_ratio", "num_bad_angles", "num_clashes", "clash_min_ratio",
)  # fmt: skip
_FLATNESS_KEYS = (
    "aromatic_ring_flatness", "num_aromatic_rings_checked", "aromatic_ring_max_deviation",
    "double_bond_flatness", "num_double_bonds_checked", "double_bond_max_deviation",
)  # fmt: skip


def _name(mol: Chem.Mol) -> str:
    return mol.GetProp("_Name") if mol.HasProp("_Name") and mol.GetProp("_Name") else "molecule"


def _validate(mol: Chem.Mol, conf_ids: list[int], reference: Chem.Mol | None) -> None:
    if not isinstance(mol, Chem.Mol):
        raise InputError(f"expected an RDKit molecule, got {type(mol).__name__}")
    if reference is not None and (
        not isinstance(reference, Chem.Mol) or Chem.DetectChemistryProblems(reference)
    ):
        raise InputError(f"reference for {_name(mol)} is not a sanitisable RDKit molecule")
    if mol.GetNumConformers() == 0:
        raise InputError(f"{_name(mol)} has no conformer (3D coordinates) to check")
    known = {conf.GetId() for conf in mol.GetConformers()}
    for conf_id in conf_ids:
        if conf_id != -1 and conf_id not in known:
            raise InputError(f"{_name(mol)} has no conformer {conf_id} (has {sorted(known)})")
        if not np.all(np.isfinite(mol.GetConformer(conf_id).GetPositions())):
            raise InputError(f"{_name(mol)} conformer {conf_id} has non-finite coordinates")


class _Checker:
    """Conformer-independent work (sanitisation, bounds, fragments, the reference's stereo) done
    once per molecule."""

    def __init__(self, mol: Chem.Mol, reference: Chem.Mol | None) -> None:
        self.mol = mol
        RDLogger.DisableLog("rdApp.*")
        try:
            problems = Chem.DetectChemistryProblems(mol)
            self.sanitized: Chem.Mol | None = None
            self.topology: MoleculeTopology | None = None
            if not problems:
                self.sanitized = Chem.Mol(mol)
                Chem.SanitizeMol(self.sanitized)
                try:
                    self.topology = build_topology(self.sanitized)
                except RuntimeError:  # RDKit found no consistent bounds: not evaluable
                    self.topology = None
        finally:
            RDLogger.EnableLog("rdApp.*")
        self.num_fragments = len(Chem.GetMolFrags(mol, asMols=False, sanitizeFrags=False))
        self.stereo_target = (
            stereo_target(reference)
            if reference is not None and self.sanitized is not None
            else None
        )

    def record(self, conf_id: int) -> dict:
        conformer = self.mol.GetConformer(conf_id)
        record: dict = {
            "conformer_id": int(conformer.GetId()),
            "atoms_present": self.mol.GetNumAtoms() > 0,  # an empty record never passes
            "sanitization": self.sanitized is not None,
            "single_fragment": self.num_fragments <= 1,
            "num_fragments": self.num_fragments,
        }
        if self.topology is not None:
            positions = conformer.GetPositions()
            record |= distance_geometry_checks(self.topology, positions)
            record |= flatness_checks(self.topology, positions)
        else:
            record |= dict.fromkeys(_GEOMETRY_KEYS + _FLATNESS_KEYS)
        stereo = None
        if self.stereo_target is not None:
            stereo = matches_target(self.sanitized, conformer.GetId(), self.stereo_target)
        record["stereo_preserved"] = stereo
        failed = [name for name in CHECK_NAMES if record[name] is False]
        record["checks_passed"] = not failed
        record["failed_checks"] = failed
        return record


def check_molecule(mol: Chem.Mol, conf_id: int = -1, reference: Chem.Mol | None = None) -> dict:
    """Run every molecule check on one conformer.

    Parameters
    ----------
    mol : rdkit.Chem.Mol
        Molecule with at least one conformer (coordinates in Angstrom). Hydrogens may be
        explicit or implicit; pairs involving hydrogens are not checked.
    conf_id : int, default -1
        Conformer to check (-1: the first one).
    reference : rdkit.Chem.Mol, optional
        The intended molecule (e.g. from the input SMILES) whose recorded tetrahedral and
        E/Z stereo the conformer must reproduce; atom order may differ.

    Returns
    -------
    dict
        ``conformer_id``; one entry per name in :data:`CHECK_NAMES` (bool, or None when not
        evaluated); ``checks_passed`` (bool); ``failed_checks`` (list of str); diagnostics
        ``num_fragments``, ``num_bad_bonds``, ``bond_length_min_ratio``,
        ``bond_length_max_ratio``, ``num_bad_angles``, ``num_clashes``, ``clash_min_ratio``,
        ``num_aromatic_rings_checked``, ``aromatic_ring_max_deviation`` (A),
        ``num_double_bonds_checked``, ``double_bond_max_deviation`` (A).

    Raises
    ------
    molgen.errors.InputError
        When ``mol`` is not a molecule, has no such conformer, or has non-finite coordinates,
        or when ``reference`` is not a sanitisable molecule.
    """
    _validate(mol, [conf_id], reference)
    return _Checker(mol, reference).record(conf_id)


def check_conformers(mol: Chem.Mol, reference: Chem.Mol | None = None) -> list[dict]:
    """Run every molecule check on each conformer of ``mol`` (bounds computed once).

    Parameters
    ----------
    mol : rdkit.Chem.Mol
        Molecule with one or more conformers (Angstrom).
    reference : rdkit.Chem.Mol, optional
        See :func:`check_molecule`.

    Returns
    -------
    list of dict
        One :func:`check_molecule` record per conformer, in conformer order, each carrying
        its ``conformer_id``.

    Raises
    ------
    molgen.errors.InputError
        As :func:`check_molecule`.
    """
    conf_ids = [conf.GetId() for conf in mol.GetConformers()] if isinstance(mol, Chem.Mol) else []
    _validate(mol, conf_ids or [-1], reference)
    checker = _Checker(mol, reference)
    return [checker.record(conf_id) for conf_id in conf_ids]
