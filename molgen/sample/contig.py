"""Motif-scaffolding contigs in RFdiffusion's syntax, parsed once and checked against the motif.

A contig is segments joined by ``/``, in chain order (N to C terminus):

- ``A24-42`` (or ``A24``): motif residues 24 to 42 of chain A of the motif file, in author
  numbering, kept in the written order (segments may come from several chains);
- ``10-25`` (or ``10``): a scaffold segment whose length is drawn per sample, uniformly in
  the range (0 allowed, e.g. ``0-5``).

For example ``10-25/A24-42/5-15/A60-68/10-25``. :meth:`Contig.draw_lengths` draws scaffold
lengths whose total (with the motif) lies in a length range; :meth:`Contig.layout` gives the
1-based output positions of every motif segment. Bad contigs and motif residues missing from
the file raise :class:`~molgen.errors.InputError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from molgen.errors import InputError
from molgen.io.structure import Protein

__all__ = ["Contig", "Motif", "MotifSegment", "ScaffoldSegment", "extract_motif"]

_MOTIF = re.compile(r"^([A-Za-z0-9])(-?\d+)(?:-(-?\d+))?$")
_SCAFFOLD = re.compile(r"^(\d+)(?:-(\d+))?$")
MAX_DRAWS = 10_000


@dataclass(frozen=True)
class MotifSegment:
    """Residues ``start..end`` (author numbers, inclusive) of chain ``chain``."""

    chain: str
    start: int
    end: int

    def __len__(self) -> int:
        return self.end - self.start + 1

    def __str__(self) -> str:
        return f"{self.chain}{self.start}-{self.end}"


@dataclass(frozen=True)
class ScaffoldSegment:
    """A generated segment of ``min_length..max_length`` residues."""

    min_length: int
    max_length: int

    def __str__(self) -> str:
        return f"{self.min_length}-{self.max_length}"


@dataclass(frozen=True)
class Contig:
    """Parsed contig: its segments in chain order (see the module docstring)."""

    segments: tuple[MotifSegment | ScaffoldSegment, ...]

    @classmethod
    def parse(cls, text: str) -> Contig:
        """Parse ``text``; raises InputError naming the bad segment (source ``--contig``).

        >>> Contig.parse("10-25/A24-42/5").motif_length
        19
        """
        segments: list[MotifSegment | ScaffoldSegment] = []
        parts = [p.strip() for p in str(text).strip().split("/")]
        for part in parts:
            scaffold, motif = _SCAFFOLD.match(part), _MOTIF.match(part)
            if scaffold:
                lo = int(scaffold[1])
                hi = int(scaffold[2]) if scaffold[2] is not None else lo
                if hi < lo:
                    raise InputError(f"scaffold range {part!r} ends before it starts", "--contig")
                segments.append(ScaffoldSegment(lo, hi))
            elif motif:
                start = int(motif[2])
                end = int(motif[3]) if motif[3] is not None else start
                if end < start:
                    raise InputError(f"motif range {part!r} ends before it starts", "--contig")
                segments.append(MotifSegment(motif[1], start, end))
            else:
                raise InputError(
                    f"bad segment {part!r} (expected e.g. A24-42 for motif residues or 10-25 "
                    "for a scaffold segment, joined by /)",
                    "--contig",
                )
        if not any(isinstance(s, MotifSegment) for s in segments):
            raise InputError("the contig names no motif residues (e.g. A24-42)", "--contig")
        return cls(tuple(segments))

    def __str__(self) -> str:
        return "/".join(str(s) for s in self.segments)

    @property
    def motif_segments(self) -> list[MotifSegment]:
        return [s for s in self.segments if isinstance(s, MotifSegment)]

    @property
    def motif_length(self) -> int:
        return sum(len(s) for s in self.motif_segments)

    def length_bounds(self) -> tuple[int, int]:
        """Smallest and largest total length the scaffold ranges allow (residues)."""
        scaffolds = [s for s in self.segments if isinstance(s, ScaffoldSegment)]
        lo = self.motif_length + sum(s.min_length for s in scaffolds)
        return lo, self.motif_length + sum(s.max_length for s in scaffolds)

    def draw_lengths(
        self, rng: np.random.Generator, length_range: tuple[int, int] | None = None
    ) -> list[int]:
        """Scaffold segment lengths (one per scaffold segment, in order), each uniform in its
        range, redrawn until the total lies in ``length_range`` (inclusive).

        Raises
        ------
        InputError
            When no choice of lengths gives a total in ``length_range``.
        """
        lo, hi = self.length_bounds()
        want_lo, want_hi = length_range or (lo, hi)
        if hi < want_lo or lo > want_hi:
            raise InputError(
                f"the contig allows {lo}-{hi} residues, outside --length {want_lo}-{want_hi}",
                "--contig",
            )
        ranges = [(s.min_length, s.max_length) for s in self.segments
                  if isinstance(s, ScaffoldSegment)]  # fmt: skip
        for _ in range(MAX_DRAWS):
            lengths = [int(rng.integers(a, b + 1)) for a, b in ranges]
            if want_lo <= self.motif_length + sum(lengths) <= want_hi:
                return lengths
        # A narrow window: grow the minimal lengths one residue at a time at random.
        lengths = [a for a, _ in ranges]
        target = int(rng.integers(max(lo, want_lo), min(hi, want_hi) + 1))
        while self.motif_length + sum(lengths) < target:
            room = [k for k, (_, b) in enumerate(ranges) if lengths[k] < b]
            lengths[int(rng.choice(room))] += 1
        return lengths

    def layout(self, scaffold_lengths: list[int]) -> list[tuple[int, int]]:
        """1-based inclusive output positions ``(first, last)`` of each motif segment."""
        lengths = iter(scaffold_lengths)
        position, spans = 1, []
        for segment in self.segments:
            if isinstance(segment, ScaffoldSegment):
                position += next(lengths)
            else:
                spans.append((position, position + len(segment) - 1))
                position += len(segment)
        return spans


@dataclass(frozen=True)
class Motif:
    """The motif residues of a contig, in contig order: ``atoms`` ``(M, 4, 3)`` (N, CA, C, O,
    Angstrom), one-letter ``sequence``, and for each residue its chain and author number."""

    atoms: np.ndarray
    sequence: str
    chains: tuple[str, ...]
    numbers: tuple[int, ...]


def extract_motif(proteins: list[Protein], contig: Contig, source: str) -> Motif:
    """The contig's motif residues from the chains of a motif file.

    Raises
    ------
    InputError
        A chain not in the file, a residue number missing, ambiguous (insertion codes) or
        without all four backbone atoms, naming ``source`` (the motif file).
    """
    by_chain = {p.chain_id: p for p in proteins}
    atoms, letters, chains, numbers = [], [], [], []
    for segment in contig.motif_segments:
        protein = by_chain.get(segment.chain)
        if protein is None:
            have = ", ".join(by_chain) or "none"
            raise InputError(f"motif chain {segment.chain} not in the file (chains: {have})",
                             source)  # fmt: skip
        for number in range(segment.start, segment.end + 1):
            rows = np.flatnonzero(protein.residue_numbers == number)
            where = f"motif residue {segment.chain}{number}"
            if rows.size == 0:
                raise InputError(f"{where} is not in the file", source)
            if rows.size > 1:
                raise InputError(f"{where} is ambiguous (insertion codes)", source)
            row = int(rows[0])
            if not protein.atom_mask[row].all():
                raise InputError(f"{where} lacks backbone atoms (N, CA, C, O)", source)
            atoms.append(protein.atoms[row])
            letters.append(protein.sequence[row])
            chains.append(segment.chain)
            numbers.append(number)
    return Motif(np.stack(atoms), "".join(letters), tuple(chains), tuple(numbers))
