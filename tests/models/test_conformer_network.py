"""TorsionScoreNetwork: symmetries of a torsion score, batching and gradients on real conformers."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from rdkit import Chem
from rdkit.Chem import AllChem, rdMolTransforms
from torch_geometric.data import Batch

from equivariant.dtype import default_dtype
from equivariant.testing import assert_equivariant
from molgen.chem.molecule_graph import HYDROGEN_FEATURE, molecule_graph
from molgen.diffusion.torus import TorusDiffuser
from molgen.geometry.torsions import rotatable_bonds
from molgen.models.conformer import TorsionScoreNetwork, TorsionScoreNetworkConfig

SMILES = {
    "ibuprofen": "CC(C)Cc1ccc(cc1)C(C)C(=O)O",  # 4 torsions
    "propanol": "CCCO",  # 1 torsion (QM9-like)
    "methyl_propanoate": "CCC(=O)OC",  # 2 torsions
    "ethoxyethanol": "CCOCCO",  # 3 torsions
    "benzene": "c1ccccc1",  # none
}


def _embed(smiles: str, seed: int = 11) -> Chem.Mol:
    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    assert AllChem.EmbedMolecule(mol, randomSeed=seed) == 0
    return mol


@pytest.fixture(scope="module")
def mols() -> dict[str, Chem.Mol]:
    return {name: _embed(smiles) for name, smiles in SMILES.items()}


@pytest.fixture(scope="module", params=[torch.float32, torch.float64], ids=["f32", "f64"])
def dtype(request: pytest.FixtureRequest) -> torch.dtype:
    return request.param


@pytest.fixture(scope="module")
def nets() -> dict[torch.dtype, TorsionScoreNetwork]:
    """The default network in float32 and (built in float64, see default_dtype) in float64."""
    out = {}
    for dtype in (torch.float32, torch.float64):
        torch.manual_seed(0)
        with default_dtype(dtype):
            out[dtype] = TorsionScoreNetwork().eval()
    return out


def _batch(mols: list[Chem.Mol], dtype: torch.dtype) -> Batch:
    with default_dtype(dtype):
        return Batch.from_data_list([molecule_graph(mol) for mol in mols])


def _score_fn(net: TorsionScoreNetwork, batch: Batch, sigma: float):
    """Scores as a function of the positions alone (graph features held fixed)."""

    def fn(pos: torch.Tensor) -> torch.Tensor:
        moved = batch.clone()
        moved.pos = pos
        return net(moved, sigma)

    return fn


def test_invariant_under_rotation_and_translation(mols, nets, dtype) -> None:
    """s(R x + t) == s(x) for 20 random rotations and translations (f32 1e-4, f64 1e-9)."""
    batch = _batch([mols["ibuprofen"], mols["ethoxyethanol"], mols["propanol"]], dtype)
    fn = _score_fn(nets[dtype], batch, 0.5)
    assert_equivariant(
        fn,
        [(batch.pos, "positions")],
        "global:8x0o",
        symmetries=("rotation", "translation"),
        dtype=dtype,
    )


def test_sign_flips_under_reflection(mols, nets, dtype) -> None:
    """s(-R x) == -s(x) for 20 random improper rotations, and s(mirror x) == -s(x) != 0."""
    batch = _batch([mols["ibuprofen"], mols["ethoxyethanol"], mols["propanol"]], dtype)
    fn = _score_fn(nets[dtype], batch, 0.5)
    assert_equivariant(
        fn,
        [(batch.pos, "positions")],
        "global:8x0o",
        symmetries=("reflection",),
        dtype=dtype,
    )
    with torch.no_grad():
        scores = fn(batch.pos)
        mirrored = fn(batch.pos * batch.pos.new_tensor([1.0, 1.0, -1.0]))
    atol = 1e-9 if dtype == torch.float64 else 1e-4
    torch.testing.assert_close(mirrored, -scores, atol=atol, rtol=0)
    assert scores.abs().min() > 10 * atol  # a zero score would pass trivially


def test_equivariant_under_atom_renumbering(mols, nets) -> None:
    """Chem.RenumberAtoms with a random permutation: each bond b-c keeps its score (f64 1e-9)."""
    net = nets[torch.float64]
    mol = mols["ibuprofen"]
    generator = torch.Generator().manual_seed(3)
    for _ in range(3):
        order = torch.randperm(mol.GetNumAtoms(), generator=generator).tolist()
        renumbered = Chem.RenumberAtoms(mol, order)  # new atom k is old atom order[k]
        with default_dtype(torch.float64):
            before = net.scores(mol, 0.3)
            after = net.scores(renumbered, 0.3)
        old_bonds = [frozenset(q[1:3]) for q in rotatable_bonds(mol).tolist()]
        new_bonds = [frozenset(order[i] for i in q[1:3]) for q in rotatable_bonds(renumbered)]
        assert sorted(map(sorted, old_bonds)) == sorted(map(sorted, new_bonds))
        matched = torch.stack([after[new_bonds.index(bond)] for bond in old_bonds])
        torch.testing.assert_close(matched, before, atol=1e-9, rtol=0)


def test_reversed_quadruple_gives_the_same_score(mols, nets) -> None:
    """angle(d, c, b, a) == angle(a, b, c, d), so the score of the reversed torsion is equal."""
    net = nets[torch.float64]
    batch = _batch([mols["ibuprofen"], mols["methyl_propanoate"]], torch.float64)
    reversed_batch = batch.clone()
    reversed_batch.torsion_index = batch.torsion_index.flip(1)
    with torch.no_grad():
        torch.testing.assert_close(net(reversed_batch, 0.7), net(batch, 0.7), atol=1e-12, rtol=0)


def test_score_depends_on_the_torsion_angle(mols, nets) -> None:
    """Turning the C-C-O-C torsion of ethoxyethanol from 180 to 60 degrees changes its score."""
    mol = Chem.Mol(mols["ethoxyethanol"])
    quad = rotatable_bonds(mol)[0].tolist()
    out = []
    for degrees in (180.0, 60.0):
        rdMolTransforms.SetDihedralRad(mol.GetConformer(), *quad, math.radians(degrees))
        out.append(nets[torch.float32].scores(mol, 0.3)[0])
    assert abs(out[0] - out[1]) > 1e-3


def test_batch_equals_single_molecules(mols, nets) -> None:
    """A batch of 3 molecules at 3 noise levels gives each molecule's own scores (< 1e-5)."""
    net = nets[torch.float32]
    names, sigmas = ["ibuprofen", "benzene", "methyl_propanoate"], [0.05, 1.0, 3.0]
    batched = net.scores(_batch([mols[n] for n in names], torch.float32), torch.tensor(sigmas))
    alone = torch.cat([net.scores(mols[n], s) for n, s in zip(names, sigmas, strict=True)])
    assert batched.shape == (4 + 0 + 2,)
    torch.testing.assert_close(batched, alone, atol=1e-5, rtol=0)


