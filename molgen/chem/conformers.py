r"""Seed conformers for torsional diffusion: RDKit ETKDG with fallbacks that keep stereo.

Torsional diffusion only changes torsions, so bond lengths, bond angles and ring shapes come
from these seeds. :func:`seed_conformers` tries, in order, until one path gives ``num``
conformers whose 3D stereo matches the input:

1. ``"etkdg"``: ETKDGv3 (``rdDistGeom.EmbedMultipleConfs``), RDKit's default attempts.
2. ``"etkdg_random_coords"``: ETKDGv3 from random coordinates, ``max_attempts`` attempts.
3. ``"relaxed"``: random coordinates, ``ignoreSmoothingFailures``, a doubled box,
   ``enforceChirality`` off and ``2 * max_attempts`` attempts. Strained QM9 cages
   (bicyclobutanes, oxetane-fused bicycles...) fail ETKDG's chirality checks; their ring
   systems fix the stereo anyway, and every conformer is checked afterwards (below), so
   stereo is still kept.
4. ``"input_conformer"``: when all of the above give nothing, the input's own conformers
   (e.g. the DFT geometry of a QM9 molecule; hydrogens without coordinates are placed by
   ``AddHs(addCoords=True)``). About 0.3% of QM9 (cages such as azabicyclo[1.1.1]pentanes
   fused to cyclobutanes) need this.
5. ``"<path>+torsions"``: when no path reached ``num`` but one gave some conformers, the
   remaining ones are copies of those with uniformly random torsions
   (:func:`molgen.geometry.torsions.apply_torsion_changes`), which keeps bond lengths,
   angles, rings and stereo.

Stereo check (all paths): on a copy of each conformer, ``AssignStereochemistryFrom3D``; the
CIP label (R/S) of every atom and the E/Z label of every double bond whose stereo the input
specifies must equal the input's; other conformers are dropped. The method used is stored in
the molecule property ``molgen_embed_method``. Coordinates in Angstrom.
"""

from __future__ import annotations

import numpy as np
import torch
from rdkit import Chem
from rdkit.Chem import rdDistGeom
from rdkit.Geometry import Point3D
from rdkit.rdBase import BlockLogs

from molgen.errors import InputError
from molgen.geometry.torsions import apply_torsion_changes, rotatable_bonds, rotating_side

__all__ = ["seed_conformers", "stereo_labels"]

_NAME_PROP = "molgen_embed_method"


def stereo_labels(mol: Chem.Mol, from_3d: bool = False, conf_id: int = -1) -> dict:
    """CIP labels of specified stereocentres and E/Z labels of specified stereo double bonds.

    Parameters
    ----------
    mol : rdkit.Chem.Mol
        Not modified (a copy is labelled).
    from_3d : bool
        Take the stereo from conformer ``conf_id`` instead of the molecule's own tags.

    Returns
    -------
    dict
        ``{("atom", index): "R" | "S", ("bond", index): "E" | "Z"}``.
    """
    copy = Chem.Mol(mol)
    if from_3d:
        Chem.AssignStereochemistryFrom3D(copy, confId=conf_id)
    else:
        Chem.AssignStereochemistry(copy, cleanIt=True, force=True)
    labels: dict = {}
    for atom in copy.GetAtoms():
        if atom.HasProp("_CIPCode"):
            labels["atom", atom.GetIdx()] = atom.GetProp("_CIPCode")
    for bond in copy.GetBonds():
        stereo = bond.GetStereo()
        if stereo in (Chem.BondStereo.STEREOE, Chem.BondStereo.STEREOZ):
            labels["bond", bond.GetIdx()] = "E" if stereo == Chem.BondStereo.STEREOE else "Z"
    return labels


def _params(seed: int, **settings: object) -> rdDistGeom.EmbedParameters:
    params = rdDistGeom.ETKDGv3()
    params.randomSeed = seed
    params.numThreads = 1
    for key, value in settings.items():
        setattr(params, key, value)
    return params


def _embed(mol: Chem.Mol, num: int, params: rdDistGeom.EmbedParameters) -> list[np.ndarray]:
    """Positions ``[N, 3]`` of the embedded conformers whose stereo matches ``mol``'s."""
    work = Chem.Mol(mol)
    with BlockLogs():
        ids = list(rdDistGeom.EmbedMultipleConfs(work, num, params))
    wanted = stereo_labels(mol)
    kept = []
    for cid in ids:
        found = stereo_labels(work, from_3d=True, conf_id=cid)
        if all(found.get(key) == value for key, value in wanted.items()):
            kept.append(work.GetConformer(cid).GetPositions())
    return kept


