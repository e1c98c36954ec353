"""Exceptions raised by molgen.

Bad user input (a missing or unreadable file, a structure with no backbone, an unparsable
SMILES, NaN coordinates, an unknown device) raises :class:`InputError`. Its message is one
line that names the file (and the line or record where known); the command-line interface
prints it and exits with status 2, never a traceback.
"""

from __future__ import annotations

__all__ = ["InputError"]


class InputError(ValueError):
    """Bad input from the user: the message is one line naming the file and the problem."""

    def __init__(self, message: str, path: str | None = None) -> None:
        self.path = None if path is None else str(path)
        text = " ".join(str(message).split())
        super().__init__(f"{self.path}: {text}" if self.path else text)
