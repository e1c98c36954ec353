r"""Restrained idealisation of backbone covalent geometry (Angstrom).

The score network predicts every residue frame on its own, so consecutive residues of a
sample are joined by peptide bonds that are off by a few tenths of an Angstrom (C-N standard
deviation about 0.28 A against Engh & Huber's 0.023 A), which fails every bond-length and
bond-angle check. :func:`idealize_backbone` moves the N, CA and C atoms to the minimum of

.. math::

    E(x) = \tfrac12 \sum_{(a, b, d_0, s)} \Big(\frac{\|x_a - x_b\| - d_0}{s}\Big)^2
        + \tfrac12 \sum_a \frac{\|x_a - x_a^{in}\|^2}{s_{pos}^2},

with restraint pairs, per residue, N-CA and CA-C (bonds) and N...C (the angle N-CA-C as a
1-3 distance), and per peptide between consecutive present residues, C-N(+1) (bond),
CA...N(+1) and C...CA(+1) (the angles CA-C-N and C-N-CA) and CA...CA(+1) of a planar
peptide, trans (3.82 A) or cis (2.80 A) as the input's :math:`\omega` is nearer 180 or 0
degrees. Targets and widths are Engh & Huber (2001) means and standard deviations
(:mod:`molgen.checks.bonds`); a 1-3 distance :math:`d` across an angle :math:`\gamma` between
bonds :math:`a, b` gets :math:`d_0^2 = a^2 + b^2 - 2ab\cos\gamma` and width
:math:`s = ab\sin\gamma\,s_\gamma / d_0`. The tether to the input, :math:`s_{pos}` = 0.2 A,
keeps the fold and the dihedrals: on sampled chains the atoms move about 0.25 A RMS, bond
outliers vanish and Ramachandran statistics are unchanged. O is then rebuilt in the plane of
CA, C, N(+1) (or, without a successor, at the input's N-CA-C-O dihedral).

Written here because the field's relaxation tools (Rosetta, OpenMM with a force field) need
side chains and hydrogens; this acts on bare, batched, masked backbones and costs a few
seconds per batch. Minimised with L-BFGS in float64.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from molgen.checks.bonds import ENGH_HUBER_ANGLES, ENGH_HUBER_LENGTHS
from molgen.geometry import backbone_oxygens, dihedral

__all__ = ["POSITION_SIGMA", "idealize_backbone", "idealization_energy"]

#: Width of the tether of each atom to its input position (Angstrom).
POSITION_SIGMA = 0.2
#: Width of the CA(i)-CA(i+1) restraint that keeps peptides planar (Angstrom).
CA_CA_SIGMA = 0.05

N, CA, C = 0, 1, 2
_LEN = {name: ENGH_HUBER_LENGTHS[k] for k, name in enumerate(("N-CA", "CA-C", "C=O", "C-N"))}
_ANG = {
    name: ENGH_HUBER_ANGLES[k]
    for k, name in enumerate(("N-CA-C", "CA-C-N", "C-N-CA", "CA-C-O", "O-C-N"))
}


def _across_angle(a: float, b: float, angle: tuple[float, float]) -> tuple[float, float]:
    """1-3 distance and its width for bonds ``a``, ``b`` (A) at ``angle`` (mean, sd; rad)."""
    gamma, sd = float(angle[0]), float(angle[1])
    d = math.sqrt(a * a + b * b - 2 * a * b * math.cos(gamma))
    return d, a * b * math.sin(gamma) * sd / d


def _restraints() -> tuple[list[tuple[int, int, float, float]], ...]:
    """(atom a, atom b, target, width) within a residue and from residue i to i + 1."""
    n_ca, ca_c, c_n = (float(_LEN[k][0]) for k in ("N-CA", "CA-C", "C-N"))
    within = [
        (N, CA, n_ca, float(_LEN["N-CA"][1])),
        (CA, C, ca_c, float(_LEN["CA-C"][1])),
        (N, C, *_across_angle(n_ca, ca_c, _ANG["N-CA-C"])),
    ]
    peptide = [
        (C, N, c_n, float(_LEN["C-N"][1])),
        (CA, N, *_across_angle(ca_c, c_n, _ANG["CA-C-N"])),
        (C, CA, *_across_angle(c_n, n_ca, _ANG["C-N-CA"])),
    ]
    return within, peptide


def _planar_ca_ca(cis: bool) -> float:
    """CA(i)-CA(i+1) distance (A) of a planar peptide with Engh & Huber bonds and angles.

    In the peptide plane with C at the origin and N on the x-axis, CA(i) lies at angle
    CA-C-N from the x-axis, CA(i+1) at 180 deg - C-N-CA from N, on the same side of the C-N
    line as CA(i) when cis, the other side when trans.
    """
    ca_c, c_n, n_ca = (float(_LEN[k][0]) for k in ("CA-C", "C-N", "N-CA"))
    a, b = float(_ANG["CA-C-N"][0]), float(_ANG["C-N-CA"][0])
    side = 1.0 if cis else -1.0
    ca = (ca_c * math.cos(a), ca_c * math.sin(a))
    ca_next = (c_n - n_ca * math.cos(b), side * n_ca * math.sin(b))
    return math.dist(ca, ca_next)


WITHIN, PEPTIDE = _restraints()
TRANS_CA_CA, CIS_CA_CA = _planar_ca_ca(cis=False), _planar_ca_ca(cis=True)


def _distance(p: Tensor, q: Tensor) -> Tensor:
    """Euclidean distance with a finite gradient at coincident points."""
    return ((p - q).square().sum(-1) + 1e-12).sqrt()


def idealization_energy(x: Tensor, start: Tensor, mask: Tensor, ca_ca: Tensor) -> Tensor:
    """:math:`E` per chain ``[B]`` (dimensionless) of N, CA, C atoms ``x [B, L, 3, 3]``.

    ``start`` is the tethered input (same shape, Angstrom), ``mask [B, L]`` the present
    residues, ``ca_ca [B, L-1]`` the CA(i)-CA(i+1) targets (A); peptide terms join
    consecutive present residues only.
    """
    m = mask.to(x.dtype)
    pair = m[:, 1:] * m[:, :-1]  # [B, L-1]
    energy = 0.5 * ((x - start).square().sum((-1, -2)) * m).sum(-1) / POSITION_SIGMA**2
    for a, b, target, width in WITHIN:
        z = (_distance(x[:, :, a], x[:, :, b]) - target) / width
        energy = energy + 0.5 * (z.square() * m).sum(-1)
    for a, b, target, width in PEPTIDE:
        z = (_distance(x[:, :-1, a], x[:, 1:, b]) - target) / width
        energy = energy + 0.5 * (z.square() * pair).sum(-1)
    z = (_distance(x[:, :-1, CA], x[:, 1:, CA]) - ca_ca) / CA_CA_SIGMA
    return energy + 0.5 * (z.square() * pair).sum(-1)


def _peptide_ca_ca(atoms: Tensor) -> Tensor:
    """Target CA(i)-CA(i+1) ``[B, L-1]``: cis where the input's omega is under 90 degrees."""
    omega = dihedral(atoms[:, :-1, CA], atoms[:, :-1, C], atoms[:, 1:, N], atoms[:, 1:, CA])
    cis = omega.abs() < math.pi / 2
    return torch.where(cis, CIS_CA_CA, TRANS_CA_CA).to(atoms.dtype)