def _matching_conformers(mol: Chem.Mol, num: int) -> list[np.ndarray]:
    """Positions of up to ``num`` of ``mol``'s own conformers whose 3D stereo matches it."""
    wanted = stereo_labels(mol)
    kept = []
    for conf in list(mol.GetConformers())[:num]:
        found = stereo_labels(mol, from_3d=True, conf_id=conf.GetId())
        if np.isfinite(conf.GetPositions()).all() and all(
            found.get(key) == value for key, value in wanted.items()
        ):
            kept.append(conf.GetPositions())
    return kept


def _fill_by_torsions(mol: Chem.Mol, confs: list[np.ndarray], num: int, seed: int) -> list:
    """Add copies of ``confs`` with uniformly random torsions until there are ``num``."""
    quads = rotatable_bonds(mol)
    masks = rotating_side(mol, quads)
    gen = torch.Generator().manual_seed(seed)
    out = list(confs)
    for k in range(num - len(confs)):
        base = torch.tensor(confs[k % len(confs)], dtype=torch.float64)
        delta = (torch.rand(len(quads), generator=gen, dtype=torch.float64) * 2 - 1) * torch.pi
        out.append(apply_torsion_changes(base, quads, masks, delta).numpy())
    return out


def seed_conformers(mol: Chem.Mol, num: int, seed: int = 0, *, max_attempts: int = 200) -> Chem.Mol:
    """``num`` 3D conformers of ``mol`` (with explicit hydrogens), stereo as in ``mol``.

    Parameters
    ----------
    mol : rdkit.Chem.Mol
        A sanitized molecule, with or without explicit hydrogens (they are added); its
        chiral tags and double-bond stereo are kept. Existing conformers are ignored.
    num : int
        Number of conformers wanted (>= 1).
    seed : int
        Random seed of the embedding and of any random torsions.
    max_attempts : int
        Embedding attempts per conformer in the fallback paths (RDKit ``maxIterations``).

    Returns
    -------
    rdkit.Chem.Mol
        A copy with explicit hydrogens and exactly ``num`` conformers (ids ``0..num-1``,
        Angstrom); ``GetProp("molgen_embed_method")`` names the path used (module docstring).

    Raises
    ------
    InputError
        No path embeds a single conformer with the input's stereo and the input has no
        conformer of its own with that stereo (names the molecule).
    """
    if num < 1:
        raise ValueError(f"num must be at least 1, got {num}")
    name = mol.GetProp("_Name") if mol.HasProp("_Name") else Chem.MolToSmiles(mol)
    given = Chem.AddHs(mol, addCoords=True)
    mol = Chem.Mol(given)
    mol.RemoveAllConformers()
    paths = {
        "etkdg": _params(seed),
        "etkdg_random_coords": _params(seed, useRandomCoords=True, maxIterations=max_attempts),
        "relaxed": _params(
            seed,
            useRandomCoords=True,
            ignoreSmoothingFailures=True,
            boxSizeMult=4.0,
            enforceChirality=False,
            maxIterations=2 * max_attempts,
        ),
    }
    best: tuple[str, list] = ("", [])
    for method, params in paths.items():
        confs = _embed(mol, num, params)
        if len(confs) >= num:
            best = (method, confs[:num])
            break
        if len(confs) > len(best[1]):
            best = (method, confs)
    method, confs = best
    if not confs:
        method, confs = "input_conformer", _matching_conformers(given, num)
    if not confs:
        raise InputError(f"{name}: no 3D conformer could be embedded (ETKDG and fallbacks)")
    if len(confs) < num:
        method, confs = f"{method}+torsions", _fill_by_torsions(mol, confs, num, seed)
    for positions in confs:
        conf = Chem.Conformer(mol.GetNumAtoms())
        for i, (x, y, z) in enumerate(positions.tolist()):
            conf.SetAtomPosition(i, Point3D(x, y, z))
        mol.AddConformer(conf, assignId=True)
    mol.SetProp(_NAME_PROP, method)
    mol.SetProp("_Name", name)
    return mol
