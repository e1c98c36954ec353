"""A seeded slice of scripts/fuzz_inputs.py: mutated real inputs end as records or a clean
InputError, never another exception, a hang or a memory blow-up."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


@pytest.fixture(scope="module")
def fuzz_module():
    """The script as an importable module (its workers unpickle run_case by name)."""
    sys.path.insert(0, str(SCRIPTS))
    try:
        yield importlib.import_module("fuzz_inputs")
    finally:
        sys.path.remove(str(SCRIPTS))


@pytest.mark.slow
def test_fuzz_slice_has_no_crash_hang_or_memory_blowup(fuzz_module):
    """560 inputs (40 per class, seed 11): 0 exceptions other than InputError, 0 inputs over
    the 20 s alarm, 0 over 2 GB; gzip bombs are refused by the size limit; each class has
    both kinds of outcome where it should (real inputs survive insertion codes)."""
    summary = fuzz_module.fuzz(560, 11, 2, 20, 2048, list(fuzz_module.CLASSES))
    assert summary["inputs"] == 560
    assert set(summary["totals"]) <= {"ok", "input_error"}, summary["failures"]
    per_class = summary["per_class"]
    assert set(per_class) == set(fuzz_module.CLASSES)
    assert per_class["gzip_bomb"] == {"input_error": 40}
    assert per_class["pdb_insertion_codes"].get("ok", 0) == 40
    assert summary["slowest_seconds"] < 20
