r"""Restrained idealisation of backbone covalent geometry (Angstrom, radians).

The score network predicts every residue frame on its own, so consecutive residues of a
sample are joined by peptide bonds that are off by tenths of an Angstrom.
:func:`idealize_backbone` moves the N, CA and C atoms to the minimum of

.. math::

    E(x) = \tfrac12 \sum_{(a, b, d_0, s)} \Big(\frac{\|x_a - x_b\| - d_0}{s}\Big)^2
        + \tfrac12 \sum_a \frac{\|x_a - x_a^{in}\|^2}{s_{pos}^2}
        + \sum_{\theta \in \{\phi_i, \psi_i\}} \frac{1 - \cos(\theta - \theta^{in})}{s_\theta^2}
        + \tfrac12 \sum_{|i-j| \ge 3} \sum_{a \in i, b \in j}
          \Big(\frac{\max(0, d_{ab} - \|x_a - x_b\|)}{s_c}\Big)^2
        + \sum_i E_{rama}(\phi_i, \psi_i),

with restraint pairs, per residue, N-CA and CA-C (bonds) and N...C (the angle N-CA-C as a
1-3 distance), and per peptide between consecutive present residues, C-N(+1) (bond),
CA...N(+1), C...CA(+1) and O...N(+1) (the angles CA-C-N, C-N-CA and O-C-N) and CA...CA(+1)
of a planar peptide, cis (2.80 A) where the input's :math:`|\omega|` is under 30 degrees
(the check's cis peptides) and its CA-CA under 3.4 A, trans (3.82 A) otherwise. Targets and
widths are Engh & Huber (2001) means and standard deviations (:mod:`molgen.checks.bonds`); a
1-3 distance :math:`d` across an angle :math:`\gamma` between bonds :math:`a, b` gets
:math:`d_0^2 = a^2 + b^2 - 2ab\cos\gamma` and width :math:`s = ab\sin\gamma\,s_\gamma /
d_0`. The tether to the input (:math:`s_{pos}` = 0.2 A) keeps the fold; the dihedral term
(:math:`s_\theta` = 5 deg) keeps the input's :math:`\phi, \psi` (not across a twisted input
peptide, :math:`|\omega|` 30-150 degrees or a cis-like omega at a trans CA-CA, whose
flanking :math:`\phi, \psi` are artefacts); the last term pushes backbone atoms (N, CA, C
and O, O rebuilt from the current atoms as below) of residues >= 3 apart to at least
:math:`d_{ab} = r_a + r_b - 0.25` A with Bondi radii (N...O pairs 0.6 A closer, for hydrogen
bonds; :func:`molgen.checks.clashes.clash_limits`), :math:`s_c` = 0.05 A, over the residue
pairs among each CA's 16 nearest, found once in the input (CA...CA: 3.15 A). The O...N(+1)
term holds O-C-N, which pushing O would otherwise bend. :math:`E_{rama}`
(:func:`ramachandran_energy`) is zero inside molgen's favoured Ramachandran region and pulls
residues outside it up the PDB density. What each term was measured to do:
the backbone model card (``molgen/weights/backbone/MODEL_CARD.md``, "Sampler settings"). O
is then rebuilt in the plane of CA, C, N(+1) (or, without a successor, at the input's
N-CA-C-O dihedral).

Acts on bare, batched, masked backbones (no side chains or hydrogens needed); minimised with
L-BFGS in float64.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from molgen.checks.backbone import CIS_OMEGA
from molgen.checks.bonds import ENGH_HUBER_ANGLES, ENGH_HUBER_LENGTHS
from molgen.checks.clashes import clash_limits
from molgen.checks.ramachandran import load_ramachandran
from molgen.geometry import (
    backbone_dihedrals,
    backbone_oxygens,
    dihedral,
    ideal_local_backbone,
)
from molgen.sample.restraints import nonlocal_ca_pairs

__all__ = ["POSITION_SIGMA", "DIHEDRAL_SIGMA", "idealize_backbone", "idealization_energy"]

#: Width of the tether of each atom to its input position (Angstrom).
POSITION_SIGMA = 0.2
#: Width of the restraint of phi and psi to their input values (radians).
DIHEDRAL_SIGMA = math.radians(5.0)
#: Non-local backbone atoms a, b are pushed to at least r_a + r_b - CONTACT_OVERLAP apart
#: (Angstrom; N...O pairs the clash check's hydrogen-bond allowance closer), with width
#: CONTACT_SIGMA.
CONTACT_OVERLAP = 0.25
CONTACT_SIGMA = 0.05
#: Free residues this close in sequence to a fixed one are tethered JUNCTION_TETHER times
#: as strongly as the others (the joints of a placed motif).
JUNCTION_REACH = 4
JUNCTION_TETHER = 0.02
#: An input peptide is cis only with a CA(i)-CA(i+1) under this (Angstrom; val chains' cis
#: peptides: 2.73-3.33 A, trans 3.8 A).
CIS_CA_CA_LIMIT = 3.4
#: Width of the CA(i)-CA(i+1) restraint that keeps peptides planar (Angstrom).
CA_CA_SIGMA = 0.05
#: Ramachandran term: residues whose log density (molgen's PDB map) lies below the favoured
#: region's threshold plus RAMA_MARGIN are pulled up it with width RAMA_SIGMA (log units).
RAMA_MARGIN = 0.5
RAMA_SIGMA = 0.2

N, CA, C, O = 0, 1, 2, 3
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
    n_ca, ca_c, c_o, c_n = (float(_LEN[k][0]) for k in ("N-CA", "CA-C", "C=O", "C-N"))
    within = [
        (N, CA, n_ca, float(_LEN["N-CA"][1])),
        (CA, C, ca_c, float(_LEN["CA-C"][1])),
        (N, C, *_across_angle(n_ca, ca_c, _ANG["N-CA-C"])),
    ]
    peptide = [
        (C, N, c_n, float(_LEN["C-N"][1])),
        (CA, N, *_across_angle(ca_c, c_n, _ANG["CA-C-N"])),
        (C, CA, *_across_angle(c_n, n_ca, _ANG["C-N-CA"])),
        (O, N, *_across_angle(c_o, c_n, _ANG["O-C-N"])),
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


def _phi_psi(x: Tensor) -> tuple[Tensor, Tensor]:
    """phi of residues 1.. and psi of residues ..L-2, each ``[B, L-1]`` (radians).

    The undefined (NaN) ends of :func:`molgen.geometry.backbone_dihedrals` are cut off, so
    the energy and its gradient stay finite.
    """
    phi, psi, _ = backbone_dihedrals(x)
    return phi[:, 1:], psi[:, :-1]


@dataclass
class _Targets:
    """What the energy holds the atoms to, all taken from the input once."""

    start: Tensor  # N, CA, C [B, L, 3, 3], Angstrom
    mask: Tensor  # [B, L] bool
    ca_ca: Tensor  # [B, L-1], Angstrom
    phi: Tensor  # [B, L-1], radians
    psi: Tensor  # [B, L-1], radians
    terminal_psi: Tensor  # [B, L] psi placing O of residues without a successor, radians
    pairs: Tensor  # [2, P] non-local residue pairs into the flattened B * L residues
    contact: Tensor  # [4, 4] closest allowed N, CA, C, O distances across a pair, Angstrom
    filler: Tensor  # [L, 3, 3] stand-in atoms for masked residues, Angstrom
    turn_weight: Tensor | None = None  # [B, L-1] weight of each peptide's phi/psi terms
    fixed_o: Tensor | None = None  # [B, L, 3] O of fixed residues (NaN-free), Angstrom
    fixed: Tensor | None = None  # [B, L] bool, residues whose atoms do not move
    tether: Tensor | None = None  # [B, L] weight of each residue's position tether


def _targets(start: Tensor, mask: Tensor) -> _Targets:
    """Targets of the masked input ``start [B, L, 4, 3]`` (padding already replaced)."""
    length = start.shape[1]
    step = torch.tensor([TRANS_CA_CA, 0.0, 0.0], dtype=start.dtype, device=start.device)
    local = ideal_local_backbone(start.dtype, start.device)
    filler = (
        local + torch.arange(length, dtype=start.dtype, device=start.device)[:, None, None] * step
    )
    start = torch.where(mask[..., None, None], start, torch.cat([filler, filler[:, 2:]], 1))
    phi, psi = _phi_psi(start)
    terminal_psi = dihedral(start[:, :, N], start[:, :, CA], start[:, :, C], start[:, :, O])
    pairs = nonlocal_ca_pairs(start[:, :, CA], mask)
    contact = torch.as_tensor(clash_limits(CONTACT_OVERLAP), dtype=start.dtype, device=start.device)
    ca_ca, planar = _peptide_targets(start)
    return _Targets(
        start[:, :, :3], mask, ca_ca, phi, psi, terminal_psi - math.pi, pairs, contact, filler,
        planar.to(start.dtype),
    )  # fmt: skip


def _with_oxygens(x: Tensor, targets: _Targets) -> Tensor:
    """N, CA, C ``[B, L, 3, 3]`` plus O rebuilt from them ``[B, L, 4, 3]`` (Angstrom)."""
    n, ca, c = x.unbind(-2)
    o = backbone_oxygens(n, ca, c, targets.terminal_psi, targets.mask)
    if targets.fixed is not None:
        o = torch.where(targets.fixed[..., None], targets.fixed_o, o)
    return torch.cat([x, o[..., None, :]], dim=-2)


def idealization_energy(x: Tensor, targets: _Targets) -> Tensor:
    """:math:`E` (dimensionless, summed over the batch) of N, CA, C atoms ``x [B, L, 3, 3]``.

    Peptide and dihedral terms join consecutive present residues only.
    """
    # Masked residues sit on a straight filler chain, so no term sees coincident atoms (whose
    # NaN gradients would survive multiplication by the zero mask).
    x = torch.where(targets.mask[..., None, None], x, targets.filler)
    m = targets.mask.to(x.dtype)
    pair = m[:, 1:] * m[:, :-1]  # [B, L-1]
    tether = m if targets.tether is None else m * targets.tether
    energy = 0.5 * ((x - targets.start).square().sum((-1, -2)) * tether).sum() / POSITION_SIGMA**2
    for a, b, target, width in WITHIN:
        z = (_distance(x[:, :, a], x[:, :, b]) - target) / width
        energy = energy + 0.5 * (z.square() * m).sum()
    atoms = _with_oxygens(x, targets)  # [B, L, 4, 3]
    for a, b, target, width in PEPTIDE:
        z = (_distance(atoms[:, :-1, a], atoms[:, 1:, b]) - target) / width
        energy = energy + 0.5 * (z.square() * pair).sum()
    z = (_distance(x[:, :-1, CA], x[:, 1:, CA]) - targets.ca_ca) / CA_CA_SIGMA
    energy = energy + 0.5 * (z.square() * pair).sum()
    phi, psi = _phi_psi(x)
    turn = (1 - torch.cos(phi - targets.phi)) + (1 - torch.cos(psi - targets.psi))
    if targets.turn_weight is not None:
        turn = turn * targets.turn_weight
    energy = energy + (turn * pair).sum() / DIHEDRAL_SIGMA**2
    # Residues 1..L-2 with both neighbours present: phi[:, :-1] and psi[:, 1:] are theirs.
    inner = pair[:, :-1] * pair[:, 1:]
    energy = energy + (ramachandran_energy(phi[:, :-1], psi[:, 1:]) * inner).sum()
    atoms = atoms.reshape(-1, 4, 3)
    i, j = targets.pairs
    distance = _distance(atoms[i][:, :, None], atoms[j][:, None, :])  # [P, 4, 4]
    overlap = (targets.contact - distance).clamp_min(0.0) / CONTACT_SIGMA
    return energy + 0.5 * overlap.square().sum()


@functools.lru_cache(maxsize=1)
def _log_ramachandran() -> tuple[np.ndarray, float]:
    """Log of the shipped Ramachandran density (floored) and the favoured level in log units."""
    density, thresholds = load_ramachandran()
    return np.log(np.maximum(density.astype(np.float64), 1e-12)), float(np.log(thresholds[0]))


def _catmull_rom(f: Tensor) -> Tensor:
    """Weights ``[..., 4]`` of the grid values at offsets -1, 0, 1, 2 for a point at fraction
    ``f`` in [0, 1) past offset 0 (Catmull-Rom: interpolating, continuous slope)."""
    f2, f3 = f * f, f * f * f
    return torch.stack(
        [(-f3 + 2 * f2 - f) / 2, (3 * f3 - 5 * f2 + 2) / 2, (-3 * f3 + 4 * f2 + f) / 2,
         (f3 - f2) / 2],
        dim=-1,
    )  # fmt: skip


def ramachandran_energy(phi: Tensor, psi: Tensor) -> Tensor:
    r"""Flat-bottomed Ramachandran term per residue (same shape as ``phi``, ``psi``; radians).

    :math:`\tfrac12 \max(0, \ell^* - \ell(\phi, \psi))^2 / s^2` with :math:`\ell` the log of
    the shipped density (:mod:`molgen.checks.ramachandran`), interpolated between bin centres
    on the periodic grid by Catmull-Rom splines (so the gradient is continuous),
    :math:`\ell^*` the favoured threshold's log plus ``RAMA_MARGIN`` and :math:`s` =
    ``RAMA_SIGMA``: zero well inside the favoured region, a pull up the density outside it.
    """
    grid, level = _log_ramachandran()
    table = torch.as_tensor(grid, dtype=phi.dtype, device=phi.device)
    n = table.shape[0]
    u = (phi + math.pi) / (2 * math.pi) * n - 0.5  # bin k's centre sits at u = k
    v = (psi + math.pi) / (2 * math.pi) * n - 0.5
    u0, v0 = torch.floor(u), torch.floor(v)
    wu, wv = _catmull_rom(u - u0), _catmull_rom(v - v0)  # [..., 4] each
    i, j = u0.long(), v0.long()
    log_density = torch.zeros_like(phi)
    for a in range(4):
        for b in range(4):
            value = table[(i + a - 1) % n, (j + b - 1) % n]
            log_density = log_density + wu[..., a] * wv[..., b] * value
    gap = (level + RAMA_MARGIN - log_density).clamp_min(0.0)
    return 0.5 * gap.square() / RAMA_SIGMA**2


def _peptide_targets(atoms: Tensor) -> tuple[Tensor, Tensor]:
    r"""Target CA(i)-CA(i+1) ``[B, L-1]`` and whether each input peptide is planar (bool).

    Cis where the input peptide is one: :math:`|\omega|` under the check's ``CIS_OMEGA``
    (30 degrees) and CA-CA under ``CIS_CA_CA_LIMIT``; trans otherwise. Planar: cis, or
    :math:`|\omega|` within ``CIS_OMEGA`` of 180 degrees. A sample's other peptides are
    twisted (:math:`|\omega|` 30-150 degrees, or a cis-like omega at a trans CA-CA); their
    flanking phi/psi are artefacts, and held they stop the peptide short of planar, at a CA-CA
    near 3.0-3.4 A that the check reads as a too-short trans peptide."""
    _, _, omega = backbone_dihedrals(atoms)
    size = omega[:, :-1].abs()
    ca_ca = _distance(atoms[:, :-1, CA], atoms[:, 1:, CA])
    cis = (size < CIS_OMEGA) & (ca_ca < CIS_CA_CA_LIMIT)
    planar = cis | (size > math.pi - CIS_OMEGA)
    return torch.where(cis, CIS_CA_CA, TRANS_CA_CA).to(atoms.dtype), planar


def _within(flags: Tensor, reach: int) -> Tensor:
    """Bool ``[B, L]``: residues within ``reach`` in sequence of a flagged one."""
    pooled = torch.nn.functional.max_pool1d(
        flags[:, None].double(), 2 * reach + 1, stride=1, padding=reach
    )
    return pooled[:, 0].bool()


def _touching(start: Tensor, targets: _Targets, fixed: Tensor) -> Tensor:
    """Bool ``[B, L]``: free residues with a backbone atom closer to a fixed residue's than
    the contact term allows (in the input ``start [B, L, 4, 3]``)."""
    atoms = start.reshape(-1, 4, 3)
    i, j = targets.pairs
    distance = _distance(atoms[i][:, :, None], atoms[j][:, None, :])  # [P, 4, 4]
    close = (distance < targets.contact).flatten(1).any(-1)  # [P]
    flat = fixed.reshape(-1)
    out = torch.zeros_like(flat)
    out[i[close & flat[j] & ~flat[i]]] = True
    out[j[close & flat[i] & ~flat[j]]] = True
    return out.reshape(fixed.shape)


def idealize_backbone(
    atoms: Tensor,
    mask: Tensor | None = None,
    max_iter: int = 500,
    fixed: Tensor | None = None,
) -> Tensor:
    """Backbone ``atoms [B, L, 4, 3]`` (N, CA, C, O; Angstrom) moved to ideal geometry.

    ``mask [B, L]`` marks present residues (default: all); masked residues come back
    unchanged. ``fixed [B, L]`` (bool, optional) marks residues whose four atoms do not move
    (a motif): they enter the energy as constants, so their neighbours adapt to them, and
    they come back exactly as given; peptides between a fixed and a free residue are
    restrained as trans, without the phi/psi restraint, and the free residues within
    ``JUNCTION_REACH`` of a fixed one are tethered ``JUNCTION_TETHER`` times as weakly, so
    the strain of joining spreads over them; so are free residues within 2 of one whose atoms
    come closer to a fixed residue's than the contact term allows, so that the contact term
    can move them out. Returns a tensor of the input's dtype and device (see
    the module docstring for the energy; ``max_iter`` bounds the L-BFGS iterations).
    """
    if mask is None:
        mask = torch.ones(atoms.shape[:2], dtype=torch.bool, device=atoms.device)
    mask = mask.bool()
    keep = mask[..., None, None]
    start = torch.where(keep, atoms, torch.zeros_like(atoms)).double()  # padding may be NaN
    targets = _targets(start, mask)
    held = None
    if fixed is not None:
        fixed = fixed.bool() & mask
        held = fixed[..., None, None]  # [B, L, 1, 1]
        # A peptide joining a fixed residue to a free one is trans, and its phi/psi are free:
        # its input geometry is an artifact of placing the fixed atoms.
        junction = fixed[:, 1:] ^ fixed[:, :-1]
        targets.ca_ca = torch.where(junction, TRANS_CA_CA, targets.ca_ca)
        targets.turn_weight = targets.turn_weight * (~junction).to(start.dtype)
        targets.fixed, targets.fixed_o = fixed, start[:, :, O]
        near = _within(fixed, JUNCTION_REACH) | _within(_touching(start, targets, fixed), 2)
        near &= ~fixed
        targets.tether = torch.where(near, JUNCTION_TETHER, 1.0).to(start.dtype)
        # Peptides touching those residues keep their phi/psi as weakly as they are tethered.
        loose = near[:, 1:] | near[:, :-1]
        turn = torch.where(loose, JUNCTION_TETHER, 1.0).to(start.dtype)
        targets.turn_weight = targets.turn_weight * turn
    n_ca_c = start[:, :, :3].clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS(
        [n_ca_c], max_iter=max_iter, tolerance_grad=1e-7, tolerance_change=1e-12,
        history_size=20, line_search_fn="strong_wolfe",
    )  # fmt: skip

    def current() -> Tensor:
        if held is None:
            return n_ca_c
        return torch.where(held, start[:, :, :3], n_ca_c)

    def closure() -> Tensor:
        optimizer.zero_grad()
        energy = idealization_energy(current(), targets)
        energy.backward()
        return energy

    with torch.enable_grad():
        optimizer.step(closure)
    out = _with_oxygens(current().detach(), targets)
    if held is not None:
        out = torch.where(held, start, out)
    out = out.to(atoms.dtype)
    return torch.where(keep, out, atoms)
