"""Commands on specs themselves: validate, tree, rules, init."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from northstar_spec import scaffold
from northstar_spec.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    Date,
    checked,
    compiled_to_nowhere,
    project_option,
    validated,
    warehouse_findings,
)
from northstar_spec.cli.completion import rule_codes, spec_paths, specs_or_products
from northstar_spec.cli.terminal import style
from northstar_spec.review import codeowners, snapshots
from northstar_spec.spec import registry, reporters, ruledocs, tree
from northstar_spec.spec.loading import MAX_FILE_BYTES
from northstar_spec.spec.reporters import REPORTERS
from northstar_spec.spec.rule import did_you_mean


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, allow_dash=True), shell_complete=spec_paths)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(REPORTERS)),
    default="text",
    show_default=True,
    help="text for people, json for tools, github for workflow annotations, sarif for code scanning.",
)
@project_option
@click.option("--base", metavar="REF", help="Compare with the specs at this git revision (enables NS601).")
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@click.option("--today", type=Date(), help="Check review dates against this day instead of today.")
@click.option(
    "--warehouse",
    is_flag=True,
    help="Also run every metric on its database over the last day (before --today): a missing table or column, "
    "a failing expression or a writable database user is a finding. Needs the databases' URIs.",
)
def validate(paths, fmt, project_file, base, strict, today, warehouse) -> None:
    """Check specs against the schema and the method's rules, and compile them.

    PATHS are spec files or folders (`-` reads one spec from standard
    input); without them, the folders listed under `specs:` in
    northstar.yaml are checked. Valid specs are compiled by every installed
    target with the output thrown away (database URIs are not needed), so a
    spec that validates also compiles.

    \b
    Examples:
      northstar validate
      northstar validate specs/acme.yaml --format json
      northstar validate --base origin/main --format github
      northstar validate --format sarif > northstar.sarif
      northstar validate --warehouse
      git show main:specs/acme.yaml | northstar validate -
    """
    previous = snapshots.previous_at(base) if base else None
    files = [p for p in paths if str(p) != "-"]
    stdin = None
    if len(files) < len(paths):
        if len(paths) - len(files) > 1:
            raise click.UsageError("`-` (standard input) may be given once")
        stdin = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    result = compiled_to_nowhere(checked(files, project_file, previous=previous, today=today, stdin=stdin))
    if warehouse and not result.failed():
        result = result.adding(warehouse_findings(result, today))
    if fmt in ("github", "sarif"):
        # GitHub reads paths from the top of the repository, wherever northstar ran.
        root = codeowners.repository_root(Path.cwd())
        findings = reporters.from_root(result.diagnostics, root)
        output = reporters.format_sarif(findings, root) if fmt == "sarif" else reporters.format_github(findings)
    elif fmt == "text":
        output = reporters.format_text(result.diagnostics, style)
    else:
        output = REPORTERS[fmt](result.diagnostics)
    if output:
        click.echo(output)
    elif fmt == "text":
        click.echo(f"{len(result.specs)} spec{'s' * (len(result.specs) != 1)} valid")
    sys.exit(EXIT_FINDINGS if result.failed(strict) else EXIT_OK)


@click.command("tree")
@click.argument("specs", nargs=-1, metavar="[SPEC|PRODUCT]...", shell_complete=specs_or_products)
@click.option("--format", "fmt", type=click.Choice(["text", "mermaid"]), default="text", show_default=True)
@project_option
def tree_command(specs, fmt, project_file) -> None:
    """Show the metric tree of each spec: North Star, inputs, guardrails and owners.

    SPEC is a spec file or a folder of specs, PRODUCT the product id of one
    of the project's specs; without any, every spec of the project (the
    `specs:` of northstar.yaml). `--format mermaid` prints flowcharts for
    markdown (pull requests, wikis).
    """
    paths = [Path(s) for s in specs if Path(s).exists()]
    wanted = [s for s in specs if not Path(s).exists()]
    found = list(validated(paths, project_file).specs) if paths or not specs else []
    if wanted:
        everything = validated([], project_file).specs
        by_id = {spec.product.id: spec for spec in everything}
        for product in wanted:
            if product not in by_id:
                hint = did_you_mean(product, sorted(by_id), "no spec file or product id of this project")
                raise click.UsageError(f"{product!r} is neither a spec file nor a product id; {hint}")
            found.append(by_id[product])
    render = tree.mermaid_tree if fmt == "mermaid" else tree.text_tree
    click.echo("\n\n".join(render(s) for s in {s.product.id: s for s in found}.values()))


@click.command("rules")
@click.argument("code", required=False, shell_complete=rule_codes)
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
def rules_command(code, fmt) -> None:
    """List every rule with its code, default severity and purpose.

    With CODE (a code such as NS201 or a name such as input-count), show that
    rule's documentation with good and bad examples.
    """
    if code:
        found = registry.find(code)
        if found is None:
            hint = registry.unknown_rule_hint(code)
            raise click.UsageError(f"no rule {code!r}; {hint}")
        click.echo(ruledocs.text_one(found))
        return
    click.echo({"text": ruledocs.text_list, "markdown": ruledocs.markdown, "json": ruledocs.as_json}[fmt]())


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option(
    "--product",
    "product_name",
    default="My Product",
    show_default=True,
    help="Name of the product of the example spec.",
)
@click.option(
    "--from-dbt",
    "dbt_path",
    type=click.Path(exists=True, path_type=Path),
    help="A dbt project folder (or its target/manifest.json): sources from its models, checked against its "
    "manifest and catalog.",
)
def init_command(directory, product_name, dbt_path) -> None:
    """Scaffold a spec repository in DIRECTORY.

    Writes northstar.yaml, an example spec with the $schema line editors use,
    the JSON Schemas, a pre-commit config, CODEOWNERS and a CI workflow. In a
    subfolder of a git repository the workflow, the pre-commit config and
    CODEOWNERS go to the repository's top, where GitHub and pre-commit read
    them. It never overwrites: if a project file or the workflow exists,
    nothing is written; an existing pre-commit config or CODEOWNERS is kept.

    With --from-dbt, northstar.yaml points at the dbt project's manifest and
    the example spec's sources name its models (run `dbt docs generate`
    first, so that the catalog lists their columns).
    """
    try:
        files = None
        if dbt_path is not None:
            files = scaffold.plan_from_dbt(dbt_path, directory, product_name, dt.date.today())
        done = scaffold.init(directory, product_name, files=files)
    except scaffold.ScaffoldError as exc:
        raise click.UsageError(str(exc)) from None
    except OSError as exc:
        raise click.UsageError(f"cannot write to {directory}: {exc.strerror}") from None
    for path in done.written:
        click.echo(f"created {path}")
    for path, advice in done.kept.items():
        click.echo(f"kept {path}: {advice}")
    click.echo(f"next: cd {directory} && northstar validate")
