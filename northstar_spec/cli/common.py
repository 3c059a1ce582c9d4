"""What every command shares: exit codes, option types, and the step from
paths to validated specs.

Every command returns one of three exit codes: 0 clean, 1 findings, 2 usage,
configuration or environment problems. Nothing a user can type or write
produces a traceback.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import NoReturn

import click

from northstar_spec.spec.diagnostics import Diagnostic
from northstar_spec.spec.pipeline import Result, TargetCheck, UsageError, check
from northstar_spec.spec.reporters import REPORTERS

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class Date(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD)", param, ctx)


project_option = click.option(
    "--project",
    "project_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The project file. Default: northstar.yaml in the first path's folder or above.",
)


paths_argument = click.argument("paths", nargs=-1, type=click.Path(path_type=Path))


def checked(paths, project_file, **kwargs) -> Result:
    try:
        return check([Path(p) for p in paths], project_file=project_file, **kwargs)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None


def target_checks() -> list[TargetCheck]:
    """The checks targets register under the `northstar.checks` entry point (the Superset compiler),
    loaded here so that the library never imports a target."""
    return [entry.load() for entry in sorted(entry_points(group="northstar.checks"), key=lambda e: e.name)]


def compiled_to_nowhere(result: Result) -> Result:
    """`result` with what every registered target finds when it compiles the specs (valid specs only)."""
    if result.failed():
        return result
    return result.adding(d for check in target_checks() for d in check(result.specs, result.project, os.environ))


def validated(paths, project_file) -> Result:
    """Specs for a command that builds on them: with errors, report them and exit 1."""
    result = checked(paths, project_file)
    if result.failed():
        click.echo(REPORTERS["text"](result.diagnostics), err=True)
        sys.exit(EXIT_FINDINGS)
    return result


def warehouse_findings(result: Result, end: dt.date | None = None) -> list[Diagnostic]:
    """The warehouse preflight of valid specs (`validate --warehouse`, `deploy`): its findings;
    a database that cannot be reached is an environment problem (exit 2)."""
    from northstar_spec.warehouse.engines import WarehouseError
    from northstar_spec.warehouse.preflight import preflight

    try:
        return preflight(result.specs, result.project, end=end)
    except WarehouseError as exc:
        fail(exc)


def fail(exc: object) -> NoReturn:
    """An environment problem (a database, a file, a missing extra): its message, exit 2."""
    click.echo(f"northstar: {exc}", err=True)
    sys.exit(EXIT_USAGE)
