r"""Sample protein backbones by running the reverse SE(3) diffusion with a score network.

From the prior at :math:`t = 1` (uniform rotations, centred Gaussian translations) to
:math:`t_{\min}`, each step asks the network for scores and moves the frames with
:meth:`molgen.diffusion.SE3Diffuser.reverse_step`: for translations the exact Gaussian
transition of the VP SDE given the clean estimate
(:meth:`molgen.diffusion.R3Diffuser.reverse_step`), for rotations a geodesic random walk;
``ode=True`` follows the probability-flow ODE instead. A ``guidance`` weight other than 1
mixes each step's outputs with those for an unspecified blueprint (classifier-free guidance,
:func:`_guided_scores`). The network's previous
:math:`\hat x_0` is fed back as self-conditioning. With ``restrain`` each step's
translation score is formed from :math:`\hat x_0` moved by
:func:`molgen.sample.restraints.restrain_ca` (:func:`_restrained_score`). The output is the
network's clean-frame prediction :math:`(\hat R_0, \hat x_0)` at the last step, turned into
N, CA, C, O atoms with O placed from the next N (and from the predicted :math:`\psi` at the
C-terminus); with ``idealize`` those atoms are then moved to ideal covalent geometry by
:func:`molgen.sample.idealize.idealize_backbone`. Settings: :class:`BackboneSamplerConfig`;
what each default was measured to do: the model card.

Samples of all requested lengths are batched together (sorted by length, padded with a
mask), one network call per step and batch. Motif scaffolding (``contig``) and partial
diffusion (``input``, ``partial_t``) are in :mod:`molgen.sample.motif`. Sheet-first sampling
(``sheets``) holds each blueprint's ideal sheet (:mod:`molgen.sample.sheet`) by the same
replacement, as a motif of that chain alone; chains with and without a sheet go in separate
batches. A drawn blueprint (``blueprint_prior``) whose sheet would hold less than
``MIN_SHEET_COVERAGE`` of its strand residues is drawn again (:func:`sheet_coverage`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import numpy as np
import torch

from molgen.devices import resolve_device
from molgen.diffusion import DEFAULT_MIN_T
from molgen.geometry import Frames, backbone_from_frames, frames_from_backbone
from molgen.io.blueprint import encode_blueprint, split_blueprint
from molgen.io.strand_pairing import MAX_PARTNERS, partners_from_pairing, rule_pairing
from molgen.sample.blueprint_prior import DrawnBlueprint, draw_blueprints
from molgen.sample.config import BackboneSamplerConfig, with_settings
from molgen.sample.idealize import idealize_backbone
from molgen.sample.motif import (
    Conditioning,
    MotifGuide,
    MotifPlacement,
    motif_ca_rmsd,
    place_motif,
    read_conditioning,
    replace_motif,
)
from molgen.sample.restraints import restrain_ca
from molgen.sample.schedule import scaled_steps, time_grid
from molgen.sample.sheet import IdealSheet, build_sheet
from molgen.seeding import rank_seed

__all__ = ["SampledBackbone", "sample_backbones", "sheet_coverage", "shifted_score", "step_count"]

#: Sheet-first sampling redraws a drawn blueprint whose built sheet holds less than this
#: fraction of its strand residues (model card, "Session 27").
MIN_SHEET_COVERAGE = 0.5


@dataclass
class SampledBackbone:
    """One generated chain: ``atoms [L, 4, 3]`` (N, CA, C, O; Angstrom), its length and index,
    and the blueprint it was conditioned on (``None`` when unconditional) with its position in
    the requested list; for motif scaffolding, where its motif went (``motif``); in
    sheet-first sampling, the 0-based positions of the residues built as an ideal sheet
    (``sheet_positions``)."""

    length: int
    index: int
    atoms: np.ndarray
    blueprint: str | None = None
    blueprint_index: int | None = None
    motif: MotifPlacement | None = None
    sheet_positions: tuple[int, ...] | None = None


def step_count(config: BackboneSamplerConfig) -> int:
    """Reverse steps of a run: ``steps``, or for partial diffusion ``steps`` scaled by
    ``(partial_t - min_t) / (1 - min_t)`` (:func:`~molgen.sample.schedule.scaled_steps`)."""
    if config.partial_t is None:
        return config.steps
    min_t = DEFAULT_MIN_T if config.min_t is None else config.min_t
    return scaled_steps(config.steps, config.partial_t, min_t)


@dataclass(frozen=True, order=True)
class _Job:
    """One chain to sample: its length, sample index and (optional) blueprint; the index of a
    user's blueprint in the requested list, -1 for unconditional lengths; the strand pairing
    the user gave or a drawn blueprint came with (``None``: :func:`rule_pairing`); the ideal
    ``sheet`` held as its motif in sheet-first sampling."""

    length: int
    blueprint_index: int
    index: int
    blueprint: str | None = None
    motif_rows: tuple[int, ...] | None = None
    scaffold_lengths: tuple[int, ...] | None = None
    pairing: tuple[tuple[int, int, bool], ...] | None = None
    sheet: IdealSheet | None = field(default=None, compare=False)

    def strand_pairing(self) -> list[tuple[int, int, bool]]:
        """The pairing given with the blueprint, else :func:`rule_pairing` of it."""
        return rule_pairing(self.blueprint) if self.pairing is None else list(self.pairing)


@lru_cache(maxsize=4096)
def _sheet(blueprint: str, pairing: tuple[tuple[int, int, bool], ...]) -> IdealSheet | None:
    """:func:`build_sheet`, once per blueprint and pairing."""
    return build_sheet(blueprint, pairing)


def _with_sheets(jobs: Sequence[_Job]) -> list[_Job]:
    """``jobs`` with the ideal sheet of each blueprint."""
    out = []
    for job in jobs:
        if job.blueprint is None:
            out.append(job)
            continue
        out.append(replace(job, sheet=_sheet(job.blueprint, tuple(job.strand_pairing()))))
    return out


def sheet_coverage(drawn: DrawnBlueprint) -> float:
    """Fraction of the blueprint's strand residues that its built sheet holds (1 without
    strands)."""
    strands = drawn.blueprint.count("E")
    if strands == 0:
        return 1.0
    sheet = _sheet(drawn.blueprint, tuple(drawn.pairing))
    return 0.0 if sheet is None else len(sheet.positions) / strands


def _buildable(drawn: DrawnBlueprint) -> bool:
    """Whether sheet-first sampling realises at least ``MIN_SHEET_COVERAGE`` of the strands."""
    return sheet_coverage(drawn) >= MIN_SHEET_COVERAGE


def _batches(jobs: Sequence[_Job], size: int) -> list[list[_Job]]:
    """``jobs`` in batches of at most ``size``, jobs with a sheet and without apart (each
    group keeps its order)."""
    batches = []
    for group in ([j for j in jobs if j.sheet is None], [j for j in jobs if j.sheet is not None]):
        batches += [group[i : i + size] for i in range(0, len(group), size)]
    return batches


def _jobs(
    lengths: Sequence[int],
    blueprints: Sequence[str],
    num: int,
    drawn: Sequence[DrawnBlueprint | None] | None = None,
) -> list[_Job]:
    """Every length and every blueprint ``num`` times; unconditional jobs take the blueprints
    ``drawn`` for them (one per job, in order, with their pairings), if given."""
    jobs = [_Job(n, -1, i) for n in lengths for i in range(num)]
    if drawn is not None:
        jobs = [
            j if d is None else _Job(j.length, -1, j.index, d.blueprint, pairing=tuple(d.pairing))
            for j, d in zip(jobs, drawn, strict=True)
        ]
    for k, text in enumerate(blueprints):
        letters, pairing = split_blueprint(text)
        pairing = None if pairing is None else tuple(pairing)
        jobs += [_Job(len(letters), k, i, letters, pairing=pairing) for i in range(num)]
    return jobs


def _blueprint_codes(
    chunk: Sequence[_Job], device: torch.device, with_partners: bool = False
) -> torch.Tensor | None:
    """Long ``[B, Lmax]`` blueprint codes of a batch (0 = unspecified or padding), or None.

    ``with_partners`` (a network with ``pair_condition``): ``[B, Lmax, 1 + P]``, the codes
    followed by the strand partners of each job's pairing (-1 none).
    """
    if all(job.blueprint is None for job in chunk):
        return None
    size = (len(chunk), max(job.length for job in chunk))
    codes = torch.zeros(size, dtype=torch.long)
    partners = torch.full((*size, MAX_PARTNERS), -1, dtype=torch.long)
    for row, job in enumerate(chunk):
        if job.blueprint is None:
            continue
        codes[row, : job.length] = torch.from_numpy(encode_blueprint(job.blueprint))
        if with_partners:
            pairs = partners_from_pairing(job.blueprint, job.strand_pairing())
            partners[row, : job.length] = torch.from_numpy(pairs)
    if with_partners:
        codes = torch.cat([codes[..., None], partners], dim=-1)
    return codes.to(device)


@dataclass
class _Guide:
    """A batch's conditioning: the motif held by replacement and, for partial diffusion,
    the clean ``start`` atoms ``[B, L, 4, 3]`` (Angstrom) noised to ``config.partial_t``."""

    motif: MotifGuide | None = None
    start: torch.Tensor | None = None


@torch.no_grad()
def _sample_batch(
    model: torch.nn.Module,
    lengths: Sequence[int],
    config: BackboneSamplerConfig,
    generator: torch.Generator,
    device: torch.device | str,
    on_step: Callable[[], None] | None = None,
    ss: torch.Tensor | None = None,
    guide: _Guide | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Run the reverse process for one padded batch, with an optional ``guide``; returns atoms
    ``[B, Lmax, 4, 3]`` (Angstrom) and the motif CA RMSD ``[B]`` (Angstrom) of the network's
    final prediction, ``None`` without a motif.

    ``config`` is resolved (a number for ``min_t``); ``ss`` (long ``[B, Lmax]`` blueprint
    codes, or ``[B, Lmax, 1 + P]`` codes and strand partners for a network with
    ``pair_condition``) is given to a network built with ``ss_condition`` and must be all zero
    (unspecified) for any other network.
    """
    if ss is not None and not getattr(model.config, "ss_condition", False):
        if bool((ss != 0).any()):
            raise ValueError("this model was trained without blueprint conditioning")
        ss = None
    guide = guide or _Guide()
    diffuser = model.diffuser
    batch, max_len = len(lengths), max(lengths)
    sizes = torch.tensor(lengths, device=device)
    mask = torch.arange(max_len, device=device)[None, :] < sizes[:, None]  # [B, L]
    if guide.start is None:
        frames = diffuser.sample_prior(
            (batch, max_len), device=device, generator=generator, mask=mask
        )
        times = time_grid(config.steps, config.min_t, warp=config.time_warp)
    else:
        start = guide.start.to(device=device, dtype=torch.float32)
        rot_0, x_0 = frames_from_backbone(start[..., 0, :], start[..., 1, :], start[..., 2, :])
        noisy = diffuser.sample_marginal(Frames(rot_0, x_0, mask), config.partial_t, generator)
        frames = Frames(noisy.rot_t, noisy.trans_t, mask)
        times = time_grid(step_count(config), config.min_t, config.partial_t, config.time_warp)
    if guide.motif is not None:
        frames = replace_motif(frames, guide.motif, diffuser, times[0], generator)
    rot_noise = config.rotation_noise_scale
    noise = (config.noise_scale if rot_noise is None else rot_noise, config.noise_scale)
    self_cond = None
    for t, t_next in zip(times[:-1], times[1:], strict=True):
        time = torch.full((batch,), t, device=device)
        out = _guided_scores(model, frames, time, self_cond, ss, generator, config.guidance)
        if model.config.self_condition:
            self_cond = out["x0"]
        trans_score = out["trans_score"]
        if config.restrain:
            trans_score = _restrained_score(diffuser.r3, trans_score, out["x0"], mask, t)
        rot_score = out["rot_score"] * config.rotation_score_scale
        frames = diffuser.reverse_step(
            frames, (rot_score, trans_score), t, t - t_next,
            noise_scale=noise, generator=generator, ode=config.ode,
        )  # fmt: skip
        if guide.motif is not None:
            frames = replace_motif(frames, guide.motif, diffuser, t_next, generator)
        if on_step is not None:
            on_step()
    time = torch.full((batch,), times[-1], device=device)
    out = model.scores(
        frames.rotations, frames.translations, time, mask, self_cond, None, ss, generator
    )
    if guide.motif is not None:
        for _ in range(config.motif_harmonize_steps):
            frames = replace_motif(Frames(out["R0"], out["x0"], mask), guide.motif, diffuser,
                                   times[-1], generator)  # fmt: skip
            if model.config.self_condition:
                self_cond = out["x0"]
            out = model.scores(
                frames.rotations, frames.translations, time, mask, self_cond, None, ss, generator
            )
            if on_step is not None:
                on_step()
    psi = torch.atan2(out["psi"][..., 1], out["psi"][..., 0])  # [B, L]
    atoms = backbone_from_frames(out["R0"], out["x0"], psi=psi, mask=mask)
    fixed, ca_rmsd = None, None
    if guide.motif is not None:
        ca_rmsd = motif_ca_rmsd(out["x0"], guide.motif).cpu().numpy()
        atoms = place_motif(atoms, guide.motif)
        fixed = guide.motif.fixed(mask.shape)
    if config.idealize:
        atoms = idealize_backbone(atoms, mask, fixed=fixed)
    return atoms.double().cpu().numpy(), ca_rmsd


