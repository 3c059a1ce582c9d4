"""Rituals and guardrails compiled into Superset reports and alerts: golden file, the cadence -> crontab
mapping, recipients, webhook URLs from the environment, and alert SQL that computes what the guardrail
check computes, run on real SQLite and PostgreSQL warehouses."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers import ROOT, TODAY
from warehouses import demo_warehouse, postgres_uri, sqlite_warehouse

from northstar_spec.spec import rituals
from northstar_spec.spec.model import Ritual, RitualDefaults, Team
from northstar_spec.spec.pipeline import check
from northstar_spec.warehouse import guardrails
from superset_plugin.compiler.assets import CompileError, compile_bundle

# SQL through SQLAlchemy: runs on 2.x (CLI virtualenv) and on 1.4 (Superset's).
pytestmark = pytest.mark.sqlalchemy

GOLDEN = Path(__file__).parent / "golden" / "schedules.json"
PASSWORD = "s3cr3t-pa55"
ENV = {"NORTHSTAR_WAREHOUSE_URI": f"postgresql://northstar:{PASSWORD}@warehouse.example:5432/analytics"}


def examples(project_file: Path = ROOT / "northstar.yaml"):
    result = check([ROOT / "specs"], project_file=project_file, today=TODAY)
    assert not result.failed()
    return result


def compile_schedules(specs, project, env):
    return compile_bundle(specs, project, env).schedules


def rendered(schedules) -> str:
    return json.dumps([dataclasses.asdict(s) for s in schedules], indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def test_schedules_match_the_golden_file():
    """Regenerate with NORTHSTAR_UPDATE_GOLDEN=1 and review the diff like any other."""
    result = examples()
    text = rendered(compile_schedules(result.specs, result.project, ENV))
    if os.environ.get("NORTHSTAR_UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")
    assert PASSWORD not in text


def test_every_ritual_is_a_report_and_every_threshold_an_alert():
    result = examples()
    schedules = compile_schedules(result.specs, result.project, ENV)
    reports = [s for s in schedules if s.type == "Report"]
    alerts = [s for s in schedules if s.type == "Alert"]
    assert len(reports) == sum(1 for spec in result.specs for _ in rituals.rituals(spec))
    bounds = sum(
        (c.threshold.max is not None) + (c.threshold.min is not None)
        for spec in result.specs
        for c in spec.counter_metrics
        if c.threshold
    )
    assert len(alerts) == bounds
    assert len({s.key for s in schedules}) == len(schedules)
    assert len({(s.type, s.name) for s in schedules}) == len(schedules)  # Superset's unique constraint
    by_key = {s.key: s for s in schedules}
    # The teamspace input review at 10:30 (the ritual's own time), Wednesdays, in the project's timezone;
    # to its owner and every input's owner.
    inputs = by_key["teamspace/inputs"].body
    assert (inputs["crontab"], inputs["timezone"]) == ("30 10 * * 3", "Europe/Berlin")
    assert inputs["recipients"] == [
        {
            "type": "Email",
            "recipient_config_json": {
                "target": "collab@teamspace.example,activation@teamspace.example,growth@teamspace.example"
            },
        }
    ]
    assert by_key["staybnb/revalidation"].body["report_format"] == "PDF"
    assert by_key["staybnb/north_star"].body["report_format"] == "PNG"
    churn = by_key["teamspace/guardrail/weekly_churned_teams/max"].body
    assert churn["validator_config_json"] == {"op": ">", "threshold": 40}
    # The guardrail's team, and the owner of the North Star it guards.
    assert (
        churn["recipients"][0]["recipient_config_json"]["target"] == "growth@teamspace.example,leadership@acme.example"
    )
    assert all(s.body["extra"] == {"northstar": {"project": "northstar-demo", "key": s.key}} for s in schedules)


@pytest.mark.parametrize(
    ("cadence", "day", "last", "crontab"),
    [
        ("weekly", "wednesday", None, "0 9 * * 3"),
        ("weekly", None, None, "0 9 * * 1"),
        ("biweekly", "friday", None, "0 9 * * 5#1,5#3"),
        ("monthly", None, None, "0 9 * * 1#1"),
        ("monthly", "sunday", dt.date(2026, 5, 3), "0 9 * * 0#1"),
        ("quarterly", "tuesday", dt.date(2026, 11, 3), "0 9 * 2,5,8,11 2#1"),
        ("semiannually", None, dt.date(2026, 7, 1), "0 9 * 1,7 1#1"),
        ("annually", None, dt.date(2026, 3, 1), "0 9 * 3 1#1"),
        ("annually", None, None, "0 9 * 1 1#1"),
    ],
)
def test_cadence_to_crontab(cadence, day, last, crontab):
    ritual = Ritual(cadence, ("review", "x"), day, last)
    assert rituals.schedule(ritual, RitualDefaults()).crontab == crontab
    timed = dataclasses.replace(ritual, time="17:05", timezone="America/New_York")
    schedule = rituals.schedule(timed, RitualDefaults())
    assert schedule.crontab.startswith("5 17 ") and schedule.timezone == "America/New_York"


def test_a_project_without_channels_delivers_nothing():
    result = examples()
    silent = dataclasses.replace(
        result.project, teams={k: dataclasses.replace(t, contacts=()) for k, t in result.project.teams.items()}
    )
    assert compile_schedules(result.specs, silent, ENV) == []


def test_slack_channels_and_webhook_urls_from_the_environment():
    result = examples()
    teams = dict(result.project.teams)
    teams["growth"] = dataclasses.replace(teams["growth"], slack="#growth-alerts", webhook_env="GROWTH_HOOK")
    project = dataclasses.replace(result.project, teams=teams)
    with pytest.raises(CompileError, match="GROWTH_HOOK"):
        compile_schedules(result.specs, project, ENV)
    hook = "https://hooks.example/services/T0/B0/sekrit-token"
    schedules = compile_schedules(result.specs, project, {**ENV, "GROWTH_HOOK": hook})
    churn = next(s for s in schedules if s.key == "teamspace/guardrail/weekly_churned_teams/max")
    assert churn.body["recipients"][1:] == [
        {"type": "Slack", "recipient_config_json": {"target": "growth-alerts"}},
        {"type": "Webhook", "recipient_config_json": {"target": hook}},
    ]
    assert churn.masks == {hook: "$GROWTH_HOOK"}


def test_email_addresses_are_only_the_contacts_that_are_addresses():
    team = Team("t", "T", ("a@x.example", "#chat", "@org/handle"))
    assert team.emails == ("a@x.example",)


def _alert_values(uri: str) -> dict[tuple[str, str], float | None]:
    result = examples()
    env = {"NORTHSTAR_WAREHOUSE_URI": uri}
    engine = sa.create_engine(uri)
    found = {}
    try:
        with engine.connect() as connection:
            for schedule in compile_schedules(result.specs, result.project, env):
                if schedule.type == "Alert":
                    product, _, counter, _ = schedule.key.split("/")
                    found[(product, counter)] = connection.execute(sa.text(schedule.body["sql"])).scalar()
    finally:
        engine.dispose()
    return found


def _checked_values(uri: str) -> dict[tuple[str, str], float | None]:
    result = examples()
    return {
        (g.spec.product.id, g.metric.id): g.value
        for g in guardrails.check(
            result.specs, result.project, end=dt.date.today(), environ={"NORTHSTAR_WAREHOUSE_URI": uri}
        )
    }


def _same(alerts: dict, checked: dict) -> None:
    assert set(alerts) == set(checked)
    for key, value in checked.items():
        assert (None if alerts[key] is None else float(alerts[key])) == pytest.approx(value), key


def test_alert_sql_computes_what_the_guardrail_check_computes_on_sqlite(tmp_path):
    uri = sqlite_warehouse(tmp_path)
    _same(_alert_values(uri), _checked_values(uri))


def test_alert_sql_computes_what_the_guardrail_check_computes_on_postgresql():
    uri = demo_warehouse(postgres_uri("northstar_alerts"))
    _same(_alert_values(uri), _checked_values(uri))
