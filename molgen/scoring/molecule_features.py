r"""Invariant features of one molecular conformer for the molecule plausibility classifier.

A real (DFT or force-field minimised) conformer sits near a minimum of a good force field; a
strained one (wrong torsions, clashes, distance-geometry bond lengths and angles) does not.
The features measure how far the conformer is from its own MMFF94 local minimum (RDKit's
MMFF94, the force field PoseBusters' energy check also uses), plus the torsion model's
denoising score (:mod:`molgen.scoring.molecule`):

- ``denoising_score``: the torsion model's score of the conformer (higher = easier to denoise;
  0 without a rotatable bond);
- ``strain_per_heavy_atom``: :math:`(E(x) - E(x^*)) / n_\text{heavy}` (kcal/mol per heavy
  atom), :math:`x^*` the MMFF94 minimum reached from :math:`x` (at most
  :data:`MAX_ITERATIONS` steps), and ``<term>_strain_per_heavy_atom`` the same for each MMFF94
  energy term alone (bond stretch, angle bend, stretch-bend, out-of-plane, torsion, van der
  Waals, electrostatics): distance-geometry bond lengths and angles show in the bond and angle
  terms, a wrong torsion in the torsion and van der Waals terms;
- ``strain_per_rotor``, ``torsion_strain_per_rotor``, ``vdw_strain_per_rotor``: the total,
  torsion and van der Waals strain over the number of rotatable bonds (at least 1);
- ``torsion_shift_max`` / ``torsion_shift_mean``: how far the rotatable torsions
  (:func:`molgen.geometry.torsions.rotatable_bonds`) turn on the way to :math:`x^*` (radians;
  0 without a rotatable bond);
- ``relaxation_rmsd``: heavy-atom RMSD between :math:`x` and :math:`x^*` after optimal
  superposition (Angstrom).

Every feature is intensive (normalised by size, or bounded), so that a classifier trained on
QM9's small molecules does not extrapolate in molecule size (model card). Energies enter as
:math:`\operatorname{sign}(\Delta E)\log(1 + |\Delta E|)` (a term's change can be negative
when another term pays for it). Every feature is invariant to rotation,
translation and atom order. Molecules that MMFF94 has no parameters for have no features.
"""

from __future__ import annotations

import numpy as np
import torch
from rdkit import Chem
from rdkit.Chem import rdForceFieldHelpers, rdMolTransforms

from molgen.geometry.superposition import rmsd
from molgen.geometry.torsions import rotatable_bonds

__all__ = ["FEATURE_NAMES", "MAX_ITERATIONS", "conformer_features", "has_mmff_parameters"]

#: MMFF94 energy terms, as RDKit's ``MMFFMolProperties.SetMMFF<Term>Term`` names them.
_TERMS = {
    "bond": "Bond",
    "angle": "Angle",
    "stretch_bend": "StretchBend",
    "out_of_plane": "Oop",
    "torsion": "Torsion",
    "vdw": "VdW",
    "electrostatic": "Ele",
}
FEATURE_NAMES = (
    "denoising_score",
    "strain_per_heavy_atom",
    *(f"{term}_strain_per_heavy_atom" for term in _TERMS),
    "strain_per_rotor",
    "torsion_strain_per_rotor",
    "vdw_strain_per_rotor",
    "torsion_shift_max",
    "torsion_shift_mean",
    "relaxation_rmsd",
)
#: Most MMFF94 minimisation steps towards the local minimum.
MAX_ITERATIONS = 2000


def has_mmff_parameters(mol: Chem.Mol) -> bool:
    """Whether RDKit's MMFF94 has parameters for every atom and term of ``mol``."""
    return bool(rdForceFieldHelpers.MMFFHasAllMoleculeParams(mol))


def _signed_log(value: float) -> float:
    return float(np.sign(value) * np.log1p(abs(value)))


