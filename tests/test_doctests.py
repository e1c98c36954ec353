"""The examples in the library's docstrings run and give what they show.

Every module of ``molgen/`` and ``equivariant/`` is imported and its doctests run with
:func:`doctest.testmod` (what ``pytest --doctest-modules`` does, restricted to the library:
the flag itself would also import the test folders' ``conftest.py`` files as modules).
"""

from __future__ import annotations

import doctest
import importlib

import pytest

from tests.conftest import REPO_ROOT


def _modules() -> list[str]:
    names = []
    for root in ("molgen", "equivariant"):
        for path in sorted((REPO_ROOT / root).rglob("*.py")):
            parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
            if parts[-1] == "__main__":
                continue  # running it is the command
            if parts[-1] == "__init__":
                parts = parts[:-1]
            names.append(".".join(parts))
    return names


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    """doctest.testmod(module) reports no failure."""
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
