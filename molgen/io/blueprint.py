"""Secondary-structure blueprints: one letter per residue, ``H`` helix, ``E`` strand, ``L`` loop,
``X`` unspecified.

Real chains' 8-state DSSP maps to the three letters one way everywhere (training labels,
evaluation, reports): H, G, I -> ``H``; E, B -> ``E``; everything else (T, S, coil) -> ``L``.
As integers (network input) ``X, H, E, L = 0, 1, 2, 3``, so 0 also serves as padding.

A user's blueprint may be followed, after white space, by its strand pairing
(:func:`molgen.io.strand_pairing.parse_pairing`): ``LEEEELLEEEELLHHHHHHLLEEEEL 1-2A 1-3P``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from molgen.errors import InputError
from molgen.io.strand_pairing import Pairing, parse_pairing

__all__ = [
    "BLUEPRINT_LETTERS",
    "blueprint_from_dssp",
    "encode_blueprint",
    "parse_blueprint",
    "read_blueprint_file",
    "split_blueprint",
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


def split_blueprint(text: str) -> tuple[str, Pairing | None]:
    """The letters of a blueprint and its strand pairing (``None`` if it names none).

    >>> split_blueprint("LEEELLEEEL 1-2A")
    ('LEEELLEEEL', [(0, 1, False)])

    Raises ``ValueError`` for a bad pairing token (:func:`parse_pairing`).
    """
    letters, *tokens = text.split() or [""]
    return letters, (parse_pairing(tokens, letters) if tokens else None)


def parse_blueprint(text: str, source: str | os.PathLike | None = None) -> str:
    """Validate a user's blueprint: upper-cased, at least 2 letters, only ``H E L X``, then
    optional strand-pair tokens (module docstring); returned with single spaces.

    Raises
    ------
    InputError
        Naming ``source`` (a file, or the ``--ss`` option) and the first bad letter or token.
    """
    where = source if source is not None else "--ss"
    blueprint, *tokens = text.upper().split() or [""]
    if len(blueprint) < 2:
        raise InputError(f"a blueprint needs at least 2 residues, got {text!r}", where)
    bad = sorted(set(blueprint) - set(BLUEPRINT_LETTERS))
    if bad:
        raise InputError(
            f"blueprint letter {bad[0]!r} is not one of H (helix), E (strand), L (loop), "
            "X (unspecified)",
            where,
        )
    try:
        parse_pairing(tokens, blueprint)
    except ValueError as err:
        raise InputError(str(err), where) from err
    return " ".join([blueprint, *tokens])


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
