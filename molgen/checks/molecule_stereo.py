"""Is the stereochemistry of a conformer the one of a reference molecule?

Stereo of the conformer is perceived from its coordinates (RDKit
``AssignStereochemistryFrom3D``); stereo of the reference is the one recorded in it (from
SMILES tags, or from 3D when it was read from a 3D file). Both are compared as CIP labels
(R/S on atoms, E/Z on double bonds) on heavy-atom graphs, through an atom mapping found by
graph matching, so the atom order of the two molecules may differ. Only stereo elements the
reference specifies are compared. Symmetric molecules have several mappings; the stereo is
preserved when one mapping reproduces every label (a meso compound matches its mirror image).
"""

from __future__ import annotations

from rdkit import Chem

__all__ = ["stereo_labels", "stereo_preserved"]

_MAX_MAPPINGS = 1000


def stereo_labels(mol: Chem.Mol) -> tuple[dict[int, str], dict[tuple[int, int], str]]:
    """CIP labels of the stereo elements a molecule specifies.

    Parameters
    ----------
    mol : rdkit.Chem.Mol
        Sanitised molecule whose stereo has been assigned.

    Returns
    -------
    centres : dict
        Atom index -> "R" or "S".
    double_bonds : dict
        (begin, end) atom indices, sorted -> "E" or "Z".
    """
    centres = dict(Chem.FindMolChiralCenters(mol, includeUnassigned=False))
    bonds = {}
    for bond in mol.GetBonds():
        label = {Chem.BondStereo.STEREOE: "E", Chem.BondStereo.STEREOZ: "Z"}.get(bond.GetStereo())
        if label is not None:
            bonds[tuple(sorted((bond.GetBeginAtomIdx(), bond.GetEndAtomIdx())))] = label
    return centres, bonds


def _heavy_with_stereo(mol: Chem.Mol, conf_id: int | None) -> Chem.Mol:
    mol = Chem.Mol(mol)
    Chem.SanitizeMol(mol)
    if conf_id is None:
        Chem.AssignStereochemistry(mol, cleanIt=True, force=True)
    else:
        Chem.AssignStereochemistryFrom3D(mol, confId=conf_id)
    mol = Chem.RemoveHs(mol, sanitize=False)
    Chem.AssignStereochemistry(mol, cleanIt=True, force=True)
    return mol


def stereo_preserved(mol: Chem.Mol, conf_id: int, reference: Chem.Mol) -> bool:
    """Whether conformer ``conf_id`` of ``mol`` has every stereo label ``reference`` specifies.

    Parameters
    ----------
    mol : rdkit.Chem.Mol
        Sanitisable molecule with a conformer ``conf_id``.
    conf_id : int
        Conformer whose coordinates define the stereo.
    reference : rdkit.Chem.Mol
        The intended molecule; its recorded stereo is the target.

    Returns
    -------
    bool
        False also when the two heavy-atom graphs are not the same molecule.
    """
    probe = _heavy_with_stereo(mol, conf_id)
    target = _heavy_with_stereo(reference, None)
    centres, bonds = stereo_labels(target)
    if probe.GetNumAtoms() != target.GetNumAtoms():
        return False
    mappings = probe.GetSubstructMatches(target, uniquify=False, maxMatches=_MAX_MAPPINGS)
    if not mappings:
        return False
    if not centres and not bonds:
        return True
    probe_centres, probe_bonds = stereo_labels(probe)
    for mapping in mappings:
        if all(probe_centres.get(mapping[i]) == label for i, label in centres.items()) and all(
            probe_bonds.get(tuple(sorted((mapping[i], mapping[j])))) == label
            for (i, j), label in bonds.items()
        ):
            return True
    return False
