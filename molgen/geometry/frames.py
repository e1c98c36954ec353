r"""Residue frames from backbone atoms and backbone atoms from frames (Angstrom, radians).

Frame convention: origin at CA, x-axis along CA->C, N in the xy-plane with y > 0,
z = x cross y. The frame :math:`(R, x)` maps local coordinates to the world,
:math:`p_{world} = R\,p_{local} + x`, so the columns of :math:`R` are the local axes.

Ideal local coordinates use Engh & Huber (2001) geometry: N-CA 1.458 A, CA-C 1.525 A,
angle N-CA-C 111.2 deg; C=O 1.231 A, angle CA-C-O 120.5 deg. The carbonyl O is placed
either from :math:`\psi` (dihedral N-CA-C-O = psi + pi, the peptide plane being planar)
or, when the next residue's N is known, in the CA-C-N(next) plane on the far side from N.
"""

from __future__ import annotations

import math

import torch

from molgen.geometry.rigid import apply_rigid

__all__ = [
    "IDEAL_BOND_N_CA",
    "IDEAL_BOND_CA_C",
    "IDEAL_BOND_C_O",
    "IDEAL_ANGLE_N_CA_C",
    "IDEAL_ANGLE_CA_C_O",
    "frames_from_backbone",
    "ideal_local_backbone",
    "backbone_from_frames",
    "backbone_oxygens",
    "place_atom",
    "oxygen_from_next_nitrogen",
    "oxygen_from_psi",
]

IDEAL_BOND_N_CA = 1.458
IDEAL_BOND_CA_C = 1.525
IDEAL_BOND_C_O = 1.231
IDEAL_ANGLE_N_CA_C = math.radians(111.2)
IDEAL_ANGLE_CA_C_O = math.radians(120.5)


