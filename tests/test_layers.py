"""The package's import graph follows the layer table of the README (imports go downward).

Every module of ``molgen/`` and ``equivariant/`` is parsed (not imported) and each of its
``import`` statements, at any depth (lazy imports inside functions count), is checked:
a module may import its own package, a package of a lower layer, or the foundation
modules; never a higher layer nor a sibling of its own layer (except in the interface and
the foundation, single concerns split over a few files). ``equivariant`` imports
nothing of molgen, and no production module imports a test helper.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

#: Layer of each package (higher imports lower), from the README's layout table.
LAYERS = {
    "molgen": 8,  # the package __init__: the small Python API
    "molgen.__main__": 8,
    "molgen.cli": 8,
    "molgen.score": 7.5,
    "molgen.evaluation": 7.5,
    "molgen.sample": 7,
    "molgen.train": 7,
    "molgen.scoring": 7,
    "molgen.models": 6,
    "equivariant": 5,
    "molgen.datasets": 4,
    "molgen.diffusion": 3,
    "molgen.checks": 3,
    "molgen.chem": 3,
    "molgen.geometry": 2,
    "molgen.io": 2,
    # Foundation: settings and helpers every layer may use; they import only each other.
    "molgen.errors": 0,
    "molgen.paths": 0,
    "molgen.devices": 0,
    "molgen.distributed": 0,
    "molgen.seeding": 0,
    "molgen.version": 0,
}
TEST_HELPERS = ("equivariant.testing", "tests")


def _package(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "equivariant":
        return "equivariant"
    return ".".join(parts[:2])


def _modules() -> list[tuple[str, Path]]:
    out = []
    for root in ("molgen", "equivariant"):
        for path in sorted((REPO_ROOT / root).rglob("*.py")):
            parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out.append((".".join(parts), path))
    return out


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return [n for n in names if n.split(".")[0] in ("molgen", "equivariant", "tests")]


def test_every_package_has_a_layer():
    """Each module's package is in the table (a new package must be placed in it)."""
    missing = {_package(m) for m, _ in _modules()} - set(LAYERS)
    assert not missing


@pytest.mark.parametrize("module, path", _modules(), ids=[m for m, _ in _modules()])
def test_imports_go_downward(module, path):
    """Every import is of the module's own package or of a strictly lower layer."""
    own = _package(module)
    bad = []
    for name in _imports(path):
        if name.startswith(TEST_HELPERS) and not module.startswith("equivariant.testing"):
            bad.append(f"{name} (a test helper)")
            continue
        target = _package(name)
        if target == own:
            continue
        if own == "equivariant":
            bad.append(f"{name} (equivariant knows nothing of molgen)")
        elif LAYERS[target] > LAYERS[own] or (
            LAYERS[target] == LAYERS[own] and LAYERS[own] not in (0, 8)
        ):
            bad.append(f"{name} (layer {LAYERS[target]} from {LAYERS[own]})")
    assert not bad, f"{module} imports {bad}"
