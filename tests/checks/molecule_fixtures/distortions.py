"""Real molecules and deliberately distorted copies for the molecule-check tests.

Every distortion returns a new molecule (the input is never changed) or None when the
molecule has no site for it. Lengths in Angstrom, angles in radians.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rdkit import Chem
from rdkit.Chem import AllChem
from scipy.spatial.transform import Rotation

FIXTURES = Path(__file__).resolve().parent


def read_smiles() -> list[tuple[str, str]]:
    """(SMILES, name) pairs of ``smiles.txt``."""
    lines = (FIXTURES / "smiles.txt").read_text().splitlines()
    return [tuple(line.split()[:2]) for line in lines if line and not line.startswith("#")]


def embed(smiles: str, seed: int = 42, num_confs: int = 1) -> Chem.Mol:
    """ETKDG conformer(s) of a SMILES with explicit hydrogens (fixed seed)."""
    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    params = AllChem.ETKDGv3()
    params.randomSeed = seed
    ids = AllChem.EmbedMultipleConfs(mol, num_confs, params)
    assert len(ids) == num_confs, smiles
    return mol


def read_sdf(path: Path) -> list[Chem.Mol]:
    return [m for m in Chem.SDMolSupplier(str(path), removeHs=False) if m is not None]


def with_positions(mol: Chem.Mol, positions: np.ndarray) -> Chem.Mol:
    """Copy of ``mol`` with a single conformer at ``positions`` (N, 3)."""
    out = Chem.Mol(mol)
    out.RemoveAllConformers()
    conf = Chem.Conformer(mol.GetNumAtoms())
    for i, p in enumerate(np.asarray(positions, dtype=float)):
        conf.SetAtomPosition(i, p.tolist())
    conf.Set3D(True)
    out.AddConformer(conf, assignId=True)
    return out


def side_atoms(mol: Chem.Mol, i: int, j: int) -> list[int] | None:
    """Atoms reached from j without crossing bond i-j (None when i-j is in a ring)."""
    if mol.GetBondBetweenAtoms(i, j).IsInRing():
        return None
    seen, stack = {j}, [j]
    while stack:
        for nb in mol.GetAtomWithIdx(stack.pop()).GetNeighbors():
            k = nb.GetIdx()
            if k != i and k not in seen:
                seen.add(k)
                stack.append(k)
    return sorted(seen)


def _rotate(x: np.ndarray, atoms: list[int], centre: np.ndarray, rotvec: np.ndarray) -> None:
    rot = Rotation.from_rotvec(np.asarray(rotvec, dtype=float)).as_matrix()
    x[atoms] = (x[atoms] - centre) @ rot.T + centre


def _heavy_chain_bonds(mol: Chem.Mol) -> list[tuple[int, int]]:
    """Non-ring bonds between two heavy atoms, as (begin, end) pairs."""
    out = []
    for b in mol.GetBonds():
        i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
        if (
            not b.IsInRing()
            and b.GetBeginAtom().GetAtomicNum() > 1
            and b.GetEndAtom().GetAtomicNum() > 1
        ):
            out.append((i, j))
    return out


def stretch_bond(mol: Chem.Mol, factor: float = 1.4, pick: int = 0) -> Chem.Mol | None:
    """Lengthen a non-ring heavy-atom bond by ``factor`` moving one side rigidly."""
    bonds = _heavy_chain_bonds(mol)
    if not bonds:
        return None
    i, j = bonds[pick % len(bonds)]
    x = mol.GetConformer().GetPositions()
    x[side_atoms(mol, i, j)] += (factor - 1.0) * (x[j] - x[i])
    return with_positions(mol, x)


def bend_angle(mol: Chem.Mol, angle: float = 0.9, pick: int = 0) -> Chem.Mol | None:
    """Rotate one side of a non-ring heavy bond i-j about i, closing the angle k-i-j (k heavy)."""

    def heavy_partner(i: int, j: int) -> int | None:
        nbs = mol.GetAtomWithIdx(i).GetNeighbors()
        return next((n.GetIdx() for n in nbs if n.GetIdx() != j and n.GetAtomicNum() > 1), None)

    sites = [(i, j, heavy_partner(i, j)) for i, j in _heavy_chain_bonds(mol)]
    sites = [site for site in sites if site[2] is not None]
    if not sites:
        return None
    i, j, k = sites[pick % len(sites)]
    x = mol.GetConformer().GetPositions()
    axis = np.cross(x[k] - x[i], x[j] - x[i])
    axis = axis / np.linalg.norm(axis)
    _rotate(x, side_atoms(mol, i, j), x[i], -angle * axis)
    return with_positions(mol, x)


def twist_torsion(mol: Chem.Mol, i: int, j: int, angle: float) -> Chem.Mol:
    """Rotate the j side of non-ring bond i-j by ``angle`` about the bond axis."""
    x = mol.GetConformer().GetPositions()
    axis = (x[j] - x[i]) / np.linalg.norm(x[j] - x[i])
    _rotate(x, side_atoms(mol, i, j), x[j], angle * axis)
    return with_positions(mol, x)


def fold_to_clash(mol: Chem.Mol) -> Chem.Mol | None:
    """Torsion scan (30 deg steps) over non-ring single bonds: the copy whose closest heavy-atom
    pair at >= 4 bonds apart is closest. Bond lengths and bond angles are untouched."""
    topo = Chem.GetDistanceMatrix(mol)
    heavy = np.array([a.GetAtomicNum() > 1 for a in mol.GetAtoms()])
    far = (topo >= 4) & heavy[:, None] & heavy[None, :]
    if not far.any():
        return None
    best, best_d = None, np.inf
    for i, j in _heavy_chain_bonds(mol):
        bond = mol.GetBondBetweenAtoms(i, j)
        if (
            bond.GetBondType() != Chem.BondType.SINGLE
            or min(mol.GetAtomWithIdx(i).GetDegree(), mol.GetAtomWithIdx(j).GetDegree()) == 1
        ):
            continue
        for step in range(1, 12):
            cand = twist_torsion(mol, i, j, step * np.pi / 6)
            x = cand.GetConformer().GetPositions()
            d = np.linalg.norm(x[:, None] - x[None], axis=-1)[far].min()
            if d < best_d:
                best, best_d = cand, d
    return best


def pucker_ring(mol: Chem.Mol, amplitude: float = 0.4) -> Chem.Mol | None:
    """Move the atoms of the first aromatic ring alternately +-amplitude along its normal,
    each with the substituents it carries outside the ring."""
    rings = [r for r in mol.GetRingInfo().AtomRings() if mol.GetAtomWithIdx(r[0]).GetIsAromatic()]
    if not rings:
        return None
    ring = list(rings[0])
    x = mol.GetConformer().GetPositions()
    centred = x[ring] - x[ring].mean(axis=0)
    normal = np.linalg.svd(centred)[2][-1]
    y = x.copy()
    for k, a in enumerate(ring):
        moving = [a]
        for nb in mol.GetAtomWithIdx(a).GetNeighbors():
            side = side_atoms(mol, a, nb.GetIdx())
            if side is not None:
                moving += side
        y[moving] += (1 if k % 2 == 0 else -1) * amplitude * normal
    return with_positions(mol, y)


def twist_double_bond(mol: Chem.Mol, angle: float = np.pi / 2) -> Chem.Mol | None:
    """Rotate one end of a non-ring C=C about the bond."""
    for b in mol.GetBonds():
        if b.GetBondType() == Chem.BondType.DOUBLE and not b.IsInRing():
            i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
            if b.GetBeginAtom().GetSymbol() == b.GetEndAtom().GetSymbol() == "C":
                return twist_torsion(mol, i, j, angle)
    return None


def mirror(mol: Chem.Mol) -> Chem.Mol:
    """Mirror image (x -> -x): inverts every stereocentre, keeps E/Z and all distances."""
    x = mol.GetConformer().GetPositions()
    x[:, 0] *= -1
    return with_positions(mol, x)


def break_valence(mol: Chem.Mol) -> Chem.Mol | None:
    """Unsanitisable copy: a +1 charge on a carbon with four neighbours (C+ allows three)."""
    for atom in mol.GetAtoms():
        if atom.GetSymbol() == "C" and atom.GetDegree() == 4:
            out = Chem.Mol(mol)
            out.GetAtomWithIdx(atom.GetIdx()).SetFormalCharge(1)
            return out
    return None
