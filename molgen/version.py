"""The package version (one place; :mod:`molgen` and checkpoints read it)."""

__version__ = "0.1.0"
