"""Entry points of ``molgen sample``: settings in, files out, a summary back.

:func:`run_backbone_sampling` and :func:`run_conformer_sampling` validate their settings
(bad ones raise :class:`molgen.errors.InputError`), load the model, sample, and write the
output; the CLI only parses options into a config and reports what these return.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from molgen.errors import InputError
from molgen.io.blueprint import split_blueprint
from molgen.sample.config import BackboneSamplerConfig, ConformerSamplerConfig

__all__ = ["MoleculeSource", "run_backbone_sampling", "run_conformer_sampling"]

#: Chain lengths the backbone command accepts (residues).
LENGTH_RANGE = (10, 2000)


def _check_conditioning(config: BackboneSamplerConfig) -> None:
    """Motif and partial-diffusion settings: consistent options, readable files, a contig
    whose lengths fit ``--length`` (each a one-line InputError)."""
    import numpy as np

    from molgen.sample.motif import read_conditioning

    if config.motif is not None and config.contig is None:
        raise InputError("--motif needs --contig")
    if config.input is None and config.partial_t is not None:
        raise InputError("--partial-t needs --input (the backbone to diversify)")
    if (calls := config.motif_harmonize_steps) < 0:
        raise InputError(f"--motif-harmonize-steps must be >= 0, got {calls}")
    if config.lengths or config.blueprints:
        option = "--contig" if config.contig is not None else "--input"
        raise InputError(f"{option} sets the chain length: no plain lengths, --ss or --ss-file")
    if config.input is not None:
        t = config.partial_t
        if t is None or not (math.isfinite(t) and 0 < t <= 1):
            raise InputError(f"--partial-t must be in (0, 1] with --input, got {t}")
    if config.length_range is not None:
        if config.contig is None:
            raise InputError("a --length range LO-HI needs --contig")
        low, high = config.length_range
        if not LENGTH_RANGE[0] <= low <= high <= LENGTH_RANGE[1]:
            limits = "-".join(map(str, LENGTH_RANGE))
            raise InputError(f"--length {low}-{high} must be a range inside {limits}")
    conditioning = read_conditioning(config.contig, config.motif, config.input)
    if conditioning is not None and conditioning.start is None:
        conditioning.contig.draw_lengths(np.random.default_rng(0), config.length_range)


def _check_backbone_config(config: BackboneSamplerConfig) -> None:
    conditioned = any(v is not None for v in (config.contig, config.motif, config.input,
                                              config.partial_t, config.length_range))  # fmt: skip
    if conditioned:
        _check_conditioning(config)
        sizes = [LENGTH_RANGE[0]]
    elif not config.lengths and not config.blueprints:
        raise InputError("give --length, --ss or --ss-file")
    else:
        sizes = list(config.lengths) + [len(split_blueprint(bp)[0]) for bp in config.blueprints]
    if min(sizes) < LENGTH_RANGE[0] or max(sizes) > LENGTH_RANGE[1]:
        low, high = LENGTH_RANGE
        raise InputError(f"--length and blueprints must be {low}-{high} residues, got {sizes}")
    if config.num < 1 or config.steps < 1 or config.batch_size < 1:
        raise InputError("--num, --steps and --batch-size must be at least 1")
    scales = {"--noise-scale": config.noise_scale,
              "--rotation-noise-scale": config.rotation_noise_scale,
              "--guidance": config.guidance}  # fmt: skip
    for option, value in scales.items():
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise InputError(f"{option} must be a finite number >= 0, got {value}")
    positive = {"--rotation-score-scale": config.rotation_score_scale,
                "--time-warp": config.time_warp}  # fmt: skip
    for option, value in positive.items():
        if not (math.isfinite(value) and value > 0):
            raise InputError(f"{option} must be > 0, got {value}")
    check_seed(config.seed)


def _require_kind(network: Any, class_name: str, kind: str, source: str) -> None:
    """The loaded model must be of the sampler's kind (e.g. not a conformer model)."""
    if type(network).__name__ != class_name:
        raise InputError(f"not {kind} model (it is a {type(network).__name__})", source)


def check_seed(seed: int) -> None:
    """Seeds are integers in [0, 2^63 - 1] (what torch generators take)."""
    if not 0 <= int(seed) < 2**63:
        raise InputError(f"--seed must be between 0 and 2^63 - 1, got {seed}")


