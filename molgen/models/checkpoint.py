"""Model checkpoints: ``model.safetensors`` (weights) plus ``config.json`` (how to rebuild).

A checkpoint is a directory holding

* ``model.safetensors``: the ``state_dict`` in safetensors format (never a pickle);
* ``config.json``: ``{"molgen_model": <class name>, "format_version": 1, "molgen_version": ...,
  "dtype": "float32" | "float64", "config": {<architecture and diffuser settings>},
  "extra": {...}}``.

:func:`load` rebuilds the class named in the config from the model registry
(:func:`register_model`) under the saved dtype (e3nn constants are computed in the default
dtype at construction), then loads the weights strictly. Anything that is not such a
checkpoint (missing or unparsable config, unknown class, truncated or foreign weights file,
wrong tensor names or shapes) raises :class:`molgen.errors.InputError` naming the file.
Bundled checkpoints live in ``molgen/weights/<name>/`` and load by name.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from equivariant.dtype import default_dtype
from molgen.errors import InputError
from molgen.io.atomic import atomic_write, atomic_write_text
from molgen.version import __version__

__all__ = [
    "FORMAT_VERSION",
    "bundled_names",
    "load",
    "read_config",
    "register_model",
    "save",
    "trained_value",
    "update_extra",
]

FORMAT_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
_REGISTRY: dict[str, type[nn.Module]] = {}
_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def register_model(cls: type[nn.Module]) -> type[nn.Module]:
    """Make ``cls`` loadable by :func:`load` (usable as a class decorator).

    ``cls`` must have a ``config`` attribute (a dataclass or an object with ``to_dict()``) and
    a ``from_config(mapping)`` classmethod.
    """
    if not callable(getattr(cls, "from_config", None)):
        raise TypeError(f"{cls.__name__} has no from_config classmethod")
    _REGISTRY[cls.__name__] = cls
    return cls


def bundled_names() -> list[str]:
    """Names of the checkpoints shipped in ``molgen/weights/`` (sorted)."""
    if not WEIGHTS_DIR.is_dir():
        return []
    return sorted(p.name for p in WEIGHTS_DIR.iterdir() if (p / CONFIG_FILE).is_file())


def _config_dict(model: nn.Module) -> dict[str, Any]:
    config = model.config
    if dataclasses.is_dataclass(config):
        return dataclasses.asdict(config)
    return dict(config.to_dict())


def save(
    model: nn.Module,
    directory: str | os.PathLike,
    *,
    overwrite: bool = False,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``model`` to ``directory`` (created if needed); return the directory.

    Parameters
    ----------
    model : nn.Module
        An instance of a registered class (see :func:`register_model`).
    directory : path
        Checkpoint directory.
    overwrite : bool
        Replace an existing checkpoint there; otherwise that is an ``InputError``.
    extra : dict, optional
        JSON-serialisable information stored under ``"extra"`` (training step, metrics...).
    """
    name = type(model).__name__
    if _REGISTRY.get(name) is not type(model):
        raise TypeError(f"{name} is not a registered model class; known: {sorted(_REGISTRY)}")
    directory = Path(directory)
    weights, config = directory / WEIGHTS_FILE, directory / CONFIG_FILE
    if not overwrite and (weights.exists() or config.exists()):
        raise InputError("a checkpoint exists here; pass overwrite=True to replace it", directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().clone().contiguous() for k, v in model.state_dict().items()}
    floats = {v.dtype for v in state.values() if v.is_floating_point()}
    dtype = next((k for k, v in _DTYPES.items() if floats == {v}), "float32")
    header = {
        "molgen_model": name,
        "format_version": FORMAT_VERSION,
        "molgen_version": __version__,
        "dtype": dtype,
        "config": _config_dict(model),
        "extra": extra or {},
    }
    text = json.dumps(header, indent=2, sort_keys=True) + "\n"  # fails before writing anything
    # Write beside the target and rename, so an interrupted save never leaves half a file.
    atomic_write(weights, lambda tmp: save_file(state, str(tmp), metadata={"molgen_model": name}))
    atomic_write_text(config, text)
    return directory


