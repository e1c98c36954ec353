"""Where molgen finds its training and evaluation data: the repository's ``data/`` folder.

The PDB chain set (``data/pdb_chains.npz``) and the QM9 split (``data/qm9_split.npz``) are
files of the repository, outside the installed package (``data/README.md``). The folder that
holds them is, in this order:

1. ``$MOLGEN_SHARED_DATA`` when it is set (and not empty);
2. the ``data/`` folder of the source tree molgen is imported from (a clone used in place or
   installed with ``pip install -e .``);
3. otherwise (molgen installed from a wheel) ``data/`` in the working directory, i.e. run from
   the root of a clone.

Configuration files write ``$MOLGEN_SHARED_DATA/pdb_chains.npz``; :func:`expand_data_path`
replaces the variable by that folder when it is unset. Nothing here changes ``os.environ``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["DATA_ENV", "data_dir", "default_data_path", "expand_data_path"]

#: The environment variable that points molgen at another data folder.
DATA_ENV = "MOLGEN_SHARED_DATA"

_SOURCE_ROOT = Path(__file__).resolve().parents[1]
_DATA_VAR = re.compile(r"\$(?:\{" + DATA_ENV + r"\}|" + DATA_ENV + r"(?![A-Za-z0-9_]))")


def data_dir() -> Path:
    """The data folder: ``$MOLGEN_SHARED_DATA``, else the repository's ``data/`` (see above)."""
    override = os.environ.get(DATA_ENV)
    if override:
        return Path(override).expanduser()
    if (_SOURCE_ROOT / "pyproject.toml").is_file() and (_SOURCE_ROOT / "data").is_dir():
        return _SOURCE_ROOT / "data"
    return Path.cwd() / "data"


def default_data_path(name: str) -> Path:
    """``data_dir() / name``, e.g. ``default_data_path("pdb_chains.npz")``."""
    return data_dir() / name


def expand_data_path(value: str) -> str:
    """Expand ``~`` and ``$VARS``; ``$MOLGEN_SHARED_DATA`` is :func:`data_dir` when unset."""
    if DATA_ENV not in os.environ or not os.environ[DATA_ENV]:
        value = _DATA_VAR.sub(lambda _: str(data_dir()), value)
    return os.path.expandvars(os.path.expanduser(value))
