"""Agreement of molgen's molecule checks with the ``posebusters`` package, check by check.

The set: ETKDG conformers of ``molecule_fixtures/smiles.txt``, DFT geometries of QM9
validation molecules (``qm9_val.sdf``), the ligands shipped with posebusters, and distorted
copies of them: a bond stretched by 15-45 %, an angle closed by 17-52 deg, torsions folded
into a clash, an aromatic ring puckered by +-0.1-0.4 A, a C=C twisted by 11-80 deg, twice by
17-32 deg and once by 90 deg, a valence broken. Magnitudes are drawn with fixed seeds so that
many land near the thresholds. PoseBusters runs with its "mol_fast" configuration (the "mol"
configuration without the energy ratio).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from molecule_fixtures import distortions as dist
from rdkit import Chem, RDLogger

import molgen.checks.molecule as molecule

posebusters = pytest.importorskip("posebusters")

# molgen record key -> posebusters "mol" report column
COLUMNS = {
    "sanitization": "sanitization",
    "single_fragment": "all_atoms_connected",
    "bond_lengths": "bond_lengths",
    "bond_angles": "bond_angles",
    "internal_clash": "internal_steric_clash",
    "aromatic_ring_flatness": "aromatic_ring_flatness",
    "double_bond_flatness": "double_bond_flatness",
}
# PoseBusters takes the largest *signed* distance to the plane, whose sign follows the
# arbitrary sign of an SVD vector; we take the largest unsigned distance, so a ring puckered
# to one side can pass there and fail here (the only disagreements seen: 4 of ~600).
MIN_AGREEMENT = 0.99
MIN_FAILURES = 5  # a check that (almost) never fails in the set is not tested by it


def agreement_set() -> list[Chem.Mol]:
    """Clean molecules followed by their distorted copies (single conformer each)."""
    clean = [dist.embed(smiles) for smiles, _ in dist.read_smiles()]
    clean += dist.read_sdf(dist.FIXTURES / "qm9_val.sdf")
    pb_data = Path(posebusters.__file__).parent / "datasets"
    for path in sorted(pb_data.glob("**/*_ligands.sdf")):
        clean += dist.read_sdf(path)
    distorted = []
    for k, mol in enumerate(clean):
        # magnitudes drawn around each threshold, so that verdicts near the borders are compared
        u = np.random.default_rng(k).uniform(size=6)
        candidates = [
            dist.stretch_bond(mol, 1.15 + 0.3 * u[0], pick=k),
            dist.bend_angle(mol, 0.3 + 0.6 * u[1], pick=k),
            dist.fold_to_clash(mol),
            dist.pucker_ring(mol, 0.1 + 0.3 * u[2]),
            dist.twist_double_bond(mol, 0.2 + 1.2 * u[3]),
            dist.twist_double_bond(mol, 0.3 + 0.25 * u[4]),  # 0.25 A is crossed near 0.42
            dist.twist_double_bond(mol, 0.3 + 0.25 * u[5]),
            dist.twist_double_bond(mol, np.pi / 2),
            dist.break_valence(mol) if k % 4 == 0 else None,
        ]
        distorted += [m for m in candidates if m is not None]
    return clean + distorted


@pytest.fixture(scope="module")
def paired_results() -> tuple[list[dict], list[dict]]:
    mols = agreement_set()
    ours = [molecule.check_molecule(m) for m in mols]
    RDLogger.DisableLog("rdApp.*")  # posebusters sanitises the broken copies loudly
    try:
        table = posebusters.PoseBusters(config="mol_fast").bust([Chem.Mol(m) for m in mols])
    finally:
        RDLogger.EnableLog("rdApp.*")
    theirs = table.to_dict(orient="records")
    assert len(theirs) == len(ours)
    return ours, theirs


def _same(a: bool | None, b: object) -> bool:
    """Equal verdicts; our None ("not evaluated") matches posebusters' NaN."""
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return a is None
    return a is not None and bool(a) == bool(b)


def test_agreement_set_is_large_and_real(paired_results):
    """The set holds >= 200 conformers."""
    ours, _ = paired_results
    assert len(ours) >= 200


@pytest.mark.parametrize("check", list(COLUMNS))
def test_check_agrees_with_posebusters(paired_results, check):
    """Per check: our verdict equals posebusters' on >= 99 % of the set, and both verdicts
    (pass and fail) occur at least MIN_FAILURES times."""
    ours, theirs = paired_results
    column = COLUMNS[check]
    same = [_same(o[check], t[column]) for o, t in zip(ours, theirs, strict=True)]
    rate = sum(same) / len(same)
    passes = sum(o[check] is True for o in ours)
    fails = sum(o[check] is False for o in ours)
    print(f"{check}: agreement {rate:.4f} on {len(same)}, pass {passes}, fail {fails}")
    assert rate >= MIN_AGREEMENT
    assert fails >= MIN_FAILURES and passes >= MIN_FAILURES
