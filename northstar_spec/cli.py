"""The `northstar` command: a thin click layer over the library.

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

import click

from . import __version__, ruledocs, rules, scaffold, tree
from .diagnostics import REPORTERS
from .pipeline import Result, UsageError, check

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class _Date(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD)", param, ctx)


project_option = click.option(
    "--project", "project_file", type=click.Path(dir_okay=False, path_type=Path),
    help="The project file. Default: northstar.yaml in the first path's folder or above.",
)


def _check(paths, project_file, **kwargs) -> Result:
    try:
        return check([Path(p) for p in paths], project_file=project_file, **kwargs)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None


def validated(paths, project_file) -> Result:
    """Specs for a command that builds on them: with errors, report them and exit 1."""
    result = _check(paths, project_file)
    if result.failed():
        click.echo(REPORTERS["text"](result.diagnostics), err=True)
        sys.exit(EXIT_FINDINGS)
    return result


class _Commands(click.Group):
    """Our commands plus those other packages (the Superset target) register under
    the `northstar.commands` entry point, loaded only when called, so that
    `northstar validate` does not pay for importing a compiler it does not use."""

    def _plugged(self) -> dict:
        return {e.name: e for e in entry_points(group="northstar.commands") if e.name not in self.commands}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*self.commands, *self._plugged()])

    def get_command(self, ctx: click.Context, name: str):
        if name in self.commands:
            return self.commands[name]
        entry = self._plugged().get(name)
        return entry.load() if entry else None


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="northstar")
def cli() -> None:
    """North Star Metric frameworks as code.

    Specs are YAML files, one per product, declaring the North Star, its 3-5
    input metrics, counter-metrics, owners and review rituals. northstar.yaml
    at the root of the spec repository declares the teams and databases.

    Exit codes: 0 clean, 1 findings, 2 usage or configuration error.
    """


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(sorted(REPORTERS)), default="text", show_default=True,
              help="text for people, json for tools, github for workflow annotations.")
@project_option
@click.option("--base", metavar="REF", help="Compare with the specs at this git revision (enables NS601).")
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@click.option("--today", type=_Date(), help="Check review dates against this day instead of today.")
def validate(paths, fmt, project_file, base, strict, today) -> None:
    """Check specs against the schema and the method's rules.

    PATHS are spec files or folders; without them, the folders listed under
    `specs:` in northstar.yaml are checked.

    \b
    Examples:
      northstar validate
      northstar validate specs/acme.yaml --format json
      northstar validate --base origin/main --format github
    """
    result = _check(paths, project_file, base=base, today=today)
    output = REPORTERS[fmt](result.diagnostics)
    if output:
        click.echo(output)
    elif fmt == "text":
        click.echo(f"{len(result.specs)} spec{'s' * (len(result.specs) != 1)} valid")
    sys.exit(EXIT_FINDINGS if result.failed(strict) else EXIT_OK)


@cli.command("tree")
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "mermaid"]), default="text", show_default=True)
@project_option
def tree_command(spec, fmt, project_file) -> None:
    """Show the metric tree of SPEC: North Star, inputs, guardrails and owners.

    `--format mermaid` prints a flowchart for markdown (pull requests, wikis).
    """
    result = validated([spec], project_file)
    render = tree.mermaid_tree if fmt == "mermaid" else tree.text_tree
    click.echo("\n\n".join(render(s) for s in result.specs))


@cli.command("rules")
@click.argument("code", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
def rules_command(code, fmt) -> None:
    """List every rule with its code, default severity and purpose.

    With CODE (a code such as NS201 or a name such as input-count), show that
    rule's documentation with good and bad examples.
    """
    if code:
        found = rules.find(code)
        if found is None:
            hint = rules.base.did_you_mean(code, [*rules.BY_CODE, *rules.BY_NAME],
                                           "`northstar rules` lists every code and name")
            raise click.UsageError(f"no rule {code!r}; {hint}")
        click.echo(ruledocs.text_one(found))
        return
    click.echo({"text": ruledocs.text_list, "markdown": ruledocs.markdown, "json": ruledocs.as_json}[fmt]())


@cli.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--product", "product_name", default="My Product", show_default=True,
              help="Name of the product of the example spec.")
def init_command(directory, product_name) -> None:
    """Scaffold a spec repository in DIRECTORY.

    Writes northstar.yaml, an example spec with the $schema line editors use,
    the JSON Schemas, a pre-commit config and an example CI workflow. It
    never overwrites: if any of these files exists, nothing is written.
    """
    try:
        written = scaffold.init(directory, product_name)
    except scaffold.ScaffoldError as exc:
        raise click.UsageError(str(exc)) from None
    except OSError as exc:
        raise click.UsageError(f"cannot write to {directory}: {exc.strerror}") from None
    for path in written:
        click.echo(f"created {path}")
    click.echo(f"next: cd {directory} && northstar validate")


@cli.command("demo-data")
@click.option("--uri", envvar="NORTHSTAR_WAREHOUSE_URI", default="sqlite:///.demo/warehouse.db", show_default=True,
              help="SQLAlchemy URI of the warehouse to write (env NORTHSTAR_WAREHOUSE_URI).")
@click.option("--seed", type=int, default=7, show_default=True, help="Same seed and end date, same rows.")
@click.option("--end", type=_Date(), help="Last day of data (default: today).")
@click.option("--scale", type=click.FloatRange(0.01, 10), default=1.0, show_default=True,
              help="Multiplies every volume; tests use less.")
def demo_data_command(uri, seed, end, scale) -> None:
    """Generate the demo warehouse for the example specs.

    About 18 months of synthetic events for each example product, ending on
    END: growth, weekly seasonality, a launch spike and its drop, activation
    and churn, and a recent guardrail breach. Writes SQLite by default,
    PostgreSQL (or any SQLAlchemy database) given a URI. Replaces only tables
    demo-data created itself.
    """
    import sqlalchemy as sa

    from . import demo_data

    try:
        url = sa.engine.make_url(uri)
        if url.get_backend_name() == "sqlite" and url.database:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url)
        counts = demo_data.write(engine, demo_data.generate(seed, end, scale))
    except demo_data.DemoDataError as exc:
        raise click.UsageError(str(exc)) from None
    except (sa.exc.SQLAlchemyError, ImportError, ValueError, OSError) as exc:
        raise click.UsageError(f"cannot write the demo warehouse: {_without_secrets(exc, uri)}") from None
    for table, rows in counts.items():
        click.echo(f"{table}: {rows:,} rows")
    click.echo(f"wrote {sum(counts.values()):,} rows to {sa.engine.make_url(uri).render_as_string(hide_password=True)}")


def _without_secrets(exc: Exception, uri: str) -> str:
    """An error message with the URI's password taken out, whatever the driver put in it."""
    import sqlalchemy as sa

    message = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    try:
        password = sa.engine.make_url(uri).password
    except Exception:
        password = None
    if password:
        message = message.replace(str(password), "***")
    return f"{type(exc).__name__}: {message}"


def main() -> None:
    """Entry point: click's own errors exit 2; anything unforeseen is reported, not dumped."""
    try:
        cli.main(standalone_mode=True)
    except SystemExit:
        raise
    except Exception as exc:  # pragma: no cover - the hypothesis test hunts for these
        if os.environ.get("NORTHSTAR_DEBUG"):
            raise
        click.echo(f"northstar: internal error: {type(exc).__name__}: {exc}\n"
                   "Please report this; set NORTHSTAR_DEBUG=1 for details.", err=True)
        sys.exit(EXIT_USAGE)
