"""Stand-ins for chemistry packages missing on the GPU burst machine (``device_burst.sh``).

The burst machine has PyTorch, e3nn and torch-geometric but not rdkit, mdtraj or biopython,
and its 64 MiB transfer limit (the repository is ~60 MB with the chain set) leaves no room
for their wheels. The burst's code paths (backbone network, diffusion, sampler, trainer)
never call them, but molgen's modules import them at the top. Python imports this file at
start-up when its folder is on ``PYTHONPATH``: for each of those packages that really is
missing, imports succeed with a module whose every attribute (and call result) is a
placeholder, and reading a value out of one (truth, iteration, numbers, text, comparison)
raises ``ModuleNotFoundError`` naming it, so no result passes silently.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import types

MISSING_OK = ("rdkit", "mdtraj", "Bio", "tmtools", "posebusters")


class _Placeholder:
    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> _Placeholder:
        return _Placeholder(f"{self._name}.{attr}")

    def __call__(self, *args, **kwargs) -> _Placeholder:
        # Module-level constants (SMARTS patterns, ...) are built at import: a call gives a
        # placeholder; reading any value out of one raises.
        return _Placeholder(f"{self._name}()")

    def _refuse(self, *args, **kwargs):
        raise ModuleNotFoundError(f"{self._name} needs a package missing on this machine")

    __bool__ = __iter__ = __len__ = __float__ = __int__ = __index__ = __str__ = _refuse
    __getitem__ = __contains__ = __eq__ = __lt__ = __gt__ = __le__ = __ge__ = _refuse
    __add__ = __sub__ = __mul__ = __truediv__ = _refuse
    __hash__ = object.__hash__

    def __mro_entries__(self, bases):  # used as a base class: a plain object
        return (object,)


class _StandInModule(types.ModuleType):
    def __getattr__(self, attr: str) -> _Placeholder:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Placeholder(f"{self.__name__}.{attr}")


class _StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] not in MISSING_OK:
            return None
        return importlib.machinery.ModuleSpec(name, self, is_package=True)

    def create_module(self, spec):
        module = _StandInModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module) -> None:
        return None


# MOLGEN_STAND_INS=all replaces them even where installed (to test the burst's imports on a
# machine that has them).
_force = os.environ.get("MOLGEN_STAND_INS") == "all"
_absent = [
    name
    for name in MISSING_OK
    if _force or importlib.util.find_spec(name) is None  # checked before the finder exists
]
if _absent:
    MISSING_OK = tuple(_absent)
    sys.meta_path.insert(0, _StandInFinder())
