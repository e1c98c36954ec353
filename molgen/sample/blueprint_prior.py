r"""Blueprints drawn from real chains, for unconditional sampling with a blueprint-trained model.

The library (``molgen/data/blueprint_library.npz``, built from the train split by
``scripts/build_blueprint_library.py``) holds the three-letter DSSP blueprints
(:mod:`molgen.io.blueprint`) of the train chains the backbone model is trained on. To draw a
blueprint of length :math:`L`, a library chain of length :math:`n \in [L/1.25, 1.25 L]` is
picked uniformly and its elements (maximal runs of one letter) are rescaled to :math:`L`
residues: run :math:`k` of length :math:`r_k` gets :math:`\mathrm{round}(\sum_{j \le k} r_j
L/n) - \mathrm{round}(\sum_{j < k} r_j L/n)` residues (largest-remainder free, so the total is
exactly :math:`L`); runs that shrink to zero vanish. Lengths with no library chain in range
get ``None`` (sample unconditionally).

The library also holds each chain's strand pairing (:func:`molgen.io.strand_pairing.
element_pairing` of its CA atoms), so a drawn blueprint comes with the sheet topology of a real
chain. Each strand element of the library chain maps to the element of the rescaled blueprint
that holds its scaled centre; pairs whose elements vanish or merge are dropped.

A sampler that can realise only some blueprints (sheet-first sampling builds one sheet, of the
strands its loops can reach) passes ``accept``: a draw it rejects is replaced by the next,
up to ``MAX_DRAWS`` draws per sample (the last one is kept).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import groupby
from pathlib import Path
from typing import NamedTuple

import numpy as np

from molgen.io.strand_pairing import Pairing, strand_elements, strand_owner

__all__ = [
    "LIBRARY_FILE",
    "BlueprintLibrary",
    "DrawnBlueprint",
    "draw_blueprints",
    "rescale_blueprint",
    "rescale_pairing",
]

LIBRARY_FILE = Path(__file__).resolve().parents[1] / "data" / "blueprint_library.npz"
LENGTH_RATIO = 1.25
MAX_DRAWS = 20


def rescale_blueprint(blueprint: str, length: int) -> str:
    """``blueprint`` stretched or shrunk to ``length`` letters, element by element.

    >>> rescale_blueprint("LLHHHHLL", 4)
    'LHHL'
    >>> rescale_blueprint("LEEL", 8)
    'LLEEEELL'
    """
    runs = [(letter, len(list(group))) for letter, group in groupby(blueprint)]
    scale = length / len(blueprint)
    ends = np.round(np.cumsum([n for _, n in runs]) * scale).astype(int)
    starts = np.concatenate([[0], ends[:-1]])
    pieces = zip(runs, starts, ends, strict=True)
    return "".join(letter * int(e - s) for (letter, _), s, e in pieces)


def rescale_pairing(blueprint: str, pairing: Pairing, rescaled: str) -> Pairing:
    """The strand pairing of ``blueprint`` carried over to ``rescaled`` (module docstring).

    >>> rescale_pairing("LEEELLEEEL", [(0, 1, False)], "LLEEEEEELLLLEEEEEELL")
    [(0, 1, False)]
    """
    scale = len(rescaled) / len(blueprint)
    owner = strand_owner(rescaled)
    centres = [(start + end + 1) / 2 * scale for start, end in strand_elements(blueprint)]
    new = [int(owner[min(int(c), len(rescaled) - 1)]) for c in centres]
    out = []
    for a, b, parallel in pairing:
        if new[a] >= 0 and new[b] >= 0 and new[a] != new[b]:
            out.append((min(new[a], new[b]), max(new[a], new[b]), parallel))
    return sorted(set(out))


class DrawnBlueprint(NamedTuple):
    """A blueprint drawn from the library and the strand pairing that comes with it."""

    blueprint: str
    pairing: Pairing


class BlueprintLibrary:
    """Blueprints of real chains by length (see the module docstring).

    Parameters
    ----------
    path : str or Path
        An ``.npz`` with ``letters`` (all blueprints concatenated, uint8 ASCII), ``lengths``
        (int, one per blueprint) and ``pairs`` (int ``[P, 4]``: blueprint, strand element a,
        strand element b, 1 if parallel).
    """

    def __init__(self, path: str | os.PathLike = LIBRARY_FILE) -> None:
        with np.load(path, allow_pickle=False) as data:
            letters = data["letters"].tobytes().decode("ascii")
            self.lengths = data["lengths"].astype(np.int64)
            pairs = data["pairs"].astype(np.int64).reshape(-1, 4)
        ends = np.cumsum(self.lengths)
        self.blueprints = [letters[e - n : e] for n, e in zip(self.lengths, ends, strict=True)]
        self.pairings: list[Pairing] = [[] for _ in self.blueprints]
        for chain, a, b, parallel in pairs.tolist():
            self.pairings[chain].append((a, b, bool(parallel)))

    def __len__(self) -> int:
        return len(self.blueprints)

    def draw(self, length: int, rng: np.random.Generator) -> DrawnBlueprint | None:
        """One blueprint of ``length`` residues and its pairing, or ``None`` if no chain is near
        that length."""
        near = np.flatnonzero(
            (self.lengths * LENGTH_RATIO >= length) & (self.lengths <= length * LENGTH_RATIO)
        )
        if near.size == 0:
            return None
        chain = int(rng.choice(near))
        source = self.blueprints[chain]
        blueprint = rescale_blueprint(source, length)
        return DrawnBlueprint(blueprint, rescale_pairing(source, self.pairings[chain], blueprint))


@lru_cache(maxsize=1)
def _bundled_library() -> BlueprintLibrary:
    return BlueprintLibrary(LIBRARY_FILE)


def draw_blueprints(
    lengths: Sequence[int],
    seed: int,
    accept: Callable[[DrawnBlueprint], bool] | None = None,
) -> list[DrawnBlueprint | None]:
    """One drawn blueprint (and pairing) per entry of ``lengths`` from the bundled library
    (seeded); with ``accept``, each the first of at most ``MAX_DRAWS`` draws it accepts (or
    the last)."""
    rng = np.random.default_rng(seed)
    library = _bundled_library()
    out = []
    for n in lengths:
        drawn = library.draw(int(n), rng)
        for _ in range(MAX_DRAWS - 1):
            if drawn is None or accept is None or accept(drawn):
                break
            drawn = library.draw(int(n), rng)
        out.append(drawn)
    return out