def _term_force_fields(mol: Chem.Mol, conf_id: int) -> dict[str, object]:
    """One MMFF94 force field per energy term (all other terms switched off)."""
    out = {}
    for name, term in _TERMS.items():
        props = rdForceFieldHelpers.MMFFGetMoleculeProperties(mol)
        for other in _TERMS.values():
            getattr(props, f"SetMMFF{other}Term")(other == term)
        out[name] = rdForceFieldHelpers.MMFFGetMoleculeForceField(mol, props, confId=conf_id)
    return out


def _torsions(pos: np.ndarray, quads: np.ndarray) -> np.ndarray:
    """Dihedral angles (radians) of the quadruples ``[T, 4]`` in positions ``[N, 3]``."""
    conf = Chem.Conformer(len(pos))
    for i, xyz in enumerate(pos.tolist()):
        conf.SetAtomPosition(i, xyz)
    return np.array([rdMolTransforms.GetDihedralRad(conf, *map(int, q)) for q in quads])


def conformer_features(mol: Chem.Mol, conf_id: int, denoising_score: float | None) -> np.ndarray:
    """The features of :data:`FEATURE_NAMES` (module docstring) of conformer ``conf_id``.

    Parameters
    ----------
    mol : rdkit.Chem.Mol
        Sanitized molecule with 3D coordinates (Angstrom); not modified. Implicit hydrogens
        (an SDF without H records) are placed first (``Chem.AddHs(addCoords=True)``), since
        MMFF94 energies need them; their placement is relaxed with the rest.
    conf_id : int
        The conformer.
    denoising_score : float or None
        The torsion model's score of this conformer; None (no rotatable bond) enters as 0,
        nothing to denoise.

    Returns
    -------
    numpy.ndarray
        float64 ``[len(FEATURE_NAMES)]``.

    Raises
    ------
    ValueError
        MMFF94 has no parameters for ``mol``.
    """
    if not has_mmff_parameters(mol):
        raise ValueError("MMFF94 has no parameters for this molecule")
    work = Chem.AddHs(Chem.Mol(mol, confId=conf_id), addCoords=True)
    props = rdForceFieldHelpers.MMFFGetMoleculeProperties(work)
    field = rdForceFieldHelpers.MMFFGetMoleculeForceField(work, props)
    terms = _term_force_fields(work, -1)
    start = work.GetConformer().GetPositions()  # [N, 3]
    flat = start.ravel().tolist()
    before = [field.CalcEnergy(flat)] + [ff.CalcEnergy(flat) for ff in terms.values()]
    field.Minimize(maxIts=MAX_ITERATIONS)
    relaxed = np.asarray(field.Positions()).reshape(-1, 3)
    flat = relaxed.ravel().tolist()
    after = [field.CalcEnergy(flat)] + [ff.CalcEnergy(flat) for ff in terms.values()]
    drops = [b - a for b, a in zip(before, after, strict=True)]  # kcal/mol
    heavy = np.array([a.GetAtomicNum() > 1 for a in work.GetAtoms()])
    quads = rotatable_bonds(work).numpy()
    if len(quads):
        turn = np.abs(np.angle(np.exp(1j * (_torsions(relaxed, quads) - _torsions(start, quads)))))
        shift_max, shift_mean = float(turn.max()), float(turn.mean())
    else:
        shift_max = shift_mean = 0.0
    total, by_term = drops[0], dict(zip(_TERMS, drops[1:], strict=True))
    atoms, rotors = int(heavy.sum()), max(len(quads), 1)
    values = [
        0.0 if denoising_score is None else denoising_score,
        _signed_log(total / atoms),
        *(_signed_log(drop / atoms) for drop in by_term.values()),
        _signed_log(total / rotors),
        _signed_log(by_term["torsion"] / rotors),
        _signed_log(by_term["vdw"] / rotors),
        shift_max,
        shift_mean,
        float(rmsd(torch.from_numpy(start[heavy]), torch.from_numpy(relaxed[heavy]))),
    ]
    return np.array(values, dtype=np.float64)
