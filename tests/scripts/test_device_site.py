"""scripts/device_site/sitecustomize.py: the GPU burst's stand-ins for missing chemistry
packages let the backbone code import, and fail loudly on any use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import molgen.sample, molgen.train.backbone
from rdkit import Chem
try:
    mol = Chem.MolFromSmiles("CCO")
    print(mol.GetNumAtoms() > 0)
except ModuleNotFoundError as err:
    print("refused:", err)
"""


def test_stand_ins_import_and_refuse_use():
    """With MOLGEN_STAND_INS=all, molgen's sampler and trainer import without rdkit/mdtraj/
    biopython, and using the result of an rdkit call raises ModuleNotFoundError naming it."""
    env = {**os.environ, "MOLGEN_STAND_INS": "all", "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = f"{REPO}{os.pathsep}{REPO / 'scripts' / 'device_site'}"
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "refused: rdkit.Chem.MolFromSmiles().GetNumAtoms() needs a package" in done.stdout