def _resolve(path_or_name: str | os.PathLike) -> Path:
    """A bundled model for a bare bundled name (even beside a folder of that name: write
    ``./backbone`` for the folder), else the checkpoint folder at that path."""
    if isinstance(path_or_name, str) and path_or_name in bundled_names():
        return WEIGHTS_DIR / path_or_name
    path = Path(path_or_name)
    if path.is_dir():
        return path
    names = ", ".join(bundled_names()) or "none"
    raise InputError(
        f"no checkpoint directory or bundled model of that name (bundled: {names})", path
    )


def read_config(path_or_name: str | os.PathLike) -> dict[str, Any]:
    """The checked ``config.json`` of a checkpoint directory or bundled name."""
    path = _resolve(path_or_name) / CONFIG_FILE
    try:
        header = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"missing {CONFIG_FILE}: not a molgen checkpoint", path) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"unreadable checkpoint config ({err})", path) from None
    if not isinstance(header, dict) or not isinstance(header.get("config"), dict):
        raise InputError("not a molgen checkpoint config (no 'config' mapping)", path)
    if header.get("format_version") != FORMAT_VERSION:
        version = header.get("format_version")
        raise InputError(f"unsupported checkpoint format_version {version!r}", path)
    if header.get("molgen_model") not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY))
        raise InputError(
            f"unknown model class {header.get('molgen_model')!r} (known: {known})", path
        )
    if header.get("dtype", "float32") not in _DTYPES:
        raise InputError(f"unsupported dtype {header.get('dtype')!r}", path)
    return header


def load(path_or_name: str | os.PathLike, device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild a model from a checkpoint directory or a bundled name, in eval mode.

    Raises
    ------
    InputError
        Not a checkpoint, a truncated or foreign weights file, or weights that do not fit the
        architecture in the config.
    """
    header = read_config(path_or_name)
    directory = _resolve(path_or_name)
    cls = _REGISTRY[header["molgen_model"]]
    try:
        with default_dtype(_DTYPES[header.get("dtype", "float32")]):
            model = cls.from_config(header["config"])
    except (TypeError, ValueError, KeyError) as err:
        raise InputError(f"bad {cls.__name__} config ({err})", directory / CONFIG_FILE) from None
    path = directory / WEIGHTS_FILE
    try:
        state = load_file(path, device=str(device))
    except FileNotFoundError:
        raise InputError(f"missing {WEIGHTS_FILE}", path) from None
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise InputError(f"not a readable safetensors file ({err})", path) from None
    expected = model.state_dict()
    wrong = sorted(set(expected) ^ set(state)) or [
        k for k in expected if expected[k].shape != state[k].shape
    ]
    if wrong:
        raise InputError(f"weights do not fit {cls.__name__}: e.g. {wrong[0]!r}", path)
    model.load_state_dict(state, strict=True)
    model.extra = dict(header.get("extra") or {})  # e.g. the learned score's calibration
    return model.to(device).eval()


def trained_value(model: nn.Module, name: str, default: Any) -> Any:
    """A setting the model was trained with, from its checkpoint's ``extra["trained_with"]``
    (written at export by the trainers), else ``default`` (the trainer's default)."""
    return (getattr(model, "extra", None) or {}).get("trained_with", {}).get(name, default)


def update_extra(path_or_name: str | os.PathLike, **values: Any) -> Path:
    """Set keys of a checkpoint's ``"extra"`` (JSON-serialisable values); return the config path.

    Rewrites ``config.json`` atomically; the weights are untouched.
    """
    header = read_config(path_or_name)
    header["extra"] = {**(header.get("extra") or {}), **values}
    path = _resolve(path_or_name) / CONFIG_FILE
    text = json.dumps(header, indent=2, sort_keys=True) + "\n"
    atomic_write_text(path, text)
    return path
