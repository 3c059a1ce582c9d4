"""The Superset commands of the `northstar` CLI, plugged in through the
`northstar.commands` entry point so that northstar_spec never imports us."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from northstar_spec.cli import terminal
from northstar_spec.cli.common import (
    EXIT_FINDINGS,
    EXIT_USAGE,
    checked,
    project_option,
    validated,
    warehouse_findings,
)
from northstar_spec.spec.diagnostics import has_errors
from northstar_spec.spec.reporters import REPORTERS
from superset_plugin.compiler import naming
from superset_plugin.compiler.assets import CompileError, compile_bundle
from superset_plugin.compiler.bundle import OutputError
from superset_plugin.deploy import schedules
from superset_plugin.deploy.apply import DeployRefused, deploy
from superset_plugin.deploy.client import ImportFailed, SupersetClient, SupersetError
from superset_plugin.deploy.live import asset_name, compare, fetch
from superset_plugin.deploy.plan import Options, Plan


@click.command("compile")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write the bundle folder and its .zip into.",
)
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
    click.echo(
        f"compiled {len(result.specs)} spec{'s' * (len(result.specs) != 1)}: "
        f"{kinds.count('dashboards')} dashboards, {kinds.count('charts')} charts, "
        f"{kinds.count('datasets')} datasets, {kinds.count('databases')} databases"
    )
    click.echo(f"wrote {len(written) - 1} files to {output / 'northstar_bundle'} and {written[-1]}")


# --- deploy and drift --------------------------------------------------------------------------------------


def _connection_options(command):
    command = click.option(
        "--timeout",
        type=click.FloatRange(min=0.1),
        default=60.0,
        show_default=True,
        help="Seconds to wait for each answer from Superset.",
    )(command)
    command = click.option(
        "--url",
        envvar="SUPERSET_URL",
        help="Superset base URL (env SUPERSET_URL; default: superset.url of northstar.yaml).",
    )(command)
    command = click.option(
        "--username",
        envvar="SUPERSET_USERNAME",
        help="Superset user (env SUPERSET_USERNAME). The password is read from "
        "SUPERSET_PASSWORD only; SUPERSET_ACCESS_TOKEN may replace both.",
    )(command)
    return command


def _client(url, username, project, timeout: float = 60.0) -> SupersetClient:
    url = url or project.superset_url
    if not url:
        raise click.UsageError("no Superset URL: pass --url, set SUPERSET_URL, or set superset.url in northstar.yaml")
    token = os.environ.get("SUPERSET_ACCESS_TOKEN")
    password = os.environ.get("SUPERSET_PASSWORD")
    if not token and not (username and password):
        raise click.UsageError(
            "no Superset credentials: set SUPERSET_USERNAME and SUPERSET_PASSWORD (or SUPERSET_ACCESS_TOKEN)"
        )
    try:
        return SupersetClient(url, username=username, password=password, access_token=token, timeout=timeout)
    except SupersetError as exc:  # a malformed URL, or one with credentials in it
        raise click.UsageError(str(exc)) from None


def _compiled(paths, project_file):
    result = validated(paths, project_file)
    try:
        return result, compile_bundle(result.specs, result.project)
    except CompileError as exc:
        raise click.UsageError(str(exc)) from None


def _whole_project(paths, result) -> bool:
    """Whether the deploy covers every spec of the project (no paths, or paths naming all of them)."""
    if not paths:
        return True
    try:
        everything = checked((), Path(result.project.file))
    except click.UsageError:
        return False
    return {s.product.id for s in result.specs} >= {s.product.id for s in everything.specs}


def _fail(exc: SupersetError) -> None:
    """Superset faults: environment problems exit 2, a refused or failed import exits 1."""
    click.echo(f"northstar: {exc}", err=True)
    sys.exit(EXIT_FINDINGS if isinstance(exc, ImportFailed) else EXIT_USAGE)


def _print_plan(plan: Plan) -> None:
    for line in plan.lines():
        click.echo(line)


@click.command("deploy")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_connection_options
@project_option
@click.option("--dry-run", is_flag=True, help="Print the plan the deploy would carry out; send nothing.")
@click.option(
    "--prune",
    is_flag=True,
    help="Delete the project's assets and metrics whose spec or metric is gone (needs the whole project).",
)
@click.option(
    "--prune-used",
    is_flag=True,
    help="With --prune: delete them even when a dashboard or chart northstar does not manage uses them.",
)
@click.option(
    "--no-overwrite",
    is_flag=True,
    help="Refuse, instead of restoring the spec's version, when an asset was edited in Superset.",
)
@click.option("--force", is_flag=True, help="Import every asset, changed or not (and send passwords again).")
@click.option(
    "--send-passwords",
    is_flag=True,
    help="Send database passwords even to a Superset that does not say it keeps them out of its action log.",
)
@click.option(
    "--check-schemas",
    is_flag=True,
    help="Check what will be sent with Superset's own import schemas first (needs apache-superset "
    "installed here; about 10 s).",
)
@click.option(
    "--skip-warehouse-check",
    is_flag=True,
    help="Deploy without first running every metric on its database (what `validate --warehouse` does); "
    "a chart whose SQL fails then shows 'Data error'.",
)
def deploy_command(
    paths,
    url,
    username,
    timeout,
    project_file,
    dry_run,
    prune,
    prune_used,
    no_overwrite,
    force,
    send_passwords,
    check_schemas,
    skip_warehouse_check,
) -> None:
    """Compile specs and deploy them to Superset, as their project.

    First runs every metric on its database over the last day, as `northstar
    validate --warehouse` does, and sends nothing when one fails (exit 1,
    the findings located in the specs). Sends only what changed, in one
    all-or-nothing import; refuses, naming them, to touch what another
    project or a person holds. Prints the plan (what it creates, updates,
    restores, tags and deletes) and carries out exactly that. Tags what it
    manages (northstar:managed, northstar:project:<id>, northstar:spec:<id>)
    and sets owners from the spec's teams. Safe to run on every merge.
    """
    if prune_used and not prune:
        raise click.UsageError("--prune-used only means something with --prune")
    result, bundle = _compiled(paths, project_file)
    whole = _whole_project(paths, result)
    if prune and not whole:
        raise click.UsageError(
            "--prune needs the whole project: deploy without paths (or with every spec of the project), so that "
            "what the other specs make is not taken for gone"
        )
    client = _client(url, username, result.project, timeout)
    say = terminal.always("deploying to Superset")
    if skip_warehouse_check:
        click.echo("warning: --skip-warehouse-check: the metrics were not run on the warehouse first", err=True)
    else:
        findings = warehouse_findings(result)
        if findings:
            terminal.echo(REPORTERS["text"](findings))
        if has_errors(findings):
            terminal.echo("northstar: deploy refused: metrics fail on the warehouse; nothing was sent")
            sys.exit(EXIT_FINDINGS)
        say("ran every metric on the warehouse")
    project = result.project
    if project.id_derived_from:
        click.echo(
            f"note: northstar.yaml sets no `project:`; deploying as project {project.id!r}, derived from "
            f"{project.id_derived_from}. Add `project: {project.id}` so it never changes.",
            err=True,
        )
    options = Options(
        force=force,
        prune=prune,
        prune_used=prune_used,
        no_overwrite=no_overwrite,
        send_passwords=send_passwords,
        whole_project=whole,
    )
    try:
        outcome = deploy(
            client,
            bundle,
            result.specs,
            project,
            options,
            dry_run=dry_run,
            check_schemas=check_schemas,
            progress=say,
        )
    except DeployRefused as exc:
        terminal.finish()
        if exc.plan is not None:
            _print_plan(exc.plan)
        click.echo(f"northstar: deploy refused: {exc}", err=True)
        sys.exit(EXIT_FINDINGS)
    except SupersetError as exc:
        terminal.finish()
        _fail(exc)
    terminal.finish()
    _print_plan(outcome.plan)
    for note in outcome.notes:
        click.echo(f"note: {note}", err=True)
    if dry_run:
        click.echo(f"plan: {outcome.plan.summary()} (dry run: nothing was sent)")
        if bundle.schedules:
            click.echo(f"plan: reports and alerts: {schedules.summary(outcome.plan)}")
        return
    plan = outcome.plan
    click.echo(
        f"deployed project {project.id!r} to {client.url}: {plan.count('create')} created, "
        f"{plan.count('update')} updated, {outcome.tagged} tagged, {plan.count('unchanged')} unchanged, "
        f"{outcome.pruned} deleted" + ("" if outcome.imported else " (no import needed)")
    )
    if bundle.schedules:
        sent = outcome.schedules
        click.echo(
            f"  reports and alerts: {sent.get('create', 0)} created, {sent.get('update', 0)} updated, "
            f"{sum(s.action == 'unchanged' and s.kind in schedules.KINDS.values() for s in plan.steps)} unchanged, "
            f"{sent.get('delete', 0)} deleted"
        )
    for spec in sorted(result.specs, key=lambda s: s.product.id):
        click.echo(f"  {spec.product.name}: {client.url}/superset/dashboard/{naming.dashboard_slug(spec.product.id)}/")
    click.echo(f"  portfolio: {client.url}/superset/dashboard/{naming.dashboard_slug(naming.PORTFOLIO_ID)}/")


def _schedule_drift(client: SupersetClient, bundle, state, project_id: str) -> list[dict]:
    """Drift of the rituals' reports and alerts: missing, or a field that differs from the spec."""
    if not bundle.schedules:
        return []
    live = schedules.fetch(client, project_id)
    if not live.enabled:
        click.echo("note: " + schedules.DISABLED.format(count=len(bundle.schedules)), err=True)
        return []
    ids = schedules.resolve(client, state, bundle.schedules)
    ours = {schedules.marker_of(r).get("key"): r for r in live.rows or [] if r["id"] in live.details}
    found = []
    for schedule in bundle.schedules:
        row = ours.get(schedule.key)
        item = {"kind": schedules.KINDS[schedule.type][:-1], "name": schedule.name, "uuid": schedule.key}
        if row is None:
            found.append({**item, "field": None, "compiled": None, "live": "missing"})
            continue
        body = schedules.wanted(schedule, ids)
        for difference in schedules.differences(schedule, body, schedules.live_fields(live.details[row["id"]])):
            found.append({**item, "field": difference.field, "compiled": difference.compiled, "live": difference.live})
    return found