def idealize_backbone(atoms: Tensor, mask: Tensor | None = None, max_iter: int = 500) -> Tensor:
    """Backbone ``atoms [B, L, 4, 3]`` (N, CA, C, O; Angstrom) moved to ideal covalent geometry.

    ``mask [B, L]`` marks present residues (default: all); masked residues come back
    unchanged. Returns a tensor of the input's dtype and device (see the module docstring for
    the energy; ``max_iter`` bounds the L-BFGS iterations).
    """
    if mask is None:
        mask = torch.ones(atoms.shape[:2], dtype=torch.bool, device=atoms.device)
    mask = mask.bool()
    keep = mask[..., None, None]
    start = torch.where(keep, atoms, torch.zeros_like(atoms)).double()  # padding may be NaN
    ca_ca = _peptide_ca_ca(start)
    n_ca_c = start[:, :, :3].clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS(
        [n_ca_c], max_iter=max_iter, tolerance_grad=1e-7, tolerance_change=1e-12,
        history_size=20, line_search_fn="strong_wolfe",
    )  # fmt: skip

    def closure() -> Tensor:
        optimizer.zero_grad()
        energy = idealization_energy(n_ca_c, start[:, :, :3], mask, ca_ca).sum()
        energy.backward()
        return energy

    with torch.enable_grad():
        optimizer.step(closure)
    n, ca, c = n_ca_c.detach().unbind(-2)
    psi = dihedral(start[:, :, N], start[:, :, CA], start[:, :, C], start[:, :, 3]) - math.pi
    o = backbone_oxygens(n, ca, c, psi, mask)
    out = torch.stack([n, ca, c, o], dim=-2).to(atoms.dtype)
    return torch.where(keep, out, atoms)
