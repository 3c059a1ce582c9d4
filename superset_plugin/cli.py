"""The Superset commands of the `northstar` CLI, plugged in through the
`northstar.commands` entry point so that northstar_spec never imports us."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from northstar_spec.cli import EXIT_FINDINGS, project_option, validated
from northstar_spec.diagnostics import REPORTERS

from .bundle import OutputError
from .compiler import CompileError, compile_bundle


@click.command("compile")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("-o", "--output", "output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write the bundle folder and its .zip into.")
@project_option
def compile_command(paths, output, project_file) -> None:
    """Compile specs into a Superset 6.1 asset bundle.

    Writes OUTPUT/northstar_bundle/ (databases, datasets, charts, one dashboard
    per spec and a portfolio dashboard) and OUTPUT/northstar_bundle.zip for
    Superset's import. Database URIs come from the environment variables that
    northstar.yaml names; passwords are masked in the bundle.
    """
    result = validated(paths, project_file)
    try:
        bundle = compile_bundle(result.specs, result.project)
        written = bundle.write(output)
    except (CompileError, OutputError) as exc:
        raise click.UsageError(str(exc)) from None
    except OSError as exc:
        raise click.UsageError(f"cannot write to {output}: {exc.strerror}") from None
    kinds = [p.split("/")[0] for p in bundle.files]
    click.echo(f"compiled {len(result.specs)} spec{'s' * (len(result.specs) != 1)}: "
               f"{kinds.count('dashboards')} dashboards, {kinds.count('charts')} charts, "
               f"{kinds.count('datasets')} datasets, {kinds.count('databases')} databases")
    click.echo(f"wrote {len(written) - 1} files to {output / 'northstar_bundle'} and {written[-1]}")
