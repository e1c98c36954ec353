"""Secondary-structure blueprints: one letter per residue, ``H`` helix, ``E`` strand, ``L`` loop,
``X`` unspecified.

Real chains' 8-state DSSP maps to the three letters one way everywhere (training labels,
evaluation, reports): H, G, I -> ``H``; E, B -> ``E``; everything else (T, S, coil) -> ``L``.
As integers (network input) ``X, H, E, L = 0, 1, 2, 3``, so 0 also serves as padding.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from molgen.errors import InputError

__all__ = [
    "BLUEPRINT_LETTERS",
    "blueprint_from_dssp",
    "encode_blueprint",
    "parse_blueprint",
    "read_blueprint_file",
]

#: Letter of each integer code; ``BLUEPRINT_LETTERS[0]`` is "unspecified".
BLUEPRINT_LETTERS = "XHEL"
_DSSP_TO_LETTER = {"H": "H", "G": "H", "I": "H", "E": "E", "B": "E"}


def blueprint_from_dssp(dssp: str) -> str:
    """Three-letter blueprint of an 8-state DSSP string (``C`` or blank for coil).

    >>> blueprint_from_dssp("CHHHGGTTEEBSC")
    'LHHHHHLLEEELL'
    """
    return "".join(_DSSP_TO_LETTER.get(c, "L") for c in dssp)


def encode_blueprint(blueprint: str) -> np.ndarray:
    """Integer codes ``(L,)`` int64 of a validated blueprint (X=0, H=1, E=2, L=3).

    >>> encode_blueprint("XHEL").tolist()
    [0, 1, 2, 3]
    """
    table = np.full(128, -1, dtype=np.int64)
    for code, letter in enumerate(BLUEPRINT_LETTERS):
        table[ord(letter)] = code
    codes = table[np.frombuffer(blueprint.encode("ascii"), dtype=np.uint8)]
    if (codes < 0).any():
        raise ValueError(f"blueprint letters must be among {BLUEPRINT_LETTERS}: {blueprint!r}")
    return codes


def parse_blueprint(text: str, source: str | os.PathLike | None = None) -> str:
    """Validate a user's blueprint: upper-cased, at least 2 letters, only ``H E L X``.

    Raises
    ------
    InputError
        Naming ``source`` (a file, or the ``--ss`` option) and the first bad letter.
    """
    blueprint = text.strip().upper()
    where = source if source is not None else "--ss"
    if len(blueprint) < 2:
        raise InputError(f"a blueprint needs at least 2 residues, got {text!r}", where)
    bad = sorted(set(blueprint) - set(BLUEPRINT_LETTERS))
    if bad:
        raise InputError(
            f"blueprint letter {bad[0]!r} is not one of H (helix), E (strand), L (loop), "
            "X (unspecified)",
            where,
        )
    return blueprint


def read_blueprint_file(path: str | os.PathLike) -> list[str]:
    """Blueprints of a text file, one per line (blank lines and ``#`` comments skipped)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("no such blueprint file", path)
    try:
        lines = path.read_text().splitlines()
    except UnicodeDecodeError as err:
        raise InputError("not a text file", path) from err
    blueprints = []
    for number, line in enumerate(lines, start=1):
        line = line.split("#", 1)[0].strip()
        if line:
            blueprints.append(parse_blueprint(line, f"{path}:{number}"))
    if not blueprints:
        raise InputError("no blueprint in the file", path)
    return blueprints


def gather_blueprints(
    texts: Sequence[str] = (), path: str | os.PathLike | None = None
) -> list[str]:
    """Blueprints given as text (each checked by :func:`parse_blueprint`) followed by those of
    a blueprint file (:func:`read_blueprint_file`), as ``--ss`` and ``--ss-file`` give them."""
    blueprints = [parse_blueprint(text) for text in texts]
    if path is not None:
        blueprints += read_blueprint_file(path)
    return blueprints