def run_backbone_sampling(
    config: BackboneSamplerConfig,
    out: str | os.PathLike,
    *,
    overwrite: bool = False,
    progress: bool = True,
) -> list[dict[str, Any]] | None:
    """Sample backbones into ``out``: one PDB per sample, ``report.csv``, ``config.json``.

    Under ``torchrun`` the ranks split the samples, rank 0 writes the report, and every rank
    leaves the process group once the records are gathered. ``config.json``
    is the resolved config (model-dependent defaults filled in) plus the command, the device
    and the world size.

    Returns
    -------
    list of dict or None
        Per-length summary rows (:func:`molgen.sample.output.summarise_records`) on rank 0,
        None on the other ranks.
    """
    from molgen.distributed import all_gather_object, cleanup_distributed, init_distributed
    from molgen.models import load
    from molgen.sample.backbone import sample_backbones
    from molgen.sample.output import (
        prepare_output_dir,
        summarise_records,
        write_report,
        write_samples,
    )

    _check_backbone_config(config)
    dist = init_distributed(config.device)
    network = load(config.model, device=dist.device)
    _require_kind(network, "FrameScoreNetwork", "a backbone", config.model)
    conditional = getattr(network.config, "ss_condition", False)
    if (config.blueprints or config.blueprint_prior) and not conditional:
        raise InputError(
            "this model was trained without blueprints (--ss, --ss-prior)", config.model
        )
    paired = getattr(network.config, "pair_condition", False)
    if not (paired or config.sheets) and any(split_blueprint(bp)[1] for bp in config.blueprints):
        raise InputError(
            "strand pairs (1-2A...) shape the built sheet (--sheets) or a model trained with "
            "them; this one was not", config.model,
        )  # fmt: skip
    config = dataclasses.replace(config, device=str(dist.device)).resolved(network)
    if dist.rank == 0:
        prepare_output_dir(out, overwrite=overwrite)
    samples = sample_backbones(
        network, config=config, rank=dist.rank, world_size=dist.world_size,
        progress=progress and dist.rank == 0,
    )  # fmt: skip
    records = write_samples(samples, out, overwrite=overwrite)
    records = [r for part in all_gather_object(records) for r in part]
    cleanup_distributed()
    if dist.rank != 0:
        return None
    records.sort(key=_record_order)
    settings = {
        "command": "sample backbone",
        **dataclasses.asdict(config),
        "world_size": dist.world_size,
    }
    if config.contig is not None and config.input is None:
        settings["scaffold_lengths"] = {r["path"]: r["scaffold_lengths"] for r in records}
    write_report(records, settings, out, overwrite=overwrite)
    return summarise_records(records)


def _record_order(record: dict[str, Any]) -> tuple[int, int, int]:
    """As the samples: by length then index (motif samples by index), blueprints after."""
    length = 0 if "motif_positions" in record else record["length"]
    return (record.get("blueprint_index", -1), length, record["index"])


@dataclass(frozen=True)
class MoleculeSource:
    """Where the input molecules come from: exactly one of a SMILES string, an SDF file (all
    records) and a file of ``SMILES [name]`` lines (bad lines become failures, not errors)."""

    smiles: str | None = None
    sdf: Path | None = None
    smiles_file: Path | None = None

    @property
    def path(self) -> str:
        """What to name in an error: the file, or the --smiles option."""
        return str(self.sdf or self.smiles_file or "--smiles")

    def read(self) -> list:
        """The molecules (rdkit ``Mol`` or :class:`~molgen.sample.conformers.InputFailure`)."""
        from molgen.io import read_sdf, read_smiles
        from molgen.sample.conformers import read_smiles_lenient

        given = [x for x in (self.smiles, self.sdf, self.smiles_file) if x is not None]
        if len(given) != 1:
            raise InputError("give exactly one of --smiles, --sdf and --smiles-file")
        if self.smiles is not None:
            return [read_smiles(self.smiles)]
        if self.sdf is not None:
            return read_sdf(self.sdf)
        return read_smiles_lenient(self.smiles_file)


def run_conformer_sampling(
    config: ConformerSamplerConfig,
    source: MoleculeSource,
    out: str | os.PathLike,
    *,
    overwrite: bool = False,
    progress: bool = True,
) -> list:
    """Sample conformers of every molecule of ``source`` and write them to the SDF ``out``.

    Returns
    -------
    list of ConformerResult
        One per input molecule; failed molecules carry their ``error``.
    """
    from molgen.devices import resolve_device
    from molgen.io.tables import ensure_writable
    from molgen.models import load
    from molgen.sample.conformers import (
        RELAX,
        InputFailure,
        sample_conformers,
        write_conformers,
    )

    if config.relax not in RELAX:
        raise InputError(f"--relax must be one of {', '.join(RELAX)}, got {config.relax!r}")
    if config.num < 1 or config.steps < 1 or config.batch_size < 1:
        raise InputError("--num, --steps and --batch-size must be at least 1")
    if config.start_time is not None and not 0.0 < config.start_time <= 1.0:
        raise InputError(f"--start-time must be in (0, 1], got {config.start_time}")
    check_seed(config.seed)
    ensure_writable(out, overwrite=overwrite)
    mols = source.read()
    if all(isinstance(m, InputFailure) for m in mols):
        raise InputError("none of the input molecules could be read", source.path)
    device = resolve_device(config.device)
    network = load(config.model, device=device)
    _require_kind(network, "TorsionScoreNetwork", "a conformer", config.model)
    config = dataclasses.replace(config, device=str(device))
    results = sample_conformers(network, mols, config=config, progress=progress)
    if all(r.mol is None for r in results):  # refuse to write an empty file
        first = f"molecule {results[0].index} ({results[0].name}): {results[0].error}"
        raise InputError(f"no conformer for any input molecule; {first}", source.path)
    write_conformers(results, out, overwrite=overwrite)
    return results