def test_no_rotatable_bond_gives_empty_output(mols, nets) -> None:
    """Benzene has no rotatable bond: the score tensor has shape [0]."""
    scores = nets[torch.float32].scores(mols["benzene"], 0.5)
    assert scores.shape == (0,) and scores.dtype == torch.float32


@pytest.mark.parametrize("t", [1e-3, 1 - 1e-3])
def test_gradients_finite_near_both_ends_of_time(mols, t: float) -> None:
    """Denoising loss sum (s - target)^2 / E[s^2] at sigma(t): every parameter gets a finite,
    not all-zero gradient, for t near 0 and near 1."""
    torch.manual_seed(1)
    net = TorsionScoreNetwork(TorsionScoreNetworkConfig(num_layers=2))
    batch = _batch([mols["ibuprofen"], mols["propanol"]], torch.float32)
    diffuser = TorusDiffuser()
    sigma = diffuser.sigma(torch.full((2,), t))  # [G]
    sigma_tor = sigma[batch.batch[batch.torsion_index[:, 1]]]  # [T]
    noise = sigma_tor * torch.randn(len(sigma_tor))
    target = diffuser.kernel_score(noise, sigma_tor)
    out = net(batch, sigma)
    loss = ((out - target) ** 2 / diffuser.kernel_score_norm(sigma_tor)).sum()
    loss.backward()
    for name, param in net.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
    assert all(p.grad.abs().sum() > 0 for p in net.parameters())


def test_checkpoint_round_trip(mols, tmp_path) -> None:
    """molgen.models.load(save(net)) rebuilds the config and gives the same scores."""
    from molgen.models import load, save

    torch.manual_seed(2)
    net = TorsionScoreNetwork(TorsionScoreNetworkConfig(num_layers=2, final_dim=8)).eval()
    loaded = load(save(net, tmp_path / "torsion"))
    assert isinstance(loaded, TorsionScoreNetwork) and loaded.config == net.config
    assert TorsionScoreNetwork.from_config(dataclasses.asdict(net.config)).config == net.config
    expected = net.scores(mols["ibuprofen"], 0.2)
    torch.testing.assert_close(loaded.scores(mols["ibuprofen"], 0.2), expected, atol=0, rtol=0)


@pytest.fixture(scope="module")
def heavy_net() -> TorsionScoreNetwork:
    """The default network with the heavy-atom graph, in float64."""
    torch.manual_seed(0)
    with default_dtype(torch.float64):
        return TorsionScoreNetwork(TorsionScoreNetworkConfig(heavy_atoms=True)).eval()


def test_heavy_atom_graph_ignores_hydrogen_positions(mols, nets, heavy_net) -> None:
    """With heavy_atoms, moving every hydrogen of ibuprofen by ~1 A leaves the scores as they
    are (1e-9); the all-atom network's scores change."""
    batch = _batch([mols["ibuprofen"]], torch.float64)
    hydrogens = batch.x[:, HYDROGEN_FEATURE] == 1
    moved = batch.pos.clone()
    moved[hydrogens] += torch.randn(int(hydrogens.sum()), 3, dtype=torch.float64)
    for net, same in ((heavy_net, True), (nets[torch.float64], False)):
        before, after = (_score_fn(net, batch, 0.5)(p).detach() for p in (batch.pos, moved))
        assert torch.allclose(before, after, atol=1e-9) is same


def test_heavy_atom_graph_equals_the_molecule_without_hydrogens(mols, heavy_net) -> None:
    """The heavy-atom scores of a molecule with explicit Hs equal those of the same molecule
    with its Hs removed (AddHs appends hydrogens, so heavy atoms keep their indices), in a
    batch with other molecules at other noise levels, and they are rotation invariant."""
    names = ["ibuprofen", "ethoxyethanol", "methyl_propanoate"]
    with_hs = [mols[n] for n in names]
    without = [Chem.RemoveHs(m) for m in with_hs]
    sigmas = torch.tensor([0.1, 0.7, 2.0])
    scores = heavy_net.scores(_batch(with_hs, torch.float64), sigmas)
    torch.testing.assert_close(
        scores, heavy_net.scores(_batch(without, torch.float64), sigmas), atol=1e-9, rtol=0
    )
    batch = _batch(with_hs, torch.float64)
    assert_equivariant(
        _score_fn(heavy_net, batch, 0.5),
        [(batch.pos, "positions")],
        "global:9x0o",
        symmetries=("rotation", "translation", "reflection"),
        dtype=torch.float64,
    )
