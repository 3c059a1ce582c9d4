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

from . import __version__, codeowners, diff, diff_report, ruledocs, rules, scaffold, snapshots, tree
from .diagnostics import REPORTERS
from .pipeline import Result, UsageError, check, display_path

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
              help="text for people, json for tools, github for workflow annotations, sarif for code scanning.")
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
      northstar validate --format sarif > northstar.sarif
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


@cli.command("diff")
@click.argument("folders", nargs=-1, metavar="[FOLDER_A FOLDER_B]",
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--base", metavar="REF", help="The git revision to compare from.")
@click.option("--head", metavar="REF", help="The git revision to compare to (default: the working tree).")
@click.option("--format", "fmt", type=click.Choice(sorted(diff_report.FORMATS)), default="text", show_default=True,
              help="text for people, markdown for a pull-request comment, json for tools.")
@project_option
def diff_command(folders, base, head, fmt, project_file) -> None:
    """Show what a change does to the North Star frameworks, product by product.

    Metrics added, removed or renamed; changes to a definition, measure,
    filter, source, grain, owner, lever, direction, target, threshold or
    guard; product fields, reviews and history; a changed North Star, flagged.
    Between a git revision and the working tree (--base), two revisions
    (--base and --head), or two folders (FOLDER_A FOLDER_B). Exits 0 whether
    or not anything changed.

    \b
    Examples:
      northstar diff --base origin/main
      northstar diff --base v1 --head v2 --format json
      northstar diff old-specs/ specs/ --format markdown
    """
    if folders and (base or head):
        raise click.UsageError("compare two folders, or git revisions with --base/--head, not both")
    if head and not base:
        raise click.UsageError("--head needs --base: the revision to compare it with")
    if not folders and not base:
        raise click.UsageError("nothing to compare: give --base REF (and --head REF), or two folders")
    if folders and len(folders) != 2:
        raise click.UsageError(f"give two folders to compare, not {len(folders)}")
    try:
        if folders:
            before, after = snapshots.in_folder(folders[0]), snapshots.in_folder(folders[1])
        else:
            project = snapshots.find_project(project_file, Path.cwd())
            before = snapshots.at_ref(project, base)
            after = snapshots.at_ref(project, head) if head else snapshots.working_tree(project)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(diff_report.FORMATS[fmt](diff.compare(before, after)))


@cli.command("codeowners")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="The CODEOWNERS file. Default: the one GitHub reads at the repository root, "
                   "else .github/CODEOWNERS.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1, showing the difference, if the file is stale.")
@project_option
def codeowners_command(output, check, project_file) -> None:
    """Make the team that owns a metric review changes to its spec.

    Writes one CODEOWNERS line per spec file with the review handles
    (northstar.yaml `review_handle`) of every team owning one of its metrics,
    between `# BEGIN northstar` and `# END northstar` marker comments;
    hand-written lines outside the markers are kept. Paths are relative to the
    git repository's top (or northstar.yaml's folder outside git).
    """
    result = validated([], project_file)
    root = codeowners.repository_root(result.project.root)
    placed, warnings = codeowners.spec_files(result.specs, root)
    found, unowned = codeowners.entries(placed, result.project.teams)
    for warning in warnings + unowned:
        click.echo(f"warning: {warning}", err=True)
    target = output or codeowners.default_path(root)
    try:
        existing = target.read_text(encoding="utf-8") if target.is_file() else None
        updated = codeowners.merge(existing, codeowners.block(found))
    except (OSError, UnicodeDecodeError) as exc:
        raise click.UsageError(f"cannot read {target}: {exc}") from None
    except codeowners.CodeownersError as exc:
        raise click.UsageError(f"{target}: {exc}") from None
    shown = display_path(target)
    if check:
        if updated != existing:
            click.echo(codeowners.unified_diff(existing, updated, shown), nl=False)
            click.echo(f"{shown} is out of date; run `northstar codeowners` and commit it", err=True)
            sys.exit(EXIT_FINDINGS)
        click.echo(f"{shown} is up to date")
        return
    if updated == existing:
        click.echo(f"{shown} is up to date")
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(updated, encoding="utf-8")
    except OSError as exc:
        raise click.UsageError(f"cannot write {target}: {exc.strerror}") from None
    click.echo(f"wrote {shown} ({len(found)} spec{'s' * (len(found) != 1)})")


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
    and churn, a recent guardrail breach, and an outcome (payouts, seats,
    stays, upgrades) two weeks behind each North Star. Writes SQLite by default,
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


# The commands that read the warehouse (evaluate, guardrails, digest, backtest)
# live in their own module, which registers them on `cli` when imported.
from . import cli_warehouse  # noqa: E402,F401


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
