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
    from molgen.checks.report import check_paths, summary_tables
    from molgen.io.tables import ensure_writable, write_records

    for out in (json_out, csv_out):
        if out is not None:
            ensure_writable(out, overwrite=overwrite)
    records = check_paths(paths, chain=chain, progress=not quiet)
    if json_out is not None:
        write_records(records, json_out, fmt="json", overwrite=overwrite)
    if csv_out is not None:
        write_records(records, csv_out, fmt="csv", overwrite=overwrite)
    if not quiet:
        from rich.console import Console

        console = Console()
        for table in summary_tables(records):
            console.print(table)


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
        list[int] | None,
        typer.Option("--length", "-l", help="Chain length; repeat for several."),
    ] = None,
    ss: Annotated[
        list[str] | None,
        typer.Option(
            "--ss",
            help="Secondary-structure blueprint, one letter per residue: H helix, E strand, "
            "L loop, X unspecified (the sample length is its length); repeat for several.",
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
    ] = 4,
    steps: Annotated[int, typer.Option(help="Reverse-diffusion steps.")] = 200,
    noise_scale: Annotated[
        float,
        typer.Option(
            help="SDE noise multiplier (1 = exact reverse SDE; lower trades diversity for "
            "quality, see the model card)."
        ),
    ] = 0.3,
    ode: Annotated[bool, typer.Option("--ode", help="Deterministic probability-flow ODE.")] = False,
    restrain: Annotated[
        bool,
        typer.Option(
            help="Steer each step's clean-structure estimate away from CA clashes and chain "
            "breaks (it steers the process; it does not move the written chains)."
        ),
    ] = True,
    idealize: Annotated[
        bool,
        typer.Option(
            help="Move the final atoms to ideal bond lengths and angles, keeping phi/psi and "
            "pushing non-local backbone atoms out of clashes (about 0.3 A RMS); --no-idealize "
            "writes the network's raw frames."
        ),
    ] = True,
    seed: Annotated[int, typer.Option(help="Random seed (same seed + device = same output).")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    batch_size: Annotated[int, typer.Option(help="Chains per network call.")] = 16,
    model: Annotated[
        str, typer.Option(help="Bundled model name or checkpoint folder.")
    ] = "backbone",
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Write into a non-empty --out.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress, no summary.")] = False,
) -> None:
    """Generate protein backbones: one PDB per sample (N, CA, C, O; chain A; glycines),
    report.csv with molgen's checks for each, config.json with the settings."""
    from molgen.devices import resolve_device
    from molgen.io.blueprint import parse_blueprint, read_blueprint_file
    from molgen.models import load
    from molgen.sample import sample_backbones
    from molgen.sample.output import (
        prepare_output_dir,
        summarise_records,
        write_report,
        write_samples,
    )
    from molgen.train.distributed import all_gather_object, init_distributed

    length = list(length or [])
    blueprints = [parse_blueprint(text) for text in ss or []]
    if ss_file is not None:
        blueprints += read_blueprint_file(ss_file)
    if not length and not blueprints:
        raise InputError("give --length, --ss or --ss-file")
    sizes = length + [len(bp) for bp in blueprints]
    if min(sizes) < 10 or max(sizes) > 2000:
        raise InputError(f"--length and blueprints must be 10-2000 residues, got {sizes}")
    if num < 1 or steps < 1 or batch_size < 1:
        raise InputError("--num, --steps and --batch-size must be at least 1")
    dev = resolve_device(device)
    dist = init_distributed(dev)
    network = load(model, device=dist.device)
    conditional = getattr(network.config, "ss_condition", False)
    if (blueprints or ss_prior) and not conditional:
        raise InputError("this model was trained without blueprints (--ss, --ss-prior)", model)
    ss_prior = conditional if ss_prior is None else ss_prior
    if dist.rank == 0:
        prepare_output_dir(out, overwrite=overwrite)
    samples = sample_backbones(
        network, length, num, steps=steps, noise_scale=noise_scale, ode=ode, restrain=restrain,
        idealize=idealize, seed=seed, device=dist.device, batch_size=batch_size, rank=dist.rank,
        world_size=dist.world_size, progress=not quiet and dist.rank == 0,
        blueprints=blueprints, blueprint_prior=ss_prior,
    )  # fmt: skip
    records = write_samples(samples, out, overwrite=overwrite)
    records = [r for part in all_gather_object(records) for r in part]
    if dist.rank != 0:
        return
    records.sort(key=lambda r: (r.get("blueprint_index", -1), r["length"], r["index"]))
    settings = {
        "command": "sample backbone", "model": model, "lengths": length, "blueprints": blueprints,
        "ss_prior": ss_prior, "num": num,
        "steps": steps, "noise_scale": noise_scale, "ode": ode, "restrain": restrain,
        "idealize": idealize, "seed": seed, "device": str(dist.device),
        "world_size": dist.world_size, "batch_size": batch_size,
    }  # fmt: skip
    write_report(records, settings, out, overwrite=overwrite)
    if not quiet:
        _print_sample_summary(summarise_records(records), out)


def _print_sample_summary(rows: list[dict], out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"backbones written to {out}")
    headers = {"length": "L", "samples": "n", "ca_break_fraction": "break",
               "ca_clash_fraction": "clash", "rama_favoured_fraction": "rama",
               "helix_fraction": "H", "strand_fraction": "E", "rg_ratio": "Rg",
               "checks_passed": "pass"}  # fmt: skip
    for header in headers.values():
        table.add_column(header, justify="right")
    for row in rows:
        table.add_row(*(_format(row[key]) for key in headers))
    Console().print(table)


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return "-" if value is None else str(value)


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
    num: Annotated[int, typer.Option("--num", "-n", help="Conformers per molecule.")] = 10,
    steps: Annotated[int, typer.Option(help="Reverse-diffusion steps.")] = 20,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    relax: Annotated[str, typer.Option(help="none or mmff (MMFF94 relaxation).")] = "none",
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    model: Annotated[
        str, typer.Option(help="Bundled model name or checkpoint folder.")
    ] = "conformer",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace --out.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress, no summary.")] = False,
) -> None:
    """Generate conformer ensembles by torsional diffusion: SMILES or SDF in, SDF out.

    Every output conformer keeps the input's tetrahedral and E/Z stereo and passes molgen's
    molecule checks; molecules that fail are reported and do not stop the run."""
    from molgen.devices import resolve_device
    from molgen.io import read_sdf, read_smiles
    from molgen.io.tables import ensure_writable
    from molgen.models import load
    from molgen.sample.conformers import read_smiles_lenient, sample_conformers, write_conformers

    given = [x for x in (smiles, sdf, smiles_file) if x is not None]
    if len(given) != 1:
        raise InputError("give exactly one of --smiles, --sdf and --smiles-file")
    if relax not in ("none", "mmff"):
        raise InputError(f"--relax must be none or mmff, got {relax!r}")
    if num < 1 or steps < 1:
        raise InputError("--num and --steps must be at least 1")
    ensure_writable(out, overwrite=overwrite)
    if smiles is not None:
        mols = [read_smiles(smiles)]
    elif sdf is not None:
        mols = read_sdf(sdf)
    else:
        mols = read_smiles_lenient(smiles_file)
    dev = resolve_device(device)
    network = load(model, device=dev)
    results = sample_conformers(
        network, mols, num, steps=steps, seed=seed, device=dev, relax=relax,
        progress=not quiet,
    )  # fmt: skip
    write_conformers(results, out, overwrite=overwrite)
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
    model: Annotated[str, typer.Option(help="Backbone model name or folder.")] = "backbone",
    conformer_model: Annotated[
        str, typer.Option(help="Torsion model name or folder.")
    ] = "conformer",
    min_score: Annotated[
        float | None, typer.Option(help="Fail rows whose model_score is below this.")
    ] = None,
    chain: Annotated[str | None, typer.Option(help="Only this chain of each protein.")] = None,
    workers: Annotated[int, typer.Option(help="Processes that read, check and score files.")] = 1,
    batch_size: Annotated[int, typer.Option(help="Structures per network call.")] = 32,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    seed: Annotated[int, typer.Option(help="Seed of the fixed denoising noise.")] = 0,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace --out.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress, no summary.")] = False,
) -> None:
    """Checks plus a learned plausibility score, one row per chain or conformer.

    Columns path, chain/record, model_score (higher = more plausible), pass, reasons, error.
    A bad file gets a row with its error; the command still exits 0 and writes the table.
    """
    import warnings

    from molgen.devices import resolve_device
    from molgen.io.tables import ensure_writable, records_to_csv, write_records
    from molgen.score import score_structures, summarize_scores

    if fmt not in ("csv", "json"):
        raise InputError(f"--format must be csv or json, got {fmt!r}")
    if workers < 1 or batch_size < 1:
        raise InputError("--workers and --batch-size must be at least 1")
    if out is not None:
        ensure_writable(out, overwrite=overwrite)
    dev = resolve_device(device)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        rows = score_structures(
            paths, model=model, conformer_model=conformer_model, min_score=min_score,
            chain=chain, workers=workers, batch_size=batch_size, device=dev, seed=seed,
            progress=not quiet,
        )  # fmt: skip
    for warning in caught:
        print(f"molgen: warning: {warning.message}", file=sys.stderr)
    if out is not None:
        write_records(rows, out, fmt=fmt, overwrite=overwrite)
    elif fmt == "json":
        import json

        typer.echo(json.dumps(rows, indent=1, default=str))
    else:
        typer.echo(records_to_csv(rows), nl=False)
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
    from molgen.datasets.prepare import prepare_chain_set

    summary = prepare_chain_set(
        input_dir, out, min_length=min_length, max_length=max_length,
        max_coil_fraction=max_coil_fraction, max_missing=max_missing,
        max_resolution=max_resolution, split=split, overwrite=overwrite, progress=not quiet,
    )  # fmt: skip
    if not quiet:
        from rich.console import Console

        Console().print(summary.table())


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status.

    Usage errors exit 2 through typer; :class:`InputError` prints one line and returns 2.
    """
    try:
        app(args=argv, prog_name="molgen", standalone_mode=True)
    except InputError as err:
        print(f"molgen: error: {err}", file=sys.stderr)
        return 2
    except SystemExit as done:
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
