"""Commands on specs themselves: validate, tree, rules, init."""

from __future__ import annotations

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
from northstar_spec.review import snapshots
from northstar_spec.spec import registry, ruledocs, tree
from northstar_spec.spec.loading import MAX_FILE_BYTES
from northstar_spec.spec.reporters import REPORTERS


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, allow_dash=True))
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
    output = REPORTERS[fmt](result.diagnostics)
    if output:
        click.echo(output)
    elif fmt == "text":
        click.echo(f"{len(result.specs)} spec{'s' * (len(result.specs) != 1)} valid")
    sys.exit(EXIT_FINDINGS if result.failed(strict) else EXIT_OK)


@click.command("tree")
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


@click.command("rules")
@click.argument("code", required=False)
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
