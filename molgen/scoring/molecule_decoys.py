r"""Decoy conformers for benchmarking and training molecule scores (Angstrom, radians).

Each function takes a molecule with one real conformer (e.g. a QM9 DFT geometry, explicit
hydrogens, stereo tags assigned) and returns a copy with one decoy conformer, same atoms in
the same order (so the same torsion graph and stereo reference), or None where the class does
not apply; inputs are never modified.

- :func:`random_torsions`: every rotatable torsion (:func:`molgen.geometry.rotatable_bonds`)
  set to a uniform random angle; bond lengths and angles untouched, clashes allowed.
- :func:`etkdg_raw`: an ETKDGv3 embedding without force-field clean-up.
- :func:`wrong_stereo`: molecules with a tetrahedral stereocentre: an ETKDGv3 embedding of the
  molecule with its first centre inverted, coordinates put on the original molecule (the
  graph is the same, the stereo is wrong).
"""

from __future__ import annotations

import numpy as np
from rdkit import Chem
from rdkit.Chem import rdDistGeom, rdMolTransforms
from rdkit.rdBase import BlockLogs

from molgen.geometry.torsions import rotatable_bonds

__all__ = ["MOLECULE_DECOYS", "etkdg_raw", "random_torsions", "wrong_stereo"]


def _with_coordinates(mol: Chem.Mol, coords: np.ndarray) -> Chem.Mol:
    out = Chem.Mol(mol)
    conf = out.GetConformer()
    for i, xyz in enumerate(coords.tolist()):
        conf.SetAtomPosition(i, xyz)
    return out


def _turn_torsions(mol: Chem.Mol, angle) -> Chem.Mol:
    """A copy whose rotatable torsion ``k`` is set to ``angle(k, current)`` (radians)."""
    out = Chem.Mol(mol)
    conf = out.GetConformer()
    for k, (a, b, c, d) in enumerate(rotatable_bonds(out).tolist()):
        current = rdMolTransforms.GetDihedralRad(conf, a, b, c, d)
        rdMolTransforms.SetDihedralRad(conf, a, b, c, d, float(angle(k, current)))
    return out


def random_torsions(mol: Chem.Mol, rng: np.random.Generator) -> Chem.Mol:
    """Every rotatable torsion uniform on :math:`[-\\pi, \\pi)`."""
    return _turn_torsions(mol, lambda _k, _now: rng.uniform(-np.pi, np.pi))


def _embed(mol: Chem.Mol, seed: int) -> np.ndarray | None:
    params = rdDistGeom.ETKDGv3()
    params.randomSeed = seed
    params.numThreads = 1
    work = Chem.Mol(mol)
    work.RemoveAllConformers()
    with BlockLogs():
        if rdDistGeom.EmbedMolecule(work, params) < 0:
            return None
    return work.GetConformer().GetPositions()


def etkdg_raw(mol: Chem.Mol, seed: int) -> Chem.Mol | None:
    """An ETKDGv3 embedding (seed ``seed``) without clean-up, or None if it fails."""
    coords = _embed(mol, seed)
    return None if coords is None else _with_coordinates(mol, coords)


def wrong_stereo(mol: Chem.Mol, seed: int) -> Chem.Mol | None:
    """The molecule embedded with its first tetrahedral centre inverted, or None."""
    centres = Chem.FindMolChiralCenters(mol, includeUnassigned=False, useLegacyImplementation=False)
    if not centres:
        return None
    inverted = Chem.Mol(mol)
    inverted.GetAtomWithIdx(centres[0][0]).InvertChirality()
    coords = _embed(inverted, seed)
    return None if coords is None else _with_coordinates(mol, coords)


#: The benchmark's decoy classes: ``name -> builder(mol, rng, seed)``.
MOLECULE_DECOYS = {
    "random_torsions": lambda mol, rng, seed: random_torsions(mol, rng),
    "etkdg_raw": lambda mol, rng, seed: etkdg_raw(mol, seed),
    "wrong_stereo": lambda mol, rng, seed: wrong_stereo(mol, seed),
}