def _unspecified(ss: torch.Tensor) -> torch.Tensor:
    """The blueprint codes ``ss`` with every label unspecified (0) and, for codes followed by
    strand partners (``[B, L, 1 + P]``), every partner removed (-1)."""
    if ss.dim() == 2:
        return torch.zeros_like(ss)
    free = torch.full_like(ss, -1)
    free[..., 0] = 0
    return free


def _guided_scores(
    model: torch.nn.Module,
    frames: Frames,
    time: torch.Tensor,
    self_cond: torch.Tensor | None,
    ss: torch.Tensor | None,
    generator: torch.Generator,
    weight: float,
) -> dict[str, torch.Tensor]:
    r"""Network outputs with classifier-free guidance on the blueprint ``ss``.

    With weight :math:`w` the translation and rotation scores and the clean translation
    estimate are :math:`s_\varnothing + w\,(s_c - s_\varnothing)`, where :math:`s_c` is the
    output given the blueprint and :math:`s_\varnothing` the output with every label
    unspecified (the model is trained with labels dropped, so both are its own estimates; Ho
    & Salimans 2022). Rotation scores are tangent vectors at the same :math:`R_t`, so the
    combination is taken there. :math:`w = 1` (or no blueprint) is the conditional model alone,
    one network call; otherwise two. ``R0`` and ``psi`` stay the conditional ones.
    """
    rot, x, mask = frames.rotations, frames.translations, frames.mask
    out = model.scores(rot, x, time, mask, self_cond, None, ss, generator)
    if ss is None or weight == 1.0:
        return out
    free = model.scores(rot, x, time, mask, self_cond, None, _unspecified(ss), generator)
    guided = dict(out)
    for key in ("trans_score", "rot_score", "x0"):
        guided[key] = free[key] + weight * (out[key] - free[key])
    return guided


