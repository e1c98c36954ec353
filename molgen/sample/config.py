"""Sampler settings: one dataclass per sampler, the single owner of every default.

The CLI builds a config from its options, the library takes it, and ``config.json`` of an
output folder is its :func:`dataclasses.asdict`. Values the model was trained with
(``min_t`` of the backbone model, the torsion noise range of the conformer model) default
to ``None``, meaning "what the checkpoint says" (:func:`molgen.models.trained_value`); a
number overrides it. A new setting is one new field with its default and docstring line.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BackboneSamplerConfig", "ConformerSamplerConfig", "with_settings"]


@dataclass
class BackboneSamplerConfig:
    """What to sample and how (:func:`molgen.sample.sample_backbones`).

    Attributes
    ----------
    model : str
        Bundled model name or checkpoint folder (read by the run entry points; a function
        handed a loaded network ignores it).
    lengths : list of int
        Chain lengths (residues) sampled without a user blueprint; ``num`` samples each.
    blueprints : list of str
        Secondary-structure blueprints (``H E L X`` per residue) for a model trained with
        ``ss_condition``; ``num`` samples each, of the blueprint's length. A blueprint may end
        in strand-pair tokens (``LEEEELLEEEEL 1-2A``, :mod:`molgen.io.strand_pairing`) read
        by a model trained with ``pair_condition``; without them such a model pairs each
        strand with the next (``rule_pairing``).
    num : int
        Samples per length and per blueprint.
    steps : int
        Reverse-time steps from t = 1 to ``min_t``.
    time_warp : float
        Spacing of those steps (:func:`molgen.sample.schedule.time_grid`): 1 even in t, above
        1 crowded toward ``min_t``.
    noise_scale : float
        Multiplies the SDE noise (1 = exact reverse SDE; lower trades diversity for quality).
    rotation_noise_scale : float or None
        The noise factor of the rotation part alone; ``None``: ``noise_scale``.
    rotation_score_scale : float
        Multiplies the rotation score (drift) at every step: above 1 rotations settle earlier
        in the reverse process than translations (the inference-time rotation speed-up of
        FrameFlow's ``exp_rate`` and FoldFlow's ``inference_scaling``); 1 is the exact
        reverse process.
    guidance : float
        Classifier-free guidance weight on the blueprint (and strand partners) for a model
        trained with ``ss_condition``: the scores are :math:`s_u + w (s_c - s_u)`, :math:`s_u`
        with every label unspecified. 1 is the conditional model alone (one network call per
        step); other values take two calls per step; 0 ignores the blueprint.
    ode : bool
        Deterministic probability-flow ODE instead of the SDE.
    restrain : bool
        Steer every step's clean estimate with the CA restraint
        (:func:`molgen.sample.restraints.restrain_ca`).
    idealize : bool
        Move the final atoms to ideal covalent geometry
        (:func:`molgen.sample.idealize.idealize_backbone`).
    sheets : bool
        Sheet-first sampling for a model trained with ``ss_condition``: the largest beta-sheet
        of each sample's blueprint (user or drawn; its strand pairs, or ``rule_pairing``) is
        built as ideal geometry (:mod:`molgen.sample.sheet`) and held as a motif while the
        network generates the rest (:mod:`molgen.sample.motif`).
    blueprint_prior : bool or None
        Give each unconditional sample a blueprint drawn from real train chains of about its
        length (with ``sheets``, redrawn while its built sheet would hold less than half of
        its strand residues); ``None``: on exactly for models trained with ``ss_condition``.
    min_t : float or None
        Last time of the reverse process, whose clean estimate is the output; ``None``: the
        model's training ``min_t`` (the bundled model's 0.01; 0.003 was measured in the
        model card, "Session 27").
    seed : int
        Seeds the ``torch.Generator`` on the device: same seed, same device, same samples.
    device : str
        ``auto`` (CUDA when present), ``cpu``, ``cuda`` or ``cuda:N``.
    batch_size : int
        Chains per network call.
    contig : str or None
        Motif-scaffolding contig in RFdiffusion's syntax (:mod:`molgen.sample.contig`),
        e.g. ``10-25/A24-42/5-15/A60-68/10-25``; ``num`` samples, each with its own drawn
        scaffold lengths. With ``input``: motif segments only, in the input's numbering.
    motif : str or None
        Structure file holding the contig's motif residues (not with ``input``).
    length_range : tuple of int or None
        Total chain length bounds (inclusive) of contig samples; ``None``: what the contig
        allows.
    input : str or None
        Backbone (PDB/mmCIF) to diversify by partial diffusion (needs ``partial_t``).
    partial_t : float or None
        Time in (0, 1] the input is noised to before denoising; the reverse process runs
        ``steps`` scaled by ``(partial_t - min_t) / (1 - min_t)`` steps (at least 1).
    motif_harmonize_steps : int
        With a motif (or a sheet): after the last reverse step, this many more network calls
        at ``min_t``, each on the previous clean estimate with the motif frames put back
        (:mod:`molgen.sample.motif`), so that the scaffold and the network's own motif agree.
    """

    model: str = "backbone"
    lengths: list[int] = field(default_factory=list)
    blueprints: list[str] = field(default_factory=list)
    num: int = 4
    steps: int = 200
    time_warp: float = 1.0
    noise_scale: float = 0.3
    rotation_noise_scale: float | None = None
    rotation_score_scale: float = 3.0
    guidance: float = 1.0
    ode: bool = False
    restrain: bool = True
    idealize: bool = True
    sheets: bool = True
    blueprint_prior: bool | None = None
    min_t: float | None = None
    seed: int = 0
    device: str = "auto"
    batch_size: int = 16
    contig: str | None = None
    motif: str | None = None
    length_range: tuple[int, int] | None = None
    input: str | None = None
    partial_t: float | None = None
    motif_harmonize_steps: int = 150

    def resolved(self, network: Any) -> BackboneSamplerConfig:
        """A copy with ``None`` settings filled in from ``network`` (its checkpoint)."""
        from molgen.diffusion import DEFAULT_MIN_T
        from molgen.models import trained_value

        conditional = bool(getattr(network.config, "ss_condition", False))
        prior = conditional if self.blueprint_prior is None else self.blueprint_prior
        min_t = self.min_t
        if min_t is None:
            min_t = float(trained_value(network, "min_t", DEFAULT_MIN_T))
        return dataclasses.replace(self, blueprint_prior=prior, min_t=min_t)


@dataclass
class ConformerSamplerConfig:
    r"""How to sample conformers (:func:`molgen.sample.sample_conformers`).

    Attributes
    ----------
    model : str
        Bundled model name or checkpoint folder (read by the run entry points).
    num : int
        Conformers per molecule.
    steps : int
        Reverse diffusion steps of a run from :math:`t = 1`; a run from ``start_time`` takes
        ``steps x start_time`` of them (rounded, at least 1), the same step size.
    start_time : float or None
        Diffusion time in (0, 1] the reverse run starts from: 1 draws the torsions from the
        uniform prior; below 1 they are the seed conformer's torsions with wrapped-normal
        noise of :math:`\sigma(t)` (partial diffusion, SDEdit-style). ``None``: per molecule,
        by size (:func:`molgen.sample.conformers.default_start_time`).
    seed : int
        Seeds the embedding and the ``torch.Generator`` on the device.
    relax : {"none", "mmff"}
        MMFF94 optimisation of every output conformer (when MMFF has parameters).
    ode : bool
        Probability-flow ODE instead of the reverse SDE.
    max_resamples : int
        Regeneration rounds for conformers failing a check before seed conformers that pass
        replace them.
    min_sigma, max_sigma : float or None
        Torsion noise range (radians); ``None``: the model's training range.
    device : str
        ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
    batch_size : int
        Conformers per network call.
    """

    model: str = "conformer"
    num: int = 10
    steps: int = 20
    start_time: float | None = None
    seed: int = 0
    relax: str = "none"
    ode: bool = False
    max_resamples: int = 2
    min_sigma: float | None = None
    max_sigma: float | None = None
    device: str = "auto"
    batch_size: int = 256

    def resolved(self, network: Any) -> ConformerSamplerConfig:
        """A copy with the noise range filled in from ``network`` (its checkpoint)."""
        from molgen.diffusion import TorusDiffuser
        from molgen.models import trained_value

        values = {}
        defaults = {"min_sigma": TorusDiffuser.MIN_SIGMA, "max_sigma": TorusDiffuser.MAX_SIGMA}
        for name, default in defaults.items():
            given = getattr(self, name)
            values[name] = float(trained_value(network, name, default) if given is None else given)
        return dataclasses.replace(self, **values)


def with_settings(config: Any, cls: type, settings: dict[str, Any]) -> Any:
    """``config`` (or ``cls()``) with the keyword ``settings`` replacing its fields.

    Raises ``TypeError`` naming a setting that is not a field of ``cls``.
    """
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(settings) - names)
    if unknown:
        raise TypeError(f"unknown {cls.__name__} setting(s): {', '.join(unknown)}")
    return dataclasses.replace(config if config is not None else cls(), **settings)
