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