def _batch_guide(
    chunk: Sequence[_Job], conditioning: Conditioning | None, device: torch.device
) -> _Guide | None:
    """The :class:`_Guide` of a batch of jobs (``None`` without conditioning or sheets)."""
    if conditioning is None:
        if chunk[0].sheet is None:
            return None
        sheets = [(job.sheet.atoms, job.sheet.positions) for job in chunk]
        return _Guide(MotifGuide.stack(sheets, device, torch.float32))
    motif = None
    if conditioning.motif is not None:
        rows = [job.motif_rows for job in chunk]
        motif = MotifGuide.build(conditioning.motif.atoms, rows, device, torch.float32)
    start = None
    if conditioning.start is not None:
        start = torch.as_tensor(conditioning.start, dtype=torch.float64, device=device)
        start = start.expand(len(chunk), *start.shape)
    return _Guide(motif, start)


def _restrained_score(
    r3, trans_score: torch.Tensor, x0: torch.Tensor, mask: torch.Tensor, t: float
) -> torch.Tensor:
    r"""Translation score with the clean estimate moved to :math:`x_0' = R(\hat x_0)`.

    The score is linear in the clean estimate, :math:`s = -c^2(x_t - \alpha_t\hat x_0)/
    \sigma_t^2`, so the steered score is :math:`s + c^2\alpha_t(x_0' - \hat x_0)/\sigma_t^2`
    (1/Angstrom); ``R`` is :func:`molgen.sample.restraints.restrain_ca`.
    """
    shift = restrain_ca(x0, mask) - x0 * mask[..., None]  # [B, L, 3], Angstrom
    return shifted_score(r3, trans_score, shift, t)


