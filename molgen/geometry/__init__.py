"""Geometry: SO(3), rigid transforms, residue frames, dihedrals, superposition.

Lengths in Angstrom, angles in radians. Batched torch, differentiable, float32 and float64.
"""

from molgen.geometry.dihedrals import backbone_dihedrals, dihedral
from molgen.geometry.frames import (
    backbone_from_frames,
    backbone_oxygens,
    frames_from_backbone,
    ideal_local_backbone,
    oxygen_from_next_nitrogen,
    oxygen_from_psi,
    place_atom,
)
from molgen.geometry.rigid import (
    Frames,
    apply_rigid,
    center,
    compose_rigid,
    invert_apply_rigid,
    invert_rigid,
)
from molgen.geometry.so3 import (
    geodesic_distance,
    hat,
    matrix_to_rotvec,
    random_rotation,
    rotation_angle,
    rotvec_to_matrix,
    vee,
)
from molgen.geometry.superposition import kabsch, rmsd, superimpose
from molgen.geometry.torsions import (
    apply_torsion_changes,
    is_rotatable_bond,
    rotatable_bonds,
    rotating_side,
    set_torsions,
    torsion_angles,
)

__all__ = [
    "Frames",
    "apply_rigid",
    "apply_torsion_changes",
    "is_rotatable_bond",
    "rotatable_bonds",
    "rotating_side",
    "set_torsions",
    "torsion_angles",
    "backbone_dihedrals",
    "backbone_from_frames",
    "backbone_oxygens",
    "center",
    "compose_rigid",
    "dihedral",
    "frames_from_backbone",
    "geodesic_distance",
    "hat",
    "ideal_local_backbone",
    "invert_apply_rigid",
    "invert_rigid",
    "kabsch",
    "matrix_to_rotvec",
    "oxygen_from_next_nitrogen",
    "oxygen_from_psi",
    "place_atom",
    "random_rotation",
    "rmsd",
    "rotation_angle",
    "rotvec_to_matrix",
    "superimpose",
    "vee",
]
