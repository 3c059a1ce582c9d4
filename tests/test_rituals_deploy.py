"""Reports and alerts deployed through Superset's report API, managed like every other asset: dry run,
skip-if-unchanged, drift field by field, restore, prune only our own, clashes refused, and a Superset with
Alerts & Reports off (the rest of the deploy still works). Against a real Superset 6.1."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import run_cli
from spec_repos import client_for, example_repo, run_deploy, spec_repo
from superset_server import TEST_CONFIG, running_superset
from warehouses import sqlite_warehouse

from superset_plugin.compiler import naming
from superset_plugin.deploy.client import SupersetClient

pytestmark = pytest.mark.superset


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_superset(root=tmp_path_factory.mktemp("rituals-superset")) as instance:
        yield instance


@pytest.fixture(scope="module")
def warehouse_uri(tmp_path_factory) -> str:
    return sqlite_warehouse(tmp_path_factory.mktemp("rituals-warehouse"))


@pytest.fixture
def repo(tmp_path) -> Path:
    return example_repo(tmp_path)


def reports(client: SupersetClient) -> dict[str, dict]:
    """name -> the whole record of every report and alert."""
    rows = client.list_all("report", {"columns": ["id", "name"]})
    return {row["name"]: client.get(f"/api/v1/report/{row['id']}")["result"] for row in rows}


def changed_on(client: SupersetClient) -> dict[str, str]:
    return {r["name"]: r["changed_on"] for r in client.list_all("report", {"columns": ["name", "changed_on"]})}


def test_rituals_become_reports_and_guardrails_alerts(server, repo, warehouse_uri):
    client = client_for(server)
    dashboards = client.list_all("dashboard", {"columns": ["id"]})
    assert dashboards == []  # a fresh Superset: the deploy below makes the dashboards
    dry = run_deploy(server, repo, warehouse_uri, "deploy", "--dry-run", "--skip-warehouse-check")
    assert dry.returncode == 0, dry.stderr
    assert "plan: reports and alerts: 19 create, 0 update, 0 unchanged, 0 delete" in dry.stdout
    assert "create    report    'Teamspace · input review [teamspace]'" in dry.stdout
    assert "create    alert     'Teamspace · guardrail Weekly churned teams > 40 [teamspace]'" in dry.stdout
    assert client.list_all("report", {"columns": ["id"]}) == []

    first = run_deploy(server, repo, warehouse_uri, "deploy", "--skip-warehouse-check")
    assert first.returncode == 0, first.stderr
    assert "reports and alerts: 19 created, 0 updated, 0 unchanged, 0 deleted" in first.stdout
    live = reports(client)
    assert len(live) == 19
    inputs = live["Teamspace · input review [teamspace]"]
    assert (inputs["type"], inputs["crontab"], inputs["timezone"], inputs["report_format"]) == (
        "Report",
        "30 10 * * 3",
        "Europe/Berlin",
        "PNG",
    )
    teamspace = client.find_by_uuid("dashboard", naming.dashboard_uuid("teamspace"))
    assert inputs["dashboard"]["id"] == teamspace["id"]
    assert [(r["type"], json.loads(r["recipient_config_json"])["target"]) for r in inputs["recipients"]] == [
        ("Email", "collab@teamspace.example,activation@teamspace.example,growth@teamspace.example")
    ]
    assert live["Staybnb · North Star revalidation [staybnb]"]["report_format"] == "PDF"
    assert live["Tunewave · North Star revalidation [tunewave]"]["crontab"] == "0 9 * 1,4,7,10 1#1"
    churn = live["Teamspace · guardrail Weekly churned teams > 40 [teamspace]"]
    assert churn["type"] == "Alert" and churn["validator_type"] == "operator"
    assert json.loads(churn["validator_config_json"]) == {"op": ">", "threshold": 40}
    assert churn["database"]["database_name"] == "northstar: warehouse"
    assert churn["chart"]["slice_name"].startswith("Guardrail: Weekly churned teams")
    assert churn["grace_period"] == 86400 and "FROM collab_events" in churn["sql"]

    # Three redeploys send nothing: every report's changed_on stays.
    before = changed_on(client)
    for _ in range(3):
        again = run_deploy(server, repo, warehouse_uri, "deploy", "--skip-warehouse-check")
        assert again.returncode == 0, again.stderr
        assert "reports and alerts: 0 created, 0 updated, 19 unchanged, 0 deleted" in again.stdout
    assert changed_on(client) == before

    # A crontab and a recipient edited in Superset: drift names each field, deploy restores them.
    client.put(
        f"/api/v1/report/{inputs['id']}",
        json={
            "crontab": "15 7 * * 5",
            "recipients": [{"type": "Email", "recipient_config_json": {"target": "someone@else.example"}}],
        },
    )
    drift = run_deploy(server, repo, warehouse_uri, "drift")
    assert drift.returncode == 1
    assert (
        "report 'Teamspace · input review [teamspace]': crontab: spec says '30 10 * * 3', Superset has '15 7 * * 5'"
        in (drift.stdout)
    )
    assert "report 'Teamspace · input review [teamspace]': recipients: spec says" in drift.stdout
    assert "someone@else.example" in drift.stdout
    restore = run_deploy(server, repo, warehouse_uri, "deploy", "--skip-warehouse-check")
    assert restore.returncode == 0, restore.stderr
    assert (
        "update    report    'Teamspace · input review [teamspace]': 2 field(s) differ from the spec: "
        "crontab, recipients" in restore.stdout
    )
    assert "crontab: spec says '30 10 * * 3', Superset has '15 7 * * 5'" in restore.stdout
    assert "reports and alerts: 0 created, 1 updated, 18 unchanged, 0 deleted" in restore.stdout
    assert reports(client)["Teamspace · input review [teamspace]"]["crontab"] == "30 10 * * 3"
    assert run_deploy(server, repo, warehouse_uri, "drift").returncode == 0

    # A hand-made report of the name a ritual will take: a clash, refused naming it; nothing is sent.
    made = client.post(
        "/api/v1/report/",
        json={
            "type": "Report",
            "name": "Teamspace · North Star review weekly [teamspace]",
            "crontab": "0 8 * * 1",
            "dashboard": teamspace["id"],
            "creation_method": "alerts_reports",
            "recipients": [{"type": "Email", "recipient_config_json": {"target": "me@hand.example"}}],
        },
    )
    spec = repo / "specs" / "teamspace.yaml"
    spec.write_text(spec.read_text().replace("north_star: {cadence: monthly,", "north_star: {cadence: weekly,"))
    clash = run_deploy(server, repo, warehouse_uri, "deploy", "--skip-warehouse-check")
    assert clash.returncode == 0, clash.stderr  # the name is not taken: the weekly review keeps its name
    assert reports(client)["Teamspace · North Star review [teamspace]"]["crontab"] == "0 9 * * 1"
    client.put(f"/api/v1/report/{made['id']}", json={"name": "Teamspace · input review weekly [teamspace]"})
    client.put(f"/api/v1/report/{inputs['id']}", json={"name": "renamed by hand"})
    client.put(f"/api/v1/report/{made['id']}", json={"name": "Teamspace · input review [teamspace]"})
    refused = run_deploy(server, repo, warehouse_uri, "deploy", "--skip-warehouse-check")
    assert refused.returncode == 1
    assert (
        f"report 'Teamspace · input review [teamspace]' (id {made['id']}) already exists and is not managed by "
        "northstar" in refused.stderr
    )
    assert reports(client)["renamed by hand"]["crontab"] == "30 10 * * 3"  # nothing was sent
    client.put(f"/api/v1/report/{made['id']}", json={"name": "Made by hand"})

    # The guardrail alerts switched off in northstar.yaml: kept without --prune, deleted with it; the hand-made
    # report and the rituals' reports stay.
    project = repo / "northstar.yaml"
    project.write_text(
        project.read_text().replace('rituals: {time: "09:00",', 'rituals: {alerts: false, time: "09:00",')
    )
    kept = run_deploy(server, repo, warehouse_uri, "deploy", "--skip-warehouse-check")
    assert kept.returncode == 0, kept.stderr
    assert (
        "keep      alert     'Teamspace · guardrail Weekly churned teams > 40 [teamspace]': the specs no longer make it"
        in (kept.stdout)
    )
    pruned = run_deploy(server, repo, warehouse_uri, "deploy", "--prune", "--skip-warehouse-check")
    assert pruned.returncode == 0, pruned.stderr
    assert "delete    alert     'Teamspace · guardrail Weekly churned teams > 40 [teamspace]'" in pruned.stdout
    assert "reports and alerts: 0 created, 0 updated, 12 unchanged, 7 deleted" in pruned.stdout, pruned.stdout
    left = reports(client)
    assert {r["type"] for name, r in left.items() if name != "Made by hand"} == {"Report"}
    assert len(left) == 13 and "Made by hand" in left


def test_alerts_and_reports_off_says_which_flag_and_deploys_the_rest(tmp_path, repo, warehouse_uri):
    config = TEST_CONFIG + 'FEATURE_FLAGS = {"TAGGING_SYSTEM": True, "ALERT_REPORTS": False}\n'
    with running_superset(config, root=tmp_path / "superset") as server:
        done = run_deploy(server, repo, warehouse_uri, "deploy", "--skip-warehouse-check")
        assert done.returncode == 0, done.stderr
        assert "56 created" in done.stdout
        assert "Alerts & Reports is off on this Superset (/api/v1/report/ answers 404)" in done.stderr
        assert 'FEATURE_FLAGS = {"ALERT_REPORTS": True}' in done.stderr
        assert len(client_for(server).list_all("dashboard", {"columns": ["id"]})) == 5
        drift = run_deploy(server, repo, warehouse_uri, "drift")
        assert drift.returncode == 0 and "Alerts & Reports is off" in drift.stderr


WEBHOOK_SECRET = "sekrit-hook-token-0000"
SMTP_SECRET = "smtp-pa55-never-shown"
SLACK_SECRET = "xoxb-never-shown-0000"


def test_no_channel_secret_in_a_bundle_a_log_the_published_model_or_any_output(server, tmp_path, warehouse_uri):
    """A team's webhook URL (from its webhook_env) goes to Superset as a report recipient and nowhere else;
    SMTP and Slack secrets stay in the environment of Superset's processes, never in its configuration file."""
    import sqlite3

    from superset_plugin.local import superset as local

    products = {name: f"s-{name}" for name in ("acme-invoicing", "staybnb", "teamspace", "tunewave")}
    repo = spec_repo(tmp_path / "repo", "secrets-demo", database="secrets_wh", products=products)
    project = repo / "northstar.yaml"
    project.write_text(
        project.read_text().replace(
            "growth: {name: Growth squad, contacts: [growth@teamspace.example],",
            'growth: {name: Growth squad, contacts: [growth@teamspace.example], slack: "#growth", '
            "webhook_env: GROWTH_HOOK,",
        )
    )
    hook = f"https://hooks.example/services/T0/B0/{WEBHOOK_SECRET}"
    env = {
        **os.environ,
        "NORTHSTAR_WAREHOUSE_URI": warehouse_uri,
        "SUPERSET_URL": server.url,
        "SUPERSET_USERNAME": server.username,
        "SUPERSET_PASSWORD": server.password,
        "GROWTH_HOOK": hook,
        "SMTP_PASSWORD": SMTP_SECRET,
        "SLACK_API_TOKEN": SLACK_SECRET,
    }
    outputs = []
    for args in (
        ("compile", "-o", str(tmp_path / "out")),
        ("deploy", "--dry-run", "--skip-warehouse-check"),
        ("deploy", "--skip-warehouse-check"),
    ):
        ran = run_cli(*args, cwd=repo, env=env)
        assert ran.returncode == 0, ran.stderr
        outputs.append(ran.stdout + ran.stderr)
    client = client_for(server)
    live = reports(client)
    churn = live["Teamspace · guardrail Weekly churned teams > 40 [s-teamspace]"]
    targets = [(r["type"], json.loads(r["recipient_config_json"])["target"]) for r in churn["recipients"]]
    assert ("Webhook", hook) in targets and ("Slack", "growth") in targets  # Superset holds it: it delivers to it
    # Edited in Superset: drift and the restoring deploy name the webhook by its variable.
    client.put(
        f"/api/v1/report/{churn['id']}",
        json={"recipients": [{"type": "Email", "recipient_config_json": {"target": "x@y.example"}}]},
    )
    for args in (("drift",), ("deploy", "--skip-warehouse-check")):
        ran = run_cli(*args, cwd=repo, env=env)
        outputs.append(ran.stdout + ran.stderr)
    assert "'target': '$GROWTH_HOOK'" in outputs[-2], outputs[-2]  # drift shows the whole value
    assert "1 field(s) differ from the spec: recipients" in outputs[-1], outputs[-1]
    config = (tmp_path / "config").resolve()
    config.mkdir()
    local.write_config(config, local.production_config(8088, 2525, 9, "scan", "postgresql://meta@127.0.0.1/x"))
    scanned = {
        "output": "\n".join(outputs),
        "bundle": "\n".join(p.read_text() for p in (tmp_path / "out").rglob("*.yaml")),
        "server log": server.log_path.read_text(errors="replace"),
        "published model": json.dumps(client.get("/api/v1/northstar/model")),
        "superset_config.py": (config / "superset_config.py").read_text(),
    }
    with sqlite3.connect(server.home / "superset.db") as db:
        scanned["action log"] = "\n".join(text or "" for (text,) in db.execute("SELECT json FROM logs"))
    for where, text in scanned.items():
        for secret in (WEBHOOK_SECRET, SMTP_SECRET, SLACK_SECRET):
            assert secret not in text, f"{secret} in the {where}"
    assert "SMTP_PASSWORD = os.environ" in scanned["superset_config.py"]