def shifted_score(r3, trans_score: torch.Tensor, shift: torch.Tensor, t: float) -> torch.Tensor:
    r"""Translation score ``[B, L, 3]`` (1/Angstrom) of a clean estimate moved by ``shift``
    (Angstrom): :math:`s + c^2\alpha_t\,\Delta/\sigma_t^2`, the score being linear in
    :math:`\hat x_0`."""
    alpha, sigma = r3.marginal(torch.tensor(t, dtype=shift.dtype, device=shift.device))
    return trans_score + r3.scale**2 * alpha / sigma**2 * shift


def sample_backbones(
    model: torch.nn.Module,
    lengths: Sequence[int] | None = None,
    num: int | None = None,
    *,
    config: BackboneSamplerConfig | None = None,
    rank: int = 0,
    world_size: int = 1,
    progress: bool = True,
    **settings: Any,
) -> list[SampledBackbone]:
    """Generate ``num`` backbones of every length in ``lengths`` and of every blueprint.

    Parameters
    ----------
    model : FrameScoreNetwork
        Trained score network (put in eval mode and moved to the device here).
    lengths : sequence of int, optional
        Chain lengths (residues); replaces ``config.lengths`` when given.
    num : int, optional
        Samples per length and per blueprint; replaces ``config.num`` when given.
    config : BackboneSamplerConfig, optional
        The settings (defaults: :class:`BackboneSamplerConfig`); ``None`` entries are filled
        in from the model's checkpoint (:meth:`BackboneSamplerConfig.resolved`).
    rank, world_size : int
        Under ``torchrun``, each rank samples every ``world_size``-th (length, index) job;
        the generator of rank ``r`` is seeded with :func:`molgen.seeding.mix_seed` of
        ``(seed, r)``.
    progress : bool
        Show a progress bar.
    **settings
        Fields of :class:`BackboneSamplerConfig` replacing those of ``config``
        (``steps=20``, ``blueprints=[...]``, ``seed=1``...).

    Returns
    -------
    list of SampledBackbone
        Unconditional samples by length then index, then the blueprints' in the order given.
    """
    if lengths is not None:
        settings["lengths"] = list(lengths)
    if num is not None:
        settings["num"] = num
    config = with_settings(config, BackboneSamplerConfig, settings).resolved(model)
    conditioning = read_conditioning(config.contig, config.motif, config.input)
    if conditioning is not None and config.partial_t is None and config.input is not None:
        raise ValueError("partial diffusion (input) needs partial_t")
    sizes = list(config.lengths) + [len(split_blueprint(bp)[0]) for bp in config.blueprints]
    if conditioning is not None:
        if sizes:
            raise ValueError("a contig or an input sets the lengths: give no lengths or blueprints")
        sizes = [2]
    if not sizes or config.num < 1:
        raise ValueError("need at least one length or blueprint and num >= 1")
    if min(sizes) < 2:
        raise ValueError(f"chain lengths must be >= 2, got {min(sizes)}")
    conditional = getattr(model.config, "ss_condition", False)
    paired = getattr(model.config, "pair_condition", False)
    if (config.blueprints or config.blueprint_prior) and not conditional:
        raise ValueError("this model was trained without blueprint conditioning")
    if not (paired or config.sheets) and any(split_blueprint(bp)[1] for bp in config.blueprints):
        raise ValueError("strand pairs need sheets=True or a model trained with them")
    device = resolve_device(config.device)
    model = model.to(device).eval()
    generator = torch.Generator(device=device).manual_seed(rank_seed(config.seed, rank))
    if conditioning is not None:
        jobs = _conditioned_jobs(conditioning, config)
    else:
        drawn = None
        if config.blueprint_prior:
            lengths_each = [n for n in config.lengths for _ in range(config.num)]
            accept = _buildable if config.sheets and conditional else None
            drawn = draw_blueprints(lengths_each, config.seed, accept)
        jobs = _jobs(config.lengths, config.blueprints, config.num, drawn)
    # Every rank builds the same list, takes its share, and sorts it by length (less padding).
    jobs = sorted(jobs[rank::world_size])
    if config.sheets and conditional and conditioning is None:
        jobs = _with_sheets(jobs)
    batches = _batches(jobs, config.batch_size)
    from rich.progress import Progress

    results: list[SampledBackbone] = []
    with Progress(disable=not progress, transient=False) as bar:
        motif = conditioning is not None and conditioning.motif is not None
        held = [motif or chunk[0].sheet is not None for chunk in batches]
        calls = len(batches) * step_count(config) + config.motif_harmonize_steps * sum(held)
        task = bar.add_task("sampling backbones", total=calls)
        for chunk in batches:
            atoms, ca_rmsd = _sample_batch(
                model, [job.length for job in chunk], config, generator, device,
                lambda: bar.advance(task), _blueprint_codes(chunk, device, paired),
                _batch_guide(chunk, conditioning, device),
            )  # fmt: skip
            for row, job in enumerate(chunk):
                k = job.blueprint_index if job.blueprint_index >= 0 else None
                atoms_row = atoms[row, : job.length]
                placement = None
                if conditioning is not None:
                    rms = None if ca_rmsd is None else float(ca_rmsd[row])
                    placement = conditioning.placement(
                        job.motif_rows or (), job.scaffold_lengths, rms
                    )
                sheet = None if job.sheet is None else job.sheet.positions
                results.append(SampledBackbone(
                    job.length, job.index, atoms_row, job.blueprint, k, placement, sheet
                ))  # fmt: skip
    return sorted(results, key=_sample_order)


def _conditioned_jobs(conditioning: Conditioning, config: BackboneSamplerConfig) -> list[_Job]:
    """``num`` jobs, each with its length, motif rows and scaffold lengths."""
    jobs = []
    for index in range(config.num):
        length, rows, scaffold = conditioning.layout(index, config.seed, config.length_range)
        jobs.append(_Job(length, -1, index, None, rows, scaffold))
    return jobs


def _sample_order(sample: SampledBackbone) -> tuple[int, int, int]:
    """Unconditional samples by length, then blueprints in the order given, then index."""
    k = -1 if sample.blueprint_index is None else sample.blueprint_index
    by_length = k < 0 and sample.motif is None
    return (k, sample.length if by_length else 0, sample.index)
