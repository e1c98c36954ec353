r"""Strand pairing of a blueprint: which residues of which strands face each other in a sheet.

Residue level (what the backbone network reads). Every strand residue :math:`i` (blueprint
``E``) has at most ``MAX_PARTNERS`` partners: the strand residues :math:`j` with
:math:`|i - j| \ge` ``MIN_SEPARATION`` and CA-CA distance at most ``PAIR_CA_CUTOFF``
(Angstrom), nearest first. Across a beta ladder paired CA atoms are 4.4-5.5 Angstrom apart and
their diagonal neighbours 5.5-7 Angstrom, so the cutoff picks the register. Partners are stored
as ``int64 [L, MAX_PARTNERS]`` positions, ``-1`` where there is none. (DSSP's bridge partners
would be the textbook definition; mdtraj's DSSP reports letters only, so the CA criterion is
computed here.)

Element level (what a user or a drawn blueprint gives). Strand elements (maximal runs of ``E``)
are numbered from 0 in sequence order; a pairing is a list of ``(a, b, parallel)``. Residues of
a paired element pair are matched centre to centre: antiparallel :math:`a_0 + u \leftrightarrow
b_1 - u - \delta`, parallel :math:`a_0 + u \leftrightarrow b_0 + u + \delta`, with
:math:`\delta = \lfloor(n_b - n_a)/2\rceil` from the element lengths :math:`n`, within both
elements. Without a pairing, :func:`rule_pairing` pairs each strand with the next one:
antiparallel when no helix lies between them (a hairpin or meander), parallel across a helix
(the right-handed beta-alpha-beta crossover). A user writes a pairing as tokens ``1-2A``
(strands numbered from 1 in sequence order; ``A`` antiparallel, ``P`` parallel), read by
:func:`parse_pairing`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import groupby

import numpy as np

__all__ = [
    "MAX_PARTNERS",
    "Pairing",
    "element_pairing",
    "parse_pairing",
    "partners_from_pairing",
    "rule_pairing",
    "strand_elements",
    "strand_owner",
    "strand_partners",
]

PAIR_CA_CUTOFF = 5.5
MIN_SEPARATION = 3
MAX_PARTNERS = 2

Pairing = list[tuple[int, int, bool]]


def strand_elements(blueprint: str) -> list[tuple[int, int]]:
    """``(start, end)`` (inclusive) of each maximal run of ``E``, in sequence order.

    >>> strand_elements("LEEELLEEL")
    [(1, 3), (6, 7)]
    """
    out, pos = [], 0
    for letter, group in groupby(blueprint):
        n = len(list(group))
        if letter == "E":
            out.append((pos, pos + n - 1))
        pos += n
    return out


def strand_owner(blueprint: str) -> np.ndarray:
    """Strand element of each residue, ``int [L]``, -1 outside strands.

    >>> strand_owner("LEELE").tolist()
    [-1, 0, 0, -1, 1]
    """
    owner = np.full(len(blueprint), -1)
    for k, (start, end) in enumerate(strand_elements(blueprint)):
        owner[start : end + 1] = k
    return owner


def strand_partners(ca: np.ndarray, blueprint: str) -> np.ndarray:
    """Residue partners ``int64 [L, MAX_PARTNERS]`` of a chain's CA positions ``[L, 3]``
    (Angstrom) and its blueprint (module docstring); ``-1`` where none. Non-finite CA atoms
    pair with nothing."""
    length = len(blueprint)
    partners = np.full((length, MAX_PARTNERS), -1, dtype=np.int64)
    strand = np.flatnonzero(np.frombuffer(blueprint.encode("ascii"), np.uint8) == ord("E"))
    strand = strand[np.isfinite(ca[strand]).all(-1)]
    if len(strand) < 2:
        return partners
    d = np.linalg.norm(ca[strand][:, None] - ca[strand][None], axis=-1)  # [S, S]
    far = np.abs(strand[:, None] - strand[None]) >= MIN_SEPARATION
    d = np.where(far & (d <= PAIR_CA_CUTOFF), d, np.inf)
    order = np.argsort(d, axis=1, kind="stable")[:, :MAX_PARTNERS]  # [S, P]
    found = np.isfinite(np.take_along_axis(d, order, axis=1))
    partners[strand] = np.where(found, strand[order], -1)
    return partners


def element_pairing(blueprint: str, partners: np.ndarray) -> Pairing:
    """Element pairs ``(a, b, parallel)`` with ``a < b`` of residue ``partners`` (the strand
    elements with at least two residue pairs between them; parallel when the partner index
    rises along ``a``: a positive covariance of the residue pairs' indices, computed in integers
    so that a tie (one residue of ``b`` against several of ``a``) is antiparallel on every
    platform rather than the sign of a least-squares slope's round-off)."""
    owner = strand_owner(blueprint)
    links: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for i, row in enumerate(partners):
        for j in row[row >= 0]:
            a, b = owner[i], owner[j]
            if a >= 0 and b >= 0 and a < b:
                links.setdefault((int(a), int(b)), []).append((i, int(j)))
    pairing = []
    for (a, b), pairs in sorted(links.items()):
        if len(pairs) >= 2:
            i, j = np.array(pairs, dtype=np.int64).T
            covariance = len(i) * int(i @ j) - int(i.sum()) * int(j.sum())  # n^2 cov(i, j)
            pairing.append((a, b, covariance > 0))
    return pairing


_TOKEN = re.compile(r"^(\d+)-(\d+)([AP])$")


def parse_pairing(tokens: Sequence[str], blueprint: str) -> Pairing:
    """The pairing written as ``1-2A`` / ``2-3P`` tokens for ``blueprint`` (0-based elements).

    >>> parse_pairing(["1-2a", "3-2P"], "LEEELLEEELHHHLEEEL")
    [(0, 1, False), (1, 2, True)]

    Raises
    ------
    ValueError
        Naming the first token that is malformed, names a strand the blueprint lacks, pairs a
        strand with itself or repeats a pair.
    """
    count = len(strand_elements(blueprint))
    pairing: Pairing = []
    for token in tokens:
        match = _TOKEN.match(token.upper())
        if match is None:
            raise ValueError(f"strand pair {token!r} is not like 1-2A (antiparallel) or 1-2P")
        a, b = sorted((int(match[1]) - 1, int(match[2]) - 1))
        if a == b or a < 0 or b >= count:
            raise ValueError(f"strand pair {token!r}: the blueprint has strands 1-{count}")
        if any((a, b) == (x, y) for x, y, _ in pairing):
            raise ValueError(f"strand pair {token!r} is given twice")
        pairing.append((a, b, match[3] == "P"))
    return sorted(pairing)


def rule_pairing(blueprint: str) -> Pairing:
    """Each strand element with the next: antiparallel unless a helix lies between them.

    >>> rule_pairing("LEEEELLEEEELLHHHHHHLLEEEEL")
    [(0, 1, False), (1, 2, True)]
    """
    elements = strand_elements(blueprint)
    pairs = []
    for k in range(len(elements) - 1):
        between = blueprint[elements[k][1] + 1 : elements[k + 1][0]]
        pairs.append((k, k + 1, "H" in between))
    return pairs


def partners_from_pairing(blueprint: str, pairing: Sequence[tuple[int, int, bool]]) -> np.ndarray:
    """Residue partners ``int64 [L, MAX_PARTNERS]`` of an element pairing, matched centre to
    centre (module docstring); a residue keeps its first ``MAX_PARTNERS`` partners.

    >>> partners_from_pairing("EEELLEEE", [(0, 1, False)])[:, 0].tolist()
    [7, 6, 5, -1, -1, 2, 1, 0]
    """
    elements = strand_elements(blueprint)
    partners = np.full((len(blueprint), MAX_PARTNERS), -1, dtype=np.int64)
    count = np.zeros(len(blueprint), dtype=np.int64)

    def link(i: int, j: int) -> None:
        for u, v in ((i, j), (j, i)):
            if count[u] < MAX_PARTNERS:
                partners[u, count[u]], count[u] = v, count[u] + 1

    for a, b, parallel in pairing:
        if not (0 <= a < len(elements) and 0 <= b < len(elements)) or a == b:
            raise ValueError(f"no strand pair ({a}, {b}) among {len(elements)} strands")
        (a0, a1), (b0, b1) = elements[a], elements[b]
        shift = int(round(((b1 - b0) - (a1 - a0)) / 2))
        for u in range(a1 - a0 + 1):
            j = b0 + u + shift if parallel else b1 - u - shift
            if b0 <= j <= b1 and abs(j - (a0 + u)) >= MIN_SEPARATION:
                link(a0 + u, j)
    return partners
