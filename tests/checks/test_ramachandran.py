"""Tests for molgen.checks.ramachandran: the shipped train-split map and its lookup."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from molgen.checks.ramachandran import (
    ALLOWED,
    DATA_DIR,
    FAVOURED,
    OUTLIER,
    RAMACHANDRAN_FILE,
    build_ramachandran_density,
    classify_ramachandran,
    load_ramachandran,
    ramachandran_density,
)
from molgen.geometry import backbone_dihedrals

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_ramachandran.py"


def _rad(*deg: float) -> np.ndarray:
    return np.radians(np.asarray(deg, dtype=np.float64))


def test_lookup_is_periodic():
    """density(phi, psi) = density(phi + 2 pi k, psi + 2 pi m); -180 and +180 are one angle."""
    rng = np.random.default_rng(0)
    phi, psi = rng.uniform(-math.pi, math.pi, (2, 1000))
    ref = ramachandran_density(phi, psi)
    np.testing.assert_array_equal(ramachandran_density(phi + 2 * math.pi, psi - 4 * math.pi), ref)
    edge = ramachandran_density(_rad(-180.0, 180.0, 60.0), _rad(30.0, 30.0, 180.0))
    assert edge[0] == edge[1]
    assert edge[2] == ramachandran_density(_rad(60.0), _rad(-180.0))[0]


def test_known_regions():
    """Alpha-R (-63, -43) and beta (-120, 130) are favoured; phi ~ 0 and (120, -80) are outliers.

    The map pools all residues, glycine included, so the glycine-only island around
    (60, -120) is in its favoured region, but at a density 100 times below the alpha-R peak.
    """
    region = classify_ramachandran(_rad(-63, -120, 0, 120), _rad(-43, 130, 0, -80))
    np.testing.assert_array_equal(region, [FAVOURED, FAVOURED, OUTLIER, OUTLIER])
    dens = ramachandran_density(_rad(-63, 60), _rad(-43, -120))
    assert dens[1] < dens[0] / 100


def test_undefined_angles_are_marked():
    """NaN phi or psi (chain ends) classify as -1 and have NaN density."""
    region = classify_ramachandran(np.array([np.nan, -1.0]), np.array([0.5, np.nan]))
    np.testing.assert_array_equal(region, [-1, -1])
    assert np.isnan(ramachandran_density(np.array([np.nan]), np.array([0.0]))).all()


def test_shipped_regions_hold_98_and_99_8_percent_of_val_residues(val_chains):
    """Held-out residues: ~98% favoured and ~99.8% in favoured + allowed (the design levels)."""
    atoms = [torch.from_numpy(c.atoms) for c in val_chains]
    angles = [backbone_dihedrals(a) for a in atoms]
    phi = np.concatenate([p.numpy() for p, _, _ in angles])
    psi = np.concatenate([q.numpy() for _, q, _ in angles])
    region = classify_ramachandran(phi, psi)
    region = region[region >= 0]
    assert 0.97 < np.mean(region == FAVOURED) < 0.99
    assert 0.995 < np.mean(region <= ALLOWED) < 0.9995


def test_build_encloses_requested_levels():
    """On a synthetic sample the favoured bins hold >= the requested fraction, and barely more."""
    rng = np.random.default_rng(1)
    phi = np.concatenate([rng.normal(-1.1, 0.2, 20000), rng.uniform(-np.pi, np.pi, 2000)])
    psi = np.concatenate([rng.normal(-0.75, 0.2, 20000), rng.uniform(-np.pi, np.pi, 2000)])
    density, (favoured, allowed) = build_ramachandran_density(phi, psi, 10.0, 10.0, (0.8, 0.95))
    n = density.shape[0]
    assert density.shape == (36, 36) and math.isclose(float(density.sum()), 1.0, rel_tol=1e-5)
    i = np.floor((phi + np.pi) / (2 * np.pi) * n).astype(int) % n
    j = np.floor((psi + np.pi) / (2 * np.pi) * n).astype(int) % n
    inside = density[i, j]
    assert 0.80 <= np.mean(inside >= favoured) < 0.82
    assert 0.95 <= np.mean(inside >= allowed) < 0.97
    peak = np.unravel_index(np.argmax(density), density.shape)
    assert peak == (int((-1.1 + np.pi) / (2 * np.pi) * n), int((-0.75 + np.pi) / (2 * np.pi) * n))


def test_smoothing_wraps_around_the_seam():
    """A blob at phi = 180 deg spreads equally to both sides of the +-180 seam."""
    rng = np.random.default_rng(2)
    phi = np.angle(np.exp(1j * rng.normal(math.pi, 0.05, 5000)))
    psi = rng.normal(0.0, 0.05, 5000)
    density, _ = build_ramachandran_density(phi, psi, 10.0, 20.0)
    column = density[:, 18]  # psi bin [0, 10) deg
    np.testing.assert_allclose(column[1], column[-2], rtol=0.2)
    assert column[1] > 10 * column[18]


@pytest.mark.slow
def test_shipped_file_is_reproduced_by_the_script(pdb_chains_path):
    """Rerunning scripts/build_ramachandran.py on the train split gives the shipped arrays."""
    spec = importlib.util.spec_from_file_location("build_ramachandran", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    phi, psi = module.train_phi_psi(pdb_chains_path)
    density, thresholds = build_ramachandran_density(
        phi, psi, module.BIN_DEG, module.SIGMA_DEG, module.LEVELS
    )
    shipped_density, shipped_thresholds = load_ramachandran()
    np.testing.assert_allclose(density, shipped_density, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(thresholds, shipped_thresholds, rtol=1e-5)
    assert (DATA_DIR / RAMACHANDRAN_FILE).stat().st_size < 200_000
