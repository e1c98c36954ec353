"""Import a file of scripts/ as a module, for the script tests."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from tests.conftest import REPO_ROOT


def load_script(name: str) -> ModuleType:
    """``scripts/<name>.py`` as a fresh module named ``name``; ``scripts/`` goes on
    ``sys.path`` first, as when the script runs (scripts import their neighbours)."""
    if str(REPO_ROOT / "scripts") not in sys.path:
        sys.path.insert(0, str(REPO_ROOT / "scripts"))
    path = REPO_ROOT / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
