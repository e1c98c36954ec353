r"""Dihedral angles and backbone torsions :math:`\varphi, \psi, \omega` (radians).

The dihedral of four points :math:`p_0, p_1, p_2, p_3` follows the IUPAC sign convention
(positive for a clockwise rotation of the front bond when viewed along :math:`p_1 \to p_2`):

.. math::

    b_1 = p_1 - p_0,\; b_2 = p_2 - p_1,\; b_3 = p_3 - p_2,\quad
    \theta = \mathrm{atan2}\big(\|b_2\|\, b_1\cdot(b_2\times b_3),\;
                                (b_1\times b_2)\cdot(b_2\times b_3)\big).
"""

from __future__ import annotations

import torch

__all__ = ["dihedral", "backbone_dihedrals"]


def dihedral(
    p0: torch.Tensor, p1: torch.Tensor, p2: torch.Tensor, p3: torch.Tensor
) -> torch.Tensor:
    r"""Dihedral angle in :math:`(-\pi, \pi]` (radians) of points ``(..., 3)`` (Angstrom).

    Examples
    --------
    >>> p = torch.tensor([[1.0, 0, 0], [0, 0, 0], [0, 0, 1], [0, 1, 1]])
    >>> float(dihedral(*p))  # a right-handed quarter turn: +90 degrees
    1.5707963705062866
    """
    b1, b2, b3 = p1 - p0, p2 - p1, p3 - p2
    n1 = torch.cross(b1, b2, dim=-1)
    n2 = torch.cross(b2, b3, dim=-1)
    y = torch.linalg.vector_norm(b2, dim=-1) * (b1 * n2).sum(-1)
    x = (n1 * n2).sum(-1)
    return torch.atan2(y, x)


def backbone_dihedrals(
    atoms: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Backbone torsions of chains: :math:`\varphi_i, \psi_i, \omega_i` in radians.

    .. math::

        \varphi_i = \angle(C_{i-1}, N_i, CA_i, C_i),\quad
        \psi_i = \angle(N_i, CA_i, C_i, N_{i+1}),\quad
        \omega_i = \angle(CA_i, C_i, N_{i+1}, CA_{i+1})

    (:math:`\omega_i` is the peptide bond *after* residue i, as in mdtraj's ``compute_omega``.)

    Parameters
    ----------
    atoms : torch.Tensor, shape ``(..., L, 4, 3)`` or ``(..., L, 3+, 3)``
        Backbone atoms N, CA, C(, O) in Angstrom.
    mask : torch.Tensor, shape ``(..., L)``, bool, optional
        Residues present. An angle that needs a missing residue is NaN.

    Returns
    -------
    phi, psi, omega : torch.Tensor, each shape ``(..., L)``
        NaN where undefined: ``phi[..., 0]``, ``psi[..., -1]`` and ``omega[..., -1]``.
    """
    n, ca, c = atoms[..., 0, :], atoms[..., 1, :], atoms[..., 2, :]
    nan = torch.full_like(n[..., :1, 0], float("nan"))
    n_prev, ca_prev, c_prev = n[..., :-1, :], ca[..., :-1, :], c[..., :-1, :]
    n_next, ca_next, c_next = n[..., 1:, :], ca[..., 1:, :], c[..., 1:, :]
    phi = torch.cat([nan, dihedral(c_prev, n_next, ca_next, c_next)], -1)
    psi = torch.cat([dihedral(n_prev, ca_prev, c_prev, n_next), nan], -1)
    omega = torch.cat([dihedral(ca_prev, c_prev, n_next, ca_next), nan], -1)
    if mask is not None:
        m = mask.bool()
        pair = m[..., 1:] & m[..., :-1]
        false = torch.zeros_like(m[..., :1])
        prev_ok = torch.cat([false, pair], -1)
        next_ok = torch.cat([pair, false], -1)
        phi = torch.where(prev_ok, phi, torch.nan)
        psi = torch.where(next_ok, psi, torch.nan)
        omega = torch.where(next_ok, omega, torch.nan)
    return phi, psi, omega
