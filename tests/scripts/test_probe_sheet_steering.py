"""scripts/probe_sheet_steering.py: its hand-written DSSP hydrogen-bond energy against
mdtraj's Kabsch-Sander energies, and its ladder energy on real sheets."""

from __future__ import annotations

import mdtraj as md
import numpy as np
import torch

from molgen.checks.secondary import _topology
from tests.scripts.script_loader import load_script


def _strand_rich_chain(val_backbones) -> np.ndarray:
    """The first val chain of 60-130 residues with an antiparallel ladder (its DSSP
    partners), as ``[L, 4, 3]`` Angstrom."""
    from molgen.evaluation import dssp_eight_state, three_state

    for atoms in val_backbones:
        if 60 <= len(atoms) <= 130 and np.isfinite(atoms).all():
            if np.mean(three_state(dssp_eight_state(atoms)) == "E") > 0.3:
                return atoms
    raise AssertionError("no strand-rich val chain")


def test_hbond_energy_matches_mdtraj_kabsch_sander(val_backbones):
    """Every backbone hydrogen bond mdtraj finds (E < -0.5 kcal/mol) in a real chain has the
    same energy in the script (capped at -3), to 0.02 kcal/mol, and no pair the script puts
    under -0.6 is missing from mdtraj's list."""
    probe = load_script("probe_sheet_steering")
    atoms = _strand_rich_chain(val_backbones)
    length = len(atoms)
    top = _topology(["GLY"] * length, np.r_[True, np.zeros(length - 1, dtype=bool)])
    traj = md.Trajectory((atoms.reshape(1, -1, 3) / 10).astype(np.float32), top)
    reference = md.kabsch_sander(traj)[0].tocoo()  # row acceptor C=O, column donor N-H
    acceptor = torch.arange(length).repeat_interleave(length - 1)
    donor = torch.cat([torch.arange(1, length)] * length)
    keep = (acceptor - donor).abs() > 1
    acceptor, donor = acceptor[keep], donor[keep]
    energy = probe.hbond_energy(torch.as_tensor(atoms), acceptor, donor).numpy()
    table = {(int(a), int(d)): e for a, d, e in zip(acceptor, donor, energy, strict=True)}
    found = {(int(a), int(d)) for a, d in zip(reference.row, reference.col, strict=True)}
    assert len(found) > length / 2
    for a, d, e in zip(reference.row, reference.col, reference.data, strict=True):
        if abs(int(a) - int(d)) > 1:
            assert abs(table[(int(a), int(d))] - max(e, -3.0)) < 0.02, (a, d, e)
    strong = {pair for pair, e in table.items() if e < -0.6}
    assert strong <= found


def test_ladder_energy_low_on_real_partners_and_not_on_shifted_ones(val_backbones):
    """On a real chain, the real strand partners' ladder energy averages below -2 kcal/mol
    per pair; the same pairs shifted by three residues along one strand average above -1
    (the soft minimum of two patterns without a bond is -ln 2)."""
    from molgen.evaluation import dssp_eight_state, three_state
    from molgen.io.strand_pairing import strand_partners

    probe = load_script("probe_sheet_steering")
    atoms = _strand_rich_chain(val_backbones)
    blueprint = "".join(three_state(dssp_eight_state(atoms)))
    partners = torch.as_tensor(strand_partners(atoms[:, 1], blueprint))[None]
    mask = torch.ones(1, len(atoms), dtype=torch.bool)
    i, j, anti = probe.partner_pairs(partners, mask)
    flat = torch.as_tensor(atoms)
    assert probe.ladder_energy(flat, (i, j, anti)).mean() < -2.0
    shifted = (j + 3).clamp(max=len(atoms) - 2)
    assert probe.ladder_energy(flat, (i, shifted, anti)).mean() > -1.0


def test_rediffuse_keeps_a_real_sheet_at_small_t_and_loses_it_from_noise(val_backbones):
    """Partial diffusion of a real strand-rich chain from t 0.015 with the bundled model keeps
    most of its DSSP strand (the sheet-survival probe's 0.43 of 0.44 at that t), so the
    function denoises the atoms it is given; from t 1 (pure noise) it keeps far less."""
    from molgen.evaluation import dssp_eight_state
    from molgen.io.blueprint import blueprint_from_dssp, encode_blueprint
    from molgen.models import load

    probe = load_script("probe_sheet_steering")
    atoms = _strand_rich_chain(val_backbones)
    blueprint = blueprint_from_dssp("".join(dssp_eight_state(atoms)))
    real = float(np.mean(np.array(list(blueprint)) == "E"))
    net = load("backbone").eval()
    ss = torch.as_tensor(encode_blueprint(blueprint))[None]
    kept = probe.rediffuse(net, atoms[None], [len(atoms)], ss, 0.015)
    assert kept > 0.75 * real, (kept, real)
    assert probe.rediffuse(net, atoms[None], [len(atoms)], ss, 1.0) < 0.5 * real
