r"""Generate molecular conformers by reverse torsional diffusion (Jing et al. 2022).

For each input molecule (of a salt or solvate, its largest fragment: :func:`largest_fragment`):
``num`` seed conformers (:func:`molgen.chem.seed_conformers`,
ETKDGv3 with fallbacks), each minimised with MMFF94 (200 iterations; molecules without MMFF
parameters keep their seeds, and so does a seed that the minimisation makes fail a check).
Torsional diffusion changes only torsions, so the seeds fix bond lengths, angles, rings and
stereo: force-field local structure is closer to the DFT geometry than ETKDG's (QM9 val, 300
molecules: rigid molecules 0.089 A min-RMSD with relaxed seeds against 0.115 without; model
card). Then the reverse run from a start time :math:`t_0` (:func:`default_start_time`
unless set): at :math:`t_0 = 1` the rotatable torsions are drawn from the uniform prior on
the torus; below 1 they are the seed's own torsions noised to :math:`\sigma(t_0)` (partial
diffusion). ``steps x t0`` reverse steps
(:meth:`molgen.diffusion.TorusDiffuser.reverse_step`, SDE or probability-flow ODE) go from
:math:`t_0` to :math:`t = 0` (:math:`\sigma_{\min}`) on an even time grid, i.e.
log-spaced :math:`\sigma`, with the network's torsion scores. All conformers of all
molecules with the same start time are batched together (torch-geometric ``Batch``,
``batch_size`` conformers per network call); each step turns
every torsion of the batch (:func:`~molgen.chem.torsion_graph.turn_batch_torsions`, one
round per torsion of the most flexible molecule).

Then optionally MMFF94 relaxation, and every conformer goes through
:func:`molgen.checks.check_conformers` against the input (stereo preserved, no clashes,
bond geometry). Failing conformers are first MMFF94-minimised and kept if they then pass;
those still failing are regenerated from new seeds up to ``max_resamples`` times, and
finally replaced by seed conformers that pass. Molecules without a rotatable bond
get their seed conformers. A molecule that cannot be embedded yields an error in its
:class:`ConformerResult`; the others go on. Coordinates in Angstrom, angles in radians.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rdkit import Chem
from rdkit.Chem import Descriptors, rdForceFieldHelpers
from rdkit.Geometry import Point3D
from rich.progress import Progress
from torch_geometric.data import Batch

from molgen.checks.molecule import check_conformers
from molgen.chem.conformers import seed_conformers
from molgen.chem.torsion_graph import TorsionGraph, torsion_graph, turn_batch_torsions
from molgen.devices import resolve_device
from molgen.diffusion.torus import TorusDiffuser, wrap_angle
from molgen.errors import InputError
from molgen.geometry.torsions import rotatable_bonds, rotating_side, torsion_angles
from molgen.io.molecules import read_smiles, smiles_lines, write_sdf
from molgen.sample.config import ConformerSamplerConfig, with_settings
from molgen.sample.schedule import scaled_steps, time_grid
from molgen.seeding import mix_seed

__all__ = [
    "ConformerResult",
    "InputFailure",
    "default_start_time",
    "largest_fragment",
    "mmff_relax",
    "molecule_seed",
    "read_smiles_lenient",
    "sample_conformers",
    "write_conformers",
]

RELAX = ("none", "mmff")
# Seed minimisation: on 40 egfr ligands (model card) 200 iterations leave 110 of 400 seeds
# short of convergence, with the same min-RMSD to the poses as 500 (0.47 vs 0.48 A) at about
# 0.8 x the time; QM9 molecules converge within it.
SEED_MMFF_ITERATIONS = 200
TRAINED_MAX_HEAVY_ATOMS = 9  # QM9's largest molecules, all the torsion model has seen
LARGE_MOLECULE_START_TIME = 0.1  # 2 of 20 steps; 0.3 is as accurate on egfr, 1.2 x slower


def default_start_time(mol: Chem.Mol) -> float:
    """Start time of the reverse run for ``mol`` when the settings leave it open.

    1 (the full run from the uniform prior) for molecules of at most
    ``TRAINED_MAX_HEAVY_ATOMS`` heavy atoms, the size the bundled model was trained on; 0.1
    for larger ones, whose MMFF94-minimised seed torsions are better than the QM9-trained
    model's own torsion preferences (model card: on the egfr ligands a run from 1 is behind
    ETKDG, one from 0.1 or 0.3 ahead of it; on QM9 val the run from 1 is the better one).
    """
    if mol.GetNumHeavyAtoms() <= TRAINED_MAX_HEAVY_ATOMS:
        return 1.0
    return LARGE_MOLECULE_START_TIME


@dataclass
class ConformerResult:
    """Conformers of one input molecule, or why there are none.

    ``mol`` has ``num`` conformers (ids ``0..num-1``, Angstrom) and the input's hydrogen
    convention; ``checks`` holds one :func:`molgen.checks.check_conformers` record per
    conformer; ``repaired`` counts conformers that failed a check and pass after MMFF94
    minimisation, ``replaced`` those regenerated after failing a check; ``method``
    is ``"diffusion"`` or ``"seed"`` (no rotatable bond); ``dropped_fragments`` holds the
    SMILES of the fragments left out of a salt or solvate (:func:`largest_fragment`).
    """

    index: int
    name: str
    mol: Chem.Mol | None = None
    error: str | None = None
    checks: list[dict] = field(default_factory=list)
    repaired: int = 0
    replaced: int = 0
    method: str = ""
    dropped_fragments: list[str] = field(default_factory=list)


@dataclass
class InputFailure:
    """An input entry that could not be read (e.g. a bad SMILES line); sampling skips it."""

    name: str
    error: str


def read_smiles_lenient(path: str | Path) -> list[Chem.Mol | InputFailure]:
    """Read a ``.smi`` file like :func:`molgen.io.read_smiles_file`, one entry per SMILES line.

    An unparsable SMILES becomes an :class:`InputFailure` naming the file and line instead of
    aborting the whole file; a missing or empty file still raises ``InputError``.
    """
    path = Path(path)
    entries: list[Chem.Mol | InputFailure] = []
    for number, smiles, name in smiles_lines(path):
        try:
            entries.append(read_smiles(smiles, name))
        except InputError as err:
            entries.append(InputFailure(name, f"{path}: line {number}: {err}"))
    if not entries:
        raise InputError("no SMILES found", path)
    return entries


def largest_fragment(mol: Chem.Mol) -> tuple[Chem.Mol, list[str]]:
    """The largest fragment of a salt, solvate or mixture, and the SMILES of the others.

    Counter-ions and solvent are not part of a conformer ensemble, so molgen embeds the
    fragment with the most atoms (hydrogens included), then the largest molecular weight (the
    order of RDKit's ``rdMolStandardize.LargestFragmentChooser``); a single-fragment molecule
    (or an empty one) is returned as it is. The fragment keeps the input's name and atom order.
    """
    fragments = Chem.GetMolFrags(mol, asMols=True)
    if len(fragments) <= 1:  # one fragment, or none (an empty record: reported later)
        return mol, []
    size = [(f.GetNumAtoms(onlyExplicit=False), Descriptors.MolWt(f)) for f in fragments]
    keep = max(range(len(fragments)), key=size.__getitem__)
    kept = fragments[keep]
    if mol.HasProp("_Name"):
        kept.SetProp("_Name", mol.GetProp("_Name"))
    return kept, [Chem.MolToSmiles(f) for k, f in enumerate(fragments) if k != keep]


def molecule_seed(seed: int, index: int, round_: int = 0) -> int:
    """The 31-bit RDKit embedding seed of molecule ``index`` in a resampling round."""
    return mix_seed(seed, index, round_, bits=31)


def _set_positions(mol: Chem.Mol, conf_id: int, pos: np.ndarray) -> None:
    conf = mol.GetConformer(conf_id)
    for i, (x, y, z) in enumerate(pos.tolist()):
        conf.SetAtomPosition(i, Point3D(x, y, z))


class _Sampler:
    """Holds the network, diffuser, generator and settings of one :func:`sample_conformers`."""

    def __init__(self, model, config: ConformerSamplerConfig, device, generator, bar) -> None:
        self.net, self.config, self.device = model, config, device
        self.generator, self.bar = generator, bar
        self.dtype = next(model.parameters()).dtype
        self.diffuser = TorusDiffuser(config.min_sigma, config.max_sigma)

    def start_time(self, mol: Chem.Mol) -> float:
        """The configured ``start_time``, or :func:`default_start_time` of ``mol``."""
        given = self.config.start_time
        return default_start_time(mol) if given is None else given

    @torch.no_grad()
    def _diffuse(self, graphs: list[TorsionGraph], start: float) -> np.ndarray:
        """Reverse diffusion of one batch from time ``start``; positions ``[N, 3]`` (float64,
        Angstrom)."""
        batch = Batch.from_data_list(graphs).to(self.device)
        batch.x, batch.bond_attr = batch.x.to(self.dtype), batch.bond_attr.to(self.dtype)
        pos, quads = batch.pos.double(), batch.torsion_index
        seed_torsions = torsion_angles(pos, quads)  # [T]
        if start < 1.0:
            first, _ = self.diffuser.sample_marginal(seed_torsions, start, self.generator)
        else:
            first = self.diffuser.sample_prior(
                len(quads), torch.float64, self.device, self.generator
            )  # [T]
        pos = turn_batch_torsions(batch, pos, wrap_angle(first - seed_torsions))
        times = time_grid(self._steps(start), 0.0, start)
        for t, t_next in zip(times[:-1], times[1:], strict=True):
            batch.pos = pos.to(self.dtype)
            score = self.net(batch, self.diffuser.sigma(t)).double()  # [T], radian^-1
            theta = torsion_angles(pos, quads)
            new = self.diffuser.reverse_step(
                theta, score, t, t - t_next, generator=self.generator, ode=self.config.ode
            )
            pos = turn_batch_torsions(batch, pos, wrap_angle(new - theta))
            self.bar.advance("diffusion")
        return pos.cpu().numpy()

    def _steps(self, start: float) -> int:
        """Reverse steps of one run from ``start`` (:class:`ConformerSamplerConfig` ``steps``)."""
        return scaled_steps(self.config.steps, start, 0.0)

    def generate(self, requests: list[tuple[int, Chem.Mol, int, int]]) -> dict[int, Chem.Mol | str]:
        """``(index, mol, count, seed)`` -> mol with Hs and ``count`` conformers, or an error."""
        out: dict[int, Chem.Mol | str] = {}
        graphs: dict[float, list[tuple[int, int, TorsionGraph]]] = {}  # start: (index, id, graph)
        for index, mol, count, seed in requests:
            try:
                seeded = seed_conformers(mol, count, seed)
            except InputError as err:
                out[index] = str(err)
                continue
            finally:
                self.bar.advance("embedding")
            _relax_seeds(seeded, mol)
            out[index] = seeded
            quads = rotatable_bonds(seeded)
            if len(quads) == 0:
                continue
            template = torsion_graph(seeded, 0, rotating_side(seeded, quads))
            group = graphs.setdefault(self.start_time(mol), [])
            for conf in seeded.GetConformers():
                graph = template.clone()
                graph.pos = torch.as_tensor(conf.GetPositions(), dtype=torch.float64)
                group.append((index, conf.GetId(), graph))
        size = self.config.batch_size
        chunks = [
            (start, group[i : i + size])
            for start, group in sorted(graphs.items())
            for i in range(0, len(group), size)
        ]
        self.bar.grow("diffusion", sum(self._steps(start) for start, _ in chunks))
        for start_time, chunk in chunks:
            pos = self._diffuse([graph for _, _, graph in chunk], start_time)
            offset = 0
            for index, conf_id, graph in chunk:
                _set_positions(out[index], conf_id, pos[offset : offset + graph.num_nodes])
                offset += graph.num_nodes
        for mol in out.values():
            if isinstance(mol, Chem.Mol):
                _relax(mol, self.config.relax)
        return out


class _Bar:
    """Two rich progress tasks (embedding, diffusion) whose totals grow as work is found."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks = {name: progress.add_task(name, total=0) for name in ("embedding", "diffusion")}

    def grow(self, name: str, amount: int) -> None:
        task = self.tasks[name]
        self.progress.update(task, total=self.progress.tasks[task].total + amount)

    def advance(self, name: str) -> None:
        self.progress.advance(self.tasks[name])


def _failing(checks: list[dict]) -> list[int]:
    return [k for k, record in enumerate(checks) if not record["checks_passed"]]


def sample_conformers(
    model: torch.nn.Module,
    mols: Sequence[Chem.Mol],
    num: int | None = None,
    *,
    config: ConformerSamplerConfig | None = None,
    progress: bool = True,
    **settings: Any,
) -> list[ConformerResult]:
    """Generate ``num`` conformers of every molecule in ``mols`` (module docstring).

    Parameters
    ----------
    model : TorsionScoreNetwork
        Trained torsion score network (put in eval mode and moved to the device here).
    mols : sequence of rdkit.Chem.Mol or InputFailure
        Sanitized input molecules, with or without explicit hydrogens; their tetrahedral and
        E/Z stereo is kept. Existing conformers are ignored. An :class:`InputFailure` entry
        (unreadable input) gives a result carrying its error.
    num : int, optional
        Conformers per molecule (>= 1); replaces ``config.num`` when given.
    config : ConformerSamplerConfig, optional
        The settings (defaults: :class:`ConformerSamplerConfig`); the torsion noise range
        comes from the model's checkpoint unless set. Same ``seed``, same device, same
        coordinates.
    progress : bool
        Show progress bars.
    **settings
        Fields of :class:`ConformerSamplerConfig` replacing those of ``config``.

    Returns
    -------
    list of ConformerResult
        One per input molecule, in input order.
    """
    if num is not None:
        settings["num"] = num
    config = with_settings(config, ConformerSamplerConfig, settings).resolved(model)
    num, seed = config.num, config.seed
    if config.start_time is not None and not 0.0 < config.start_time <= 1.0:
        raise ValueError(f"start_time must be in (0, 1], got {config.start_time}")
    if num < 1 or config.steps < 1 or config.batch_size < 1:
        raise ValueError(
            f"need num, steps, batch_size >= 1, got {num}, {config.steps}, {config.batch_size}"
        )
    if config.relax not in RELAX:
        raise ValueError(f"relax must be one of {RELAX}, got {config.relax!r}")
    device = resolve_device(config.device)
    model = model.to(device).eval()
    generator = torch.Generator(device=device).manual_seed(seed)
    results = []
    for i, m in enumerate(mols):
        if isinstance(m, InputFailure):
            results.append(ConformerResult(i, m.name, error=m.error))
            continue
        name = m.GetProp("_Name") if m.HasProp("_Name") and m.GetProp("_Name") else f"mol_{i}"
        results.append(ConformerResult(i, name))
    mols = list(mols)
    for i, m in enumerate(mols):
        if isinstance(m, Chem.Mol):
            mols[i], results[i].dropped_fragments = largest_fragment(m)
    valid = [(i, m) for i, m in enumerate(mols) if isinstance(m, Chem.Mol)]
    with Progress(disable=not progress, transient=False) as progress_bar:
        bar = _Bar(progress_bar)
        bar.grow("embedding", len(valid))
        sampler = _Sampler(model, config, device, generator, bar)
        first = sampler.generate([(i, m, num, molecule_seed(seed, i, 0)) for i, m in valid])
        outputs: dict[int, Chem.Mol] = {}
        for i, value in first.items():
            if isinstance(value, str):
                results[i].error = value
                continue
            outputs[i] = value
            results[i].checks = check_conformers(value, reference=mols[i])
            _repair(value, results[i], mols[i])
        for round_ in range(1, config.max_resamples + 2):
            bad = {i: _failing(results[i].checks) for i in outputs}
            bad = {i: ids for i, ids in bad.items() if ids}
            if not bad:
                break
            bar.grow("embedding", len(bad))
            final = round_ == config.max_resamples + 1
            factor = 4 if final else 2  # spare conformers in case some fail again
            requests = [
                (i, mols[i], factor * len(ids), molecule_seed(seed, i, round_))
                for i, ids in bad.items()
            ]
            fresh = (
                {i: _plain_seeds(mols[i], n, s) for i, _, n, s in requests}
                if final
                else sampler.generate(requests)
            )
            for i, ids in bad.items():
                if isinstance(fresh[i], str):
                    continue
                new_checks = check_conformers(fresh[i], reference=mols[i])
                good = [k for k, record in enumerate(new_checks) if record["checks_passed"]]
                for k, source in zip(ids, good, strict=False):
                    pos = fresh[i].GetConformer(source).GetPositions()
                    _set_positions(outputs[i], k, pos)
                    results[i].checks[k] = {**new_checks[source], "conformer_id": k}
                    results[i].replaced += 1
    for i, mol in outputs.items():
        results[i].method = "diffusion" if len(rotatable_bonds(mol)) else "seed"
        has_hs = any(atom.GetAtomicNum() == 1 for atom in mols[i].GetAtoms())
        results[i].mol = mol if has_hs else Chem.RemoveHs(mol)
    return results


def _subset(mol: Chem.Mol, conf_ids: list[int]) -> Chem.Mol:
    """A copy of ``mol`` holding copies of the conformers ``conf_ids`` only (new ids 0..n-1)."""
    out = Chem.Mol(mol)
    out.RemoveAllConformers()
    for conf_id in conf_ids:
        out.AddConformer(Chem.Conformer(mol.GetConformer(conf_id)), assignId=True)
    return out


def _repair(mol: Chem.Mol, result: ConformerResult, reference: Chem.Mol) -> None:
    """MMFF94-minimise the conformers of ``mol`` that fail a check (in place); those that then
    pass are kept, with their new check records. A clash after diffusion is mostly two
    groups turned into each other, which a local minimisation separates at a fraction of
    the cost of diffusing new conformers."""
    failing = _failing(result.checks)
    if not failing:
        return
    work = _subset(mol, failing)
    mmff_relax(work)
    for source, (k, record) in enumerate(
        zip(failing, check_conformers(work, reference=reference), strict=True)
    ):
        if record["checks_passed"]:
            _set_positions(mol, k, work.GetConformer(source).GetPositions())
            result.checks[k] = {**record, "conformer_id": k}
            result.repaired += 1


def _plain_seeds(mol: Chem.Mol, count: int, seed: int) -> Chem.Mol | str:
    """MMFF-relaxed seed conformers (no diffusion); last resort for failing ones."""
    try:
        seeded = seed_conformers(mol, count, seed)
    except InputError as err:
        return str(err)
    _relax_seeds(seeded, mol)
    return seeded


def _relax_seeds(seeded: Chem.Mol, reference: Chem.Mol) -> None:
    """MMFF94-minimise the seed conformers in place (``SEED_MMFF_ITERATIONS``), keeping a seed
    as embedded where the minimisation makes it fail a check it passed (MMFF94 puckers some
    strained QM9 aromatic rings, and can invert a strained centre: 11 of 3,000 QM9 val
    seeds)."""
    embedded = Chem.Mol(seeded)
    mmff_relax(seeded, SEED_MMFF_ITERATIONS)
    failing = _failing(check_conformers(seeded, reference=reference))
    if not failing:
        return
    before = _subset(embedded, failing)
    records = check_conformers(before, reference=reference)
    for source, (conf_id, record) in enumerate(zip(failing, records, strict=True)):
        if record["checks_passed"]:
            _set_positions(seeded, conf_id, before.GetConformer(source).GetPositions())


def _relax(mol: Chem.Mol, relax: str) -> None:
    """:func:`mmff_relax` when ``relax == "mmff"``."""
    if relax == "mmff":
        mmff_relax(mol)


def mmff_relax(mol: Chem.Mol, max_iterations: int = 500) -> None:
    """MMFF94-minimise every conformer of ``mol`` in place (at most ``max_iterations``
    iterations, one thread), if MMFF94 has parameters for it (otherwise it is left as it
    is)."""
    if rdForceFieldHelpers.MMFFHasAllMoleculeParams(mol):
        rdForceFieldHelpers.MMFFOptimizeMoleculeConfs(mol, numThreads=1, maxIters=max_iterations)


def write_conformers(
    results: Sequence[ConformerResult], out_path: str | Path, overwrite: bool = False
) -> Path:
    """Write every conformer of every successful result as one SDF record.

    Each record carries ``input_index`` (0-based position in the input), ``input_name``,
    ``conformer_id`` and ``molgen_checks_passed`` (1/0) with ``molgen_failed_checks``, and
    ``molgen_dropped_fragments`` (dot-joined SMILES) for a salt whose counter-ions were left
    out.
    """
    mols, props = [], []
    for result in results:
        if result.mol is None:
            continue
        mol = Chem.Mol(result.mol)
        for conf, record in zip(mol.GetConformers(), result.checks, strict=True):
            conf.SetIntProp("molgen_checks_passed", int(bool(record["checks_passed"])))
            conf.SetProp("molgen_failed_checks", ",".join(record["failed_checks"]))
        mols.append(mol)
        props.append({"input_index": result.index, "input_name": result.name})
        if result.dropped_fragments:
            props[-1]["molgen_dropped_fragments"] = ".".join(result.dropped_fragments)
    return write_sdf(mols, out_path, properties=props, overwrite=overwrite)