def _normalize(v: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    return v / torch.linalg.vector_norm(v, dim=-1, keepdim=True).clamp_min(eps)


def frames_from_backbone(
    n: torch.Tensor, ca: torch.Tensor, c: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Residue frames by Gram-Schmidt on N, CA, C.

    .. math::

        e_1 = \frac{C - CA}{\|C - CA\|},\quad
        e_2 = \frac{u - (u\cdot e_1)e_1}{\|\cdot\|},\; u = N - CA,\quad
        e_3 = e_1 \times e_2,\qquad R = [e_1\, e_2\, e_3],\; x = CA.

    Parameters
    ----------
    n, ca, c : torch.Tensor, shape ``(..., 3)``, Angstrom

    Returns
    -------
    rotation : torch.Tensor, shape ``(..., 3, 3)``
    translation : torch.Tensor, shape ``(..., 3)``, Angstrom (the CA positions)
    """
    e1 = _normalize(c - ca)
    u = n - ca
    e2 = _normalize(u - (u * e1).sum(-1, keepdim=True) * e1)
    e3 = torch.cross(e1, e2, dim=-1)
    return torch.stack([e1, e2, e3], dim=-1), ca


def ideal_local_backbone(dtype: torch.dtype = torch.float32, device=None) -> torch.Tensor:
    """Ideal N, CA, C in the local residue frame, shape ``(3, 3)``, Angstrom."""
    a = IDEAL_ANGLE_N_CA_C
    return torch.tensor(
        [
            [IDEAL_BOND_N_CA * math.cos(a), IDEAL_BOND_N_CA * math.sin(a), 0.0],
            [0.0, 0.0, 0.0],
            [IDEAL_BOND_CA_C, 0.0, 0.0],
        ],
        dtype=dtype,
        device=device,
    )


def place_atom(
    a: torch.Tensor,
    b: torch.Tensor,
    c: torch.Tensor,
    bond: float | torch.Tensor,
    angle: float | torch.Tensor,
    torsion: torch.Tensor,
) -> torch.Tensor:
    r"""Place atom d from a, b, c given |cd| (A), angle b-c-d (rad) and dihedral a-b-c-d (rad).

    Natural-extension reference frame (NeRF): with :math:`\hat{bc}` the unit c - b,
    :math:`n` the unit normal of the a-b-c plane and :math:`m = n \times \hat{bc}`,

    .. math:: d = c + \ell\,(-\cos\theta\,\hat{bc} + \sin\theta\cos\tau\, m
                   + \sin\theta\sin\tau\, n).

    Parameters
    ----------
    a, b, c : torch.Tensor, shape ``(..., 3)``, Angstrom
    bond : float or torch.Tensor ``(...)``, Angstrom
    angle : float or torch.Tensor ``(...)``, radians
    torsion : torch.Tensor, shape ``(...)``, radians

    Returns
    -------
    torch.Tensor, shape ``(..., 3)``
    """
    bc = _normalize(c - b)
    nrm = _normalize(torch.cross(b - a, bc, dim=-1))
    m = torch.cross(nrm, bc, dim=-1)
    angle = torch.as_tensor(angle, dtype=c.dtype, device=c.device)
    bond = torch.as_tensor(bond, dtype=c.dtype, device=c.device)
    direction = (
        -torch.cos(angle)[..., None] * bc
        + (torch.sin(angle) * torch.cos(torsion))[..., None] * m
        + (torch.sin(angle) * torch.sin(torsion))[..., None] * nrm
    )
    return c + bond[..., None] * direction if bond.dim() else c + bond * direction


def oxygen_from_psi(
    n: torch.Tensor, ca: torch.Tensor, c: torch.Tensor, psi: torch.Tensor
) -> torch.Tensor:
    r"""Carbonyl O from the residue's own N, CA, C and :math:`\psi` (radians).

    The peptide plane is planar, so the dihedral N-CA-C-O is :math:`\psi + \pi`; bond C=O
    1.231 A and angle CA-C-O 120.5 deg (Engh & Huber 2001). Inputs ``(..., 3)`` in Angstrom,
    ``psi`` of shape ``(...)``.
    """
    return place_atom(n, ca, c, IDEAL_BOND_C_O, IDEAL_ANGLE_CA_C_O, psi + math.pi)


def oxygen_from_next_nitrogen(
    ca: torch.Tensor, c: torch.Tensor, n_next: torch.Tensor
) -> torch.Tensor:
    r"""Carbonyl O in the plane of CA, C, N(i+1), on the far side of CA-C from N(i+1).

    Placed with angle CA-C-O = 120.5 deg and dihedral N(i+1)-CA-C-O = pi, bond 1.231 A.
    All inputs ``(..., 3)`` in Angstrom.
    """
    torsion = torch.full_like(c[..., 0], math.pi)
    return place_atom(n_next, ca, c, IDEAL_BOND_C_O, IDEAL_ANGLE_CA_C_O, torsion)


def backbone_from_frames(
    rotation: torch.Tensor,
    translation: torch.Tensor,
    psi: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Backbone atoms N, CA, C, O from residue frames.

    N, CA, C are the ideal local coordinates moved by each frame. O is placed from the next
    residue's N (:func:`oxygen_from_next_nitrogen`) wherever that residue is present, and from
    :math:`\psi` (:func:`oxygen_from_psi`) for residues without a successor (the C-terminus,
    or before a masked residue). Without ``psi`` those use psi = 0 (a placeholder);
    pass the predicted or measured psi for a real terminal O.

    Parameters
    ----------
    rotation : torch.Tensor, shape ``(..., L, 3, 3)``
    translation : torch.Tensor, shape ``(..., L, 3)``, Angstrom
    psi : torch.Tensor, shape ``(..., L)``, radians, optional
    mask : torch.Tensor, shape ``(..., L)``, bool, optional
        Residues present.

    Returns
    -------
    atoms : torch.Tensor, shape ``(..., L, 4, 3)``, Angstrom
    """
    local = ideal_local_backbone(rotation.dtype, rotation.device)
    n_ca_c = apply_rigid(rotation, translation, local.expand(*translation.shape[:-1], 3, 3))
    n, ca, c = n_ca_c.unbind(-2)
    o = backbone_oxygens(n, ca, c, psi, mask)
    return torch.stack([n, ca, c, o], dim=-2)


def backbone_oxygens(
    n: torch.Tensor,
    ca: torch.Tensor,
    c: torch.Tensor,
    psi: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Carbonyl O ``(..., L, 3)`` of a chain of N, CA, C atoms ``(..., L, 3)`` (Angstrom).

    From the next residue's N (:func:`oxygen_from_next_nitrogen`) wherever that residue is
    present, from :math:`\psi` ``(..., L)`` (:func:`oxygen_from_psi`, psi = 0 when None)
    for residues without a successor; ``mask (..., L)`` marks present residues.
    """
    if psi is None:
        psi = torch.zeros_like(n[..., 0])
    terminal = oxygen_from_psi(n, ca, c, psi)
    n_next = torch.cat([n[..., 1:, :], n[..., -1:, :]], dim=-2)
    from_next = oxygen_from_next_nitrogen(ca, c, n_next)
    has_next = torch.ones_like(n[..., 0], dtype=torch.bool)
    has_next[..., -1] = False
    if mask is not None:
        m = mask.bool()
        has_next = has_next & m & torch.cat([m[..., 1:], torch.zeros_like(m[..., :1])], -1)
    return torch.where(has_next[..., None], from_next, terminal)