@click.command("drift")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_connection_options
@project_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def drift_command(paths, url, username, timeout, project_file, fmt) -> None:
    """Report what was edited in Superset since the specs were deployed.

    Compares each asset the specs compile to with the live one, field by
    field, and each report and alert of the rituals (crontab, timezone,
    recipients, SQL, threshold …); exit 1 when anything differs or is missing.
    """
    result, bundle = _compiled(paths, project_file)
    client = _client(url, username, result.project, timeout)
    try:
        state = fetch(client, bundle)
        found = _schedule_drift(client, bundle, state, result.project.id)
    except SupersetError as exc:
        _fail(exc)
    for _, kind, data, live, diffs in compare(bundle, state):
        if live is None:
            found.append(
                {
                    "kind": kind[:-1],
                    "name": asset_name(data),
                    "uuid": data["uuid"],
                    "field": None,
                    "compiled": None,
                    "live": "missing",
                }
            )
            continue
        for difference in diffs:
            found.append(
                {
                    "kind": kind[:-1],
                    "name": asset_name(data),
                    "uuid": data["uuid"],
                    "field": difference.field,
                    "compiled": difference.compiled,
                    "live": difference.live,
                }
            )
    if fmt == "json":
        click.echo(json.dumps(found, indent=2, default=str))
    else:
        for item in found:
            if item["field"] is None:
                click.echo(f"{item['kind']} {item['name']!r}: missing in Superset")
            else:
                click.echo(
                    f"{item['kind']} {item['name']!r}: {item['field']}: "
                    f"spec says {item['compiled']!r}, Superset has {item['live']!r}"
                )
        assets = len({i["uuid"] for i in found})
        click.echo(f"{assets} asset{'s' * (assets != 1)} drifted" if found else "no drift")
    sys.exit(EXIT_FINDINGS if found else 0)
