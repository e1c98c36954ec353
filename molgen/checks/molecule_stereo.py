"""Is the stereochemistry of a conformer the one of a reference molecule?

Stereo of the conformer is perceived from its coordinates (RDKit
``AssignStereochemistryFrom3D``); stereo of the reference is the one recorded in it (from
SMILES tags, or from 3D when it was read from a 3D file). Only the stereo elements the
reference specifies (tetrahedral centres, E/Z double bonds) are compared: the conformer's
heavy-atom graph is mapped onto the reference's by graph matching (atom order may differ),
the conformer's stereo is cleared everywhere except on the images of the specified elements,
and the two canonical isomeric SMILES must be equal. Canonical SMILES rather than CIP labels:
RDKit's fast (legacy) CIP ranking can label one centre differently in two embeddings of the
same molecule, and CIP labels miss stereo without a label (cis/trans-1,4-cyclohexanes).
Symmetric molecules have several mappings; the stereo is preserved when one of them gives
equal SMILES (so a meso compound matches its mirror image).
"""

from __future__ import annotations

from dataclasses import dataclass

from rdkit import Chem

__all__ = [
    "StereoTarget",
    "matches_target",
    "specified_stereo",
    "stereo_preserved",
    "stereo_target",
]

_MAX_MAPPINGS = 1000
_UNSET_BOND = (Chem.BondStereo.STEREONONE, Chem.BondStereo.STEREOANY)


def specified_stereo(mol: Chem.Mol) -> tuple[set[int], set[tuple[int, int]]]:
    """Stereo elements a molecule specifies.

    Parameters
    ----------
    mol : rdkit.Chem.Mol
        Molecule whose stereo has been assigned (``AssignStereochemistry``).

    Returns
    -------
    centres : set of int
        Atoms with a tetrahedral tag.
    double_bonds : set of tuple of int
        Sorted (begin, end) atom pairs of double bonds with E/Z (or cis/trans) stereo.
    """
    centres = {
        a.GetIdx() for a in mol.GetAtoms() if a.GetChiralTag() != Chem.ChiralType.CHI_UNSPECIFIED
    }
    bonds = {
        tuple(sorted((b.GetBeginAtomIdx(), b.GetEndAtomIdx())))
        for b in mol.GetBonds()
        if b.GetStereo() not in _UNSET_BOND
    }
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


def _restricted_smiles(probe: Chem.Mol, centres: set[int], bonds: set[tuple[int, int]]) -> str:
    """Canonical SMILES of ``probe`` keeping stereo only on the given atoms and bonds."""
    probe = Chem.Mol(probe)
    for atom in probe.GetAtoms():
        if atom.GetIdx() not in centres:
            atom.SetChiralTag(Chem.ChiralType.CHI_UNSPECIFIED)
    for bond in probe.GetBonds():
        if tuple(sorted((bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()))) not in bonds:
            bond.SetStereo(Chem.BondStereo.STEREONONE)
    Chem.AssignStereochemistry(probe, cleanIt=True, force=True)
    return Chem.MolToSmiles(probe)


@dataclass(frozen=True)
class StereoTarget:
    """The reference side of :func:`stereo_preserved`, computed once per reference."""

    mol: Chem.Mol  # heavy atoms, recorded stereo assigned
    centres: frozenset[int]
    bonds: frozenset[tuple[int, int]]
    smiles: str  # canonical isomeric SMILES of ``mol``


def stereo_target(reference: Chem.Mol) -> StereoTarget:
    """:class:`StereoTarget` of ``reference`` (its recorded stereo is the target)."""
    target = _heavy_with_stereo(reference, None)
    centres, bonds = specified_stereo(target)
    return StereoTarget(target, frozenset(centres), frozenset(bonds), Chem.MolToSmiles(target))


def stereo_preserved(mol: Chem.Mol, conf_id: int, reference: Chem.Mol) -> bool:
    """Whether conformer ``conf_id`` of ``mol`` has the stereo ``reference`` specifies.

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
    return matches_target(mol, conf_id, stereo_target(reference))


def matches_target(mol: Chem.Mol, conf_id: int, target: StereoTarget) -> bool:
    """:func:`stereo_preserved` against a precomputed :func:`stereo_target`."""
    probe = _heavy_with_stereo(mol, conf_id)
    if probe.GetNumAtoms() != target.mol.GetNumAtoms():
        return False
    mappings = probe.GetSubstructMatches(target.mol, uniquify=False, maxMatches=_MAX_MAPPINGS)
    tried = set()
    for mapping in mappings:
        images = (
            frozenset(mapping[i] for i in target.centres),
            frozenset(tuple(sorted((mapping[i], mapping[j]))) for i, j in target.bonds),
        )
        if images in tried:
            continue
        tried.add(images)
        if _restricted_smiles(probe, set(images[0]), set(images[1])) == target.smiles:
            return True
    return False
