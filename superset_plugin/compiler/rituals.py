"""Review rituals -> Superset reports, guardrails -> Superset alerts: what `northstar deploy` asks of
Superset's Alerts & Reports, as the bodies of /api/v1/report/ requests.

A pure function of the specs, the project and the environment (for the
database dialects and the webhook URLs a team's `webhook_env` names). What
only the live Superset knows, the ids of the dashboard, chart and database a
schedule shows or queries, is named by UUID in `refs` and resolved at deploy.

Every schedule carries `extra.northstar` (project and key): that marker, not
its name, is what makes it northstar's. Its name is what people see in
Superset's list, and Superset keeps names unique per type, so a hand-made
report of the same name is a clash the deploy refuses.

A guardrail's alert runs the guardrail's dataset metric (the expression its
chart shows) on its source table over the last complete period, and fires
when the value crosses the threshold: `max` -> `>`, `min` -> `<`; a
guardrail with both gets two alerts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from northstar_spec.spec import rituals
from northstar_spec.spec.model import CounterMetric, Project, Spec
from northstar_spec.spec.sql import metric_expression, source_table
from superset_plugin.compiler import naming
from superset_plugin.compiler.periods import current_period_start_sql, previous_period_start_sql

#: Superset's limit on a report's name.
NAME_LIMIT = 150
#: Seconds a report or alert may take (screenshots of a large dashboard take a while) and days of logs kept.
WORKING_TIMEOUT = 600
LOG_RETENTION = 90
_OPERATORS = {"max": ">", "min": "<"}
#: database name -> (its SQLAlchemy dialect, the dialect name its fragments render in), from the asset compiler.
Dialects = Mapping[str, tuple[sa.engine.Dialect, str]]


class ScheduleError(Exception):
    """A schedule cannot be compiled (a webhook URL missing from the environment)."""


@dataclass(frozen=True)
class Schedule:
    """One Superset report or alert: the request body, and the assets it names by UUID."""

    key: str  # stable: what identifies it across deploys ("<product>/<ritual>", "<product>/guardrail/<id>/max")
    type: str  # "Report" | "Alert"
    body: dict
    #: {"dashboard" | "chart" | "database": uuid}: set to their Superset ids at deploy.
    refs: dict[str, str]
    #: Recipient targets that must not be shown (webhook URLs), -> what is shown instead.
    masks: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.body["name"]


def marker(project_id: str, key: str) -> dict:
    return {"northstar": {"project": project_id, "key": key}}


def _name(spec: Spec, what: str) -> str:
    """ "<product> · <what> [<product id>]": the product id keeps names apart across projects (Superset wants
    them unique per type), as product ids are unique across the projects of one Superset."""
    tail = f" [{spec.product.id}]"
    text = f"{spec.product.name} · {what}"
    room = NAME_LIMIT - len(tail)
    return (text if len(text) <= room else text[: room - 1] + "…") + tail


def _recipients(project: Project, teams: Sequence[str], env: Mapping[str, str]) -> tuple[list[dict], dict[str, str]]:
    """One Email recipient with every address, then Slack channels, then webhooks, in team order."""
    emails: list[str] = []
    slack: list[str] = []
    hooks: list[tuple[str, str]] = []
    for team_id in teams:
        team = project.teams.get(team_id)
        if team is None:
            continue
        emails += [e for e in team.emails if e not in emails]
        if team.slack and team.slack.lstrip("#") not in slack:
            slack.append(team.slack.lstrip("#"))
        if team.webhook_env:
            url = env.get(team.webhook_env)
            if not url:
                raise ScheduleError(
                    f"team {team_id!r}: the environment variable {team.webhook_env} (its webhook URL) is not set"
                )
            if (url, team.webhook_env) not in hooks:
                hooks.append((url, team.webhook_env))
    found = []
    if emails:
        found.append({"type": "Email", "recipient_config_json": {"target": ",".join(emails)}})
    found += [{"type": "Slack", "recipient_config_json": {"target": channel}} for channel in slack]
    found += [{"type": "Webhook", "recipient_config_json": {"target": url}} for url, _ in hooks]
    return found, {url: f"${env_name}" for url, env_name in hooks}


def _description(project: Project, spec: Spec, what: str) -> str:
    return f"{what}. {naming.certification(project.id, spec.file)}: edit the spec, not this schedule."


def _report(project: Project, spec: Spec, name: str, ritual, env: Mapping[str, str]) -> Schedule | None:
    recipients, masks = _recipients(project, rituals.ritual_teams(spec, name, ritual), env)
    if not recipients:
        return None
    when = rituals.schedule(ritual, project.rituals)
    key = f"{spec.product.id}/{name}"
    body = {
        "type": "Report",
        "name": _name(spec, rituals.RITUAL_TITLES[name]),
        "description": _description(
            project,
            spec,
            f"The {rituals.RITUAL_TITLES[name]} of {spec.product.name} ({ritual.cadence}): {when.meaning}",
        ),
        "crontab": when.crontab,
        "timezone": when.timezone,
        "report_format": ritual.format.upper(),
        "recipients": recipients,
        "active": True,
        "creation_method": "alerts_reports",
        "working_timeout": WORKING_TIMEOUT,
        "log_retention": LOG_RETENTION,
        "extra": marker(project.id, key),
    }
    return Schedule(key, "Report", body, {"dashboard": naming.dashboard_uuid(spec.product.id)}, masks)


def alert_sql(spec: Spec, counter: CounterMetric, dialect: sa.engine.Dialect, dialect_name: str) -> str:
    """The guardrail's value over the last complete period, as one row with one column."""
    source = spec.sources[counter.source]
    table = source_table(spec, source, dialect_name)
    time_column: sa.sql.elements.ColumnClause = sa.literal_column(dialect.identifier_preparer.quote(source.time_column))
    query = (
        sa.select(metric_expression(spec, counter, dialect_name).label("value"))
        .select_from(table)
        .where(time_column >= sa.literal_column(previous_period_start_sql(counter.grain, dialect_name)))
        .where(time_column < sa.literal_column(current_period_start_sql(counter.grain, dialect_name)))
    )
    return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def _alerts(
    project: Project, spec: Spec, counter: CounterMetric, env: Mapping[str, str], dialects: Dialects
) -> list[Schedule]:
    threshold = counter.threshold
    if threshold is None:
        return []
    recipients, masks = _recipients(project, rituals.guardrail_teams(spec, counter.id), env)
    if not recipients:
        return []
    source = spec.sources[counter.source]
    dialect, dialect_name = dialects[source.database]
    sql = alert_sql(spec, counter, dialect, dialect_name)
    guarded = spec.metric(counter.guards) if counter.guards else None
    found = []
    for bound in ("max", "min"):
        value = getattr(threshold, bound)
        if value is None:
            continue
        op = _OPERATORS[bound]
        key = f"{spec.product.id}/guardrail/{counter.id}/{bound}"
        what = (
            f"Guardrail {counter.name} of {spec.product.name}"
            + (f" (guards {guarded.name})" if guarded else "")
            + f": fires when its value for the last complete {counter.grain} is {op} {value:g}"
        )
        body = {
            "type": "Alert",
            "name": _name(spec, f"guardrail {counter.name} {op} {value:g}"),
            "description": _description(project, spec, what),
            "crontab": project.rituals.alert_cron,
            "timezone": project.rituals.timezone,
            "report_format": "PNG",
            "recipients": recipients,
            "active": True,
            "creation_method": "alerts_reports",
            "working_timeout": WORKING_TIMEOUT,
            "log_retention": LOG_RETENTION,
            "grace_period": project.rituals.grace_period,
            "sql": sql,
            "validator_type": "operator",
            "validator_config_json": {"op": op, "threshold": value},
            "extra": marker(project.id, key),
        }
        refs = {
            "chart": naming.chart_uuid(spec.product.id, naming.metric_chart_key(counter)),
            "database": naming.database_uuid(source.database),
        }
        found.append(Schedule(key, "Alert", body, refs, masks))
    return found


def compile_schedules(
    specs: Sequence[Spec], project: Project, env: Mapping[str, str], dialects: Dialects
) -> list[Schedule]:
    """Every report and alert the specs make, in a stable order (by product, rituals before alerts).

    Called by the asset compiler (`compile_bundle`), which knows each database's dialect.
    """
    if not rituals.delivers(project):
        return []
    found: list[Schedule] = []
    for spec in sorted(specs, key=lambda s: s.product.id):
        for name, ritual in rituals.rituals(spec):
            report = _report(project, spec, name, ritual, env)
            if report is not None:
                found.append(report)
        if project.rituals.alerts:
            for counter in spec.counter_metrics:
                found += _alerts(project, spec, counter, env, dialects)
    return found
