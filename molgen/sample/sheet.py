r"""Ideal beta-sheets built from a blueprint and its strand pairing, for sheet-first sampling.

The backbone network alone does not close beta ladders (model card, "What limits it"), but it
scaffolds a fixed motif well (motif scaffolding by replacement, :mod:`molgen.sample.motif`).
Sheet-first sampling therefore builds the blueprint's sheet as ideal geometry and lets the
network generate everything else around it, as a motif.

**Strands.** Each strand element is an ideal chain (Engh & Huber bonds and angles, trans
peptides) at the mean beta dihedrals: :math:`(\phi, \psi) = (-139^\circ, 135^\circ)` in
antiparallel sheets, :math:`(-119^\circ, 113^\circ)` where the strand has a parallel
partner (Richardson 1981). In its canonical pose the strand axis (through the midpoints of
consecutive CA atoms) is :math:`+y`, the CA zig-zag (the pleat, normal to the sheet) is
:math:`\pm z`, and the midpoints' centroid is at the origin.

**Sheet.** The element pairing is a graph over strands; a sheet is one connected component,
laid out as a path (a strand with more than two partners, or a barrel's closing pair, loses
its extra pairs). Strands are placed one after the other at increasing :math:`x`, each against
the previous one: its direction is the previous one's (parallel pair) or reversed (antiparallel;
a half-turn about :math:`z`), optionally turned over its axis (a half-turn about :math:`y`,
which swaps the pleat), and moved by :math:`(\Delta x, \Delta y, \Delta z)` on a grid. The
placement minimises the DSSP hydrogen-bond energy (Kabsch & Sander 1983) between the two
strands, plus a register term :math:`\sum \max(0, |d_{ij} - 5\,\text{A}| - 0.6\,\text{A})^2`
over the CA distances of the residue pairs the pairing asks for (:func:`register_pairs`),
plus the idealisation's contact term on backbone atoms of the two strands
(:mod:`molgen.sample.idealize`) and a like term keeping virtual C-beta atoms
(:func:`virtual_cb`) ``CB_CONTACT`` apart. The sheet is flat (no twist): the network
scaffolds it as it stands.

Written here because no library builds sheets from a topology (Rosetta's blueprint builder and
TopoBuilder do this job with fragment assembly, outside Python packaging).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from molgen.checks.bonds import ENGH_HUBER_ANGLES, ENGH_HUBER_LENGTHS, IDEAL_CA_CA
from molgen.checks.clashes import clash_limits, virtual_cb
from molgen.geometry import backbone_oxygens, place_atom
from molgen.io.strand_pairing import strand_elements
from molgen.sample.idealize import CONTACT_OVERLAP

__all__ = [
    "IdealSheet",
    "build_sheet",
    "ideal_strand",
    "register_pairs",
    "sheet_order",
    "virtual_cb",
]

ANTIPARALLEL_PHI_PSI = (-139.0, 135.0)
PARALLEL_PHI_PSI = (-119.0, 113.0)
#: CA-CA distance of paired residues the register term aims for, and its slack, Angstrom
#: (across antiparallel ladders 4.5 A between non-bonded pairs, 5.5 A between bonded ones).
PAIR_CA, PAIR_CA_SLACK = 5.0, 0.6
#: Shortest strand (residues) built into a sheet; shorter E runs are left to the network.
MIN_STRAND = 3
#: Longest loop (residues between the strands) of a hairpin matched at its ends.
HAIRPIN_LOOP = 5
#: Largest CA distance between consecutive strands' facing ends, as a fraction of the fully
#: extended loop (3.8 A per peptide), that the loop is trusted to span.
LOOP_REACH = 0.7
#: Closest C-beta distance across two strands (Angstrom): between the 1st (3.6 A) and 5th
#: (4.0 A) percentiles over strand residue pairs of 48 val chains. Without it the grid packs
#: the non-bonded pairs of antiparallel ladders at 3.3 A (model card, "Session 26").
CB_CONTACT = 3.8
#: DSSP's q1 q2 f: 0.42 e * 0.20 e * 332 (kcal/mol) Angstrom (Kabsch & Sander 1983).
DSSP_COUPLING = 0.084 * 332.0

_N_CA, _CA_C, _C_O, _C_N = (float(v) for v in ENGH_HUBER_LENGTHS[:, 0])
_N_CA_C, _CA_C_N, _C_N_CA = (float(v) for v in ENGH_HUBER_ANGLES[:3, 0])


def ideal_strand(length: int, parallel: bool) -> np.ndarray:
    """Backbone atoms ``(length, 4, 3)`` (N, CA, C, O; Angstrom) of an ideal beta strand in
    its canonical pose (module docstring); the last O is placed from psi."""
    phi, psi = (math.radians(a) for a in (PARALLEL_PHI_PSI if parallel else ANTIPARALLEL_PHI_PSI))
    t = torch.float64
    n = torch.tensor([_N_CA * math.cos(_N_CA_C), _N_CA * math.sin(_N_CA_C), 0.0], dtype=t)
    ca = torch.zeros(3, dtype=t)
    c = torch.tensor([_CA_C, 0.0, 0.0], dtype=t)
    chain = [(n, ca, c)]
    for _ in range(length - 1):
        n_prev, ca_prev, c_prev = chain[-1]
        n = place_atom(n_prev, ca_prev, c_prev, _C_N, _CA_C_N, torch.tensor(psi, dtype=t))
        ca = place_atom(ca_prev, c_prev, n, _N_CA, _C_N_CA, torch.tensor(math.pi, dtype=t))
        c = place_atom(c_prev, n, ca, _CA_C, _N_CA_C, torch.tensor(phi, dtype=t))
        chain.append((n, ca, c))
    n, ca, c = (torch.stack(atoms) for atoms in zip(*chain, strict=True))
    o = backbone_oxygens(n, ca, c, torch.full((length,), psi, dtype=t))
    atoms = torch.stack([n, ca, c, o], dim=1).numpy()
    return _canonical(atoms)


def _canonical(atoms: np.ndarray) -> np.ndarray:
    """``atoms`` moved so that the strand axis is +y, the pleat +-z and the centre 0."""
    ca = atoms[:, 1]
    mid = (ca[1:] + ca[:-1]) / 2 if len(ca) > 1 else ca
    axis = mid[-1] - mid[0] if len(mid) > 1 else np.array([0.0, 1.0, 0.0])
    axis /= np.linalg.norm(axis)
    centre = mid.mean(0)
    offset = ca - centre
    offset -= np.outer(offset @ axis, axis)
    pleat = ((-1.0) ** np.arange(len(ca)))[:, None] * offset
    normal = pleat.sum(0)
    normal -= (normal @ axis) * axis
    if np.linalg.norm(normal) < 1e-6:
        normal = np.cross(axis, [1.0, 0.0, 0.0])
    normal /= np.linalg.norm(normal)
    basis = np.stack([np.cross(axis, normal), axis, normal])  # rows: x, y, z
    return (atoms - centre) @ basis.T


def sheet_order(pairing: Sequence[tuple[int, int, bool]]) -> list[list[int]]:
    """Strand elements of each sheet in their order across the sheet, largest sheet first.

    Pairs that would give a strand a third partner, or close a cycle, are dropped first come
    first served (pairs in the order given).

    >>> sheet_order([(0, 1, False), (1, 2, False), (0, 3, True)])
    [[2, 1, 0, 3]]
    """
    neighbours: dict[int, list[int]] = {}
    root: dict[int, int] = {}

    def find(a: int) -> int:
        while root.setdefault(a, a) != a:
            a = root[a]
        return a

    for a, b, _ in pairing:
        if len(neighbours.get(a, [])) >= 2 or len(neighbours.get(b, [])) >= 2:
            continue
        if find(a) == find(b):
            continue
        root[find(a)] = find(b)
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    sheets, seen = [], set()
    for start in sorted(neighbours):
        if start in seen or len(neighbours[start]) != 1:
            continue
        path = [start]
        while True:
            nxt = [k for k in neighbours[path[-1]] if k not in path]
            if not nxt:
                break
            path.append(nxt[0])
        seen.update(path)
        sheets.append(path)
    return sorted(sheets, key=len, reverse=True)


def register_pairs(blueprint: str, a: int, b: int, parallel: bool) -> list[tuple[int, int]]:
    """Residue pairs ``(i, j)`` (0-based positions, ``i`` in strand ``a``, ``j`` in ``b``)
    that face each other across the ladder of strand elements ``a`` and ``b``.

    A hairpin (antiparallel, ``b`` right after ``a`` with at most ``HAIRPIN_LOOP`` loop
    residues) is matched at its loop: the last residue of ``a`` with the first of ``b``, as in
    2:2 and 3:5 hairpins. Other pairs are matched centre to centre, as
    :func:`molgen.io.strand_pairing.partners_from_pairing` does.

    >>> register_pairs("LEEEELLEEEL", 0, 1, False)
    [(2, 9), (3, 8), (4, 7)]
    """
    elements = strand_elements(blueprint)
    (a0, a1), (b0, b1) = elements[a], elements[b]
    if not parallel and b == a + 1 and b0 - a1 - 1 <= HAIRPIN_LOOP:
        pairs = [(a1 - u, b0 + u) for u in range(min(a1 - a0, b1 - b0) + 1)]
        return sorted((i, j) for i, j in pairs if j - i >= 3)
    shift = int(round(((b1 - b0) - (a1 - a0)) / 2))
    pairs = []
    for u in range(a1 - a0 + 1):
        j = b0 + u + shift if parallel else b1 - u - shift
        if b0 <= j <= b1:
            pairs.append((a0 + u, j))
    return pairs


def _turn(direction: int, flip: bool) -> np.ndarray:
    """Half-turns: about z when ``direction`` is -1 (reverses the strand), then about y when
    ``flip`` (turns the strand over its axis)."""
    rz = np.diag([-1.0, -1.0, 1.0]) if direction < 0 else np.eye(3)
    ry = np.diag([-1.0, 1.0, -1.0]) if flip else np.eye(3)
    return ry @ rz


def _hydrogens(atoms: np.ndarray) -> np.ndarray:
    """Amide H ``(..., n, 3)`` 1 A from N opposite the previous C=O; NaN for the first."""
    back = atoms[..., :-1, 2, :] - atoms[..., :-1, 3, :]
    back /= np.linalg.norm(back, axis=-1, keepdims=True)
    h = np.full(atoms[..., 0, :].shape, np.nan)
    h[..., 1:, :] = atoms[..., 1:, 0, :] + back
    return h


def _hbond_energy(acceptor: np.ndarray, donor: np.ndarray) -> np.ndarray:
    """DSSP energy (kcal/mol, capped at -3 per bond, NaN-free) summed over every C=O of
    ``acceptor (..., n, 4, 3)`` and N-H of ``donor (..., m, 4, 3)``."""
    c, o = acceptor[..., :, None, 2, :], acceptor[..., :, None, 3, :]
    n, h = donor[..., None, :, 0, :], _hydrogens(donor)[..., None, :, :]

    def inv(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        return 1.0 / np.maximum(np.linalg.norm(p - q, axis=-1), 0.5)

    energy = DSSP_COUPLING * (inv(o, n) + inv(c, h) - inv(o, h) - inv(c, n))
    energy = np.nan_to_num(energy, nan=0.0)
    return np.maximum(energy, -3.0).sum((-1, -2))


@dataclass(frozen=True)
class IdealSheet:
    """A built sheet: 0-based ``positions`` of its residues in the chain (sorted) and their
    ``atoms (M, 4, 3)`` (N, CA, C, O; Angstrom); ``energy`` is the DSSP hydrogen-bond energy
    between neighbouring strands (kcal/mol, summed)."""

    positions: tuple[int, ...]
    atoms: np.ndarray
    energy: float


_DX = np.arange(4.2, 5.61, 0.2)
_DZ = np.arange(-1.5, 1.51, 0.5)
_DY = 2.5  # Angstrom either side of the register's shift along the strands
#: Closest allowed N, CA, C, O distances across strands (Angstrom): the idealisation's.
_CONTACT = clash_limits(CONTACT_OVERLAP)[None, None, None]


def _place(
    fixed: np.ndarray, strand: np.ndarray, x0: float, pairs: list[tuple[int, int]]
) -> tuple[np.ndarray, float, float]:
    """The grid placement of ``strand`` (already turned) beside ``fixed`` (module docstring);
    ``pairs`` index rows of ``fixed`` and ``strand``. Returns atoms, H-bond energy and score."""
    i, j = (np.array(k) for k in zip(*pairs, strict=True))
    dy0 = float(np.mean(fixed[i, 1, 1] - strand[j, 1, 1]))  # the register, give or take
    dy = dy0 + np.arange(-_DY, _DY + 1e-9, 0.25)
    grid = np.stack(np.meshgrid(_DX + x0, dy, _DZ, indexing="ij"), -1).reshape(-1, 3)
    moved = strand[None] + grid[:, None, None, :]  # [G, n, 4, 3]
    energy = _hbond_energy(fixed[None], moved) + _hbond_energy(moved, fixed[None])
    d = np.linalg.norm(fixed[None, i, 1] - moved[:, j, 1], axis=-1)  # [G, P]
    register = (np.clip(np.abs(d - PAIR_CA) - PAIR_CA_SLACK, 0.0, None) ** 2).sum(-1)
    heavy = np.linalg.norm(fixed[None, :, None, :, None] - moved[:, None, :, None], axis=-1)
    contact = (np.clip(_CONTACT - heavy, 0.0, None) ** 2).sum((1, 2, 3, 4))
    cb = np.linalg.norm(virtual_cb(fixed)[None, :, None] - virtual_cb(moved)[:, None], axis=-1)
    contact = contact + (np.clip(CB_CONTACT - cb, 0.0, None) ** 2).sum((1, 2))
    score = energy + register + 10.0 * contact
    best = int(np.argmin(score))
    return moved[best], float(energy[best]), float(score[best])


def _lay_out(
    blueprint: str, order: list[int], kind: dict[frozenset, bool]
) -> tuple[dict[int, np.ndarray], float]:
    """Atoms of each strand of one sheet, ``order`` across it, and the summed H-bond energy."""
    elements = strand_elements(blueprint)
    parallel_strand = {k: False for k in order}
    for u, v in zip(order[:-1], order[1:], strict=True):
        if kind[frozenset((u, v))]:
            parallel_strand[u] = parallel_strand[v] = True
    placed: dict[int, np.ndarray] = {}
    direction, x, total = 1, 0.0, 0.0
    for step, k in enumerate(order):
        start, end = elements[k]
        strand = ideal_strand(end - start + 1, parallel_strand[k])
        if step == 0:
            placed[k] = strand
            continue
        prev = order[step - 1]
        parallel = kind[frozenset((prev, k))]
        if not parallel:
            direction = -direction
        a, b = sorted((prev, k))
        pairs = register_pairs(blueprint, a, b, parallel)
        if a != prev:
            pairs = [(j, i) for i, j in pairs]
        rows = [(i - elements[prev][0], j - start) for i, j in pairs]
        found = [_place(placed[prev], strand @ _turn(direction, flip).T, x, rows)
                 for flip in (False, True)]  # fmt: skip
        placed[k], energy, _ = min(found, key=lambda f: f[2])
        total += energy
        x = float(placed[k][:, 1, 0].mean())
    return placed, total


def _overstretched(blueprint: str, placed: dict[int, np.ndarray]) -> tuple[int, int] | None:
    """The first two strands, consecutive in sequence among the placed ones, whose ends are
    too far apart for the residues between them: CA distance above ``LOOP_REACH`` times the
    fully extended span, 3.8 A per peptide."""
    elements = strand_elements(blueprint)
    strands = sorted(placed)
    for u, w in zip(strands[:-1], strands[1:], strict=True):
        peptides = elements[w][0] - elements[u][1]
        gap = np.linalg.norm(placed[u][-1, 1] - placed[w][0, 1])
        if gap > LOOP_REACH * IDEAL_CA_CA * peptides:
            return u, w
    return None


def build_sheet(blueprint: str, pairing: Sequence[tuple[int, int, bool]]) -> IdealSheet | None:
    """The largest sheet of ``blueprint`` under ``pairing`` (element pairs ``(a, b,
    parallel)``), built ideally (module docstring); ``None`` when no two strands of at least
    ``MIN_STRAND`` residues pair.

    Strands whose connecting loop could not span the gap the layout leaves between them are
    dropped, one at a time (of the two, the one whose removal keeps more sheet residues), and
    the sheet is laid out again.
    """
    elements = strand_elements(blueprint)
    size = [end - start + 1 for start, end in elements]
    usable = [
        (a, b, p)
        for a, b, p in pairing
        if min(size[a], size[b]) >= MIN_STRAND and register_pairs(blueprint, a, b, p)
    ]
    kind = {frozenset((a, b)): p for a, b, p in usable}
    dropped: set[int] = set()
    while True:
        kept = [(a, b, p) for a, b, p in usable if a not in dropped and b not in dropped]
        orders = sheet_order(kept)
        if not orders:
            return None
        placed, total = _lay_out(blueprint, orders[0], kind)
        clash = _overstretched(blueprint, placed)
        if clash is None:
            break
        options = []
        for strand in clash:
            rest = [(a, b, p) for a, b, p in kept if strand not in (a, b)]
            left = sheet_order(rest)
            options.append((sum(size[k] for k in left[0]) if left else 0, strand))
        dropped.add(max(options)[1])
    positions, atoms = [], []
    for k in sorted(placed):
        start, end = elements[k]
        positions.extend(range(start, end + 1))
        atoms.append(placed[k])
    atoms = np.concatenate(atoms)
    return IdealSheet(tuple(positions), atoms - atoms[:, 1].mean(0), total)
