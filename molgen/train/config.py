"""Training configuration files: a YAML (or JSON) mapping of named sections.

Every training task (backbones, conformers) reads its file with :func:`read_sections`, turns
each section into a typed settings object with :func:`build_section` (dataclasses) or the
object's own ``from_dict``, and resolves data paths with :func:`resolve_data_path`. Bad files
raise :class:`molgen.errors.InputError` naming the file.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from molgen.errors import InputError
from molgen.paths import expand_data_path

__all__ = ["build_section", "read_sections", "resolve_data_path", "trained_with"]

#: Loss settings a sampler needs from the model it samples with, per training task.
SAMPLER_SETTINGS = {"backbone": ("min_t",), "conformer": ("min_sigma", "max_sigma")}

T = TypeVar("T")


def read_sections(path: str | os.PathLike, sections: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Read a YAML/JSON file holding a mapping whose keys are among ``sections``.

    Returns
    -------
    dict
        ``{section: mapping}`` for every name in ``sections`` (an empty mapping when the file
        omits it or leaves it empty).

    Raises
    ------
    InputError
        Missing file, unparsable text, not a mapping, an unknown or non-mapping section.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("no such configuration file", path)
    import yaml

    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise InputError(f"not a YAML/JSON file ({type(err).__name__})", path) from err
    if not isinstance(raw, dict) or set(raw) - set(sections):
        raise InputError(f"expected a mapping with sections {', '.join(sections)}", path)
    out = {}
    for name in sections:
        values = raw.get(name) or {}
        if not isinstance(values, dict):
            raise InputError(f"section {name!r} must be a mapping", path)
        out[name] = values
    return out


def build_section(cls: type[T], values: Mapping[str, Any], section: str, source: Path) -> T:
    """Dataclass ``cls`` from ``values``; unknown keys or bad values are an ``InputError``."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise InputError(f"unknown {section} setting(s): {', '.join(unknown)}", source)
    try:
        return cls(**values)
    except (TypeError, ValueError) as err:
        raise InputError(f"bad {section} settings ({err})", source) from err


def resolve_data_path(value: str, base: Path) -> Path:
    """Expand ``~`` and ``$VARS`` in ``value``; relative paths are taken from ``base``.

    ``$MOLGEN_SHARED_DATA`` stands for the repository's ``data/`` folder unless the variable
    is set (:mod:`molgen.paths`); ``os.environ`` is left as it is.
    """
    path = Path(expand_data_path(value))
    return path if path.is_absolute() else (base / path).resolve()


def trained_with(task: str, loss: Mapping[str, Any]) -> dict[str, Any]:
    """The loss settings of ``task`` that samplers read back from an exported model
    (``extra["trained_with"]``, :func:`molgen.models.trained_value`); absent keys are left out.

    Examples
    --------
    >>> trained_with("backbone", {"min_t": 0.02, "rot_weight": 0.5})
    {'min_t': 0.02}
    """
    return {k: loss[k] for k in SAMPLER_SETTINGS.get(task, ()) if k in loss}
