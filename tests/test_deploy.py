"""`northstar deploy`, `drift` and `--prune` against a real Superset 6.1: the
boring, repeatable deploy CI runs on every merge."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from helpers import run_cli
from on_terminal import COLOUR, SPINNER, on_a_terminal
from spec_repos import client_for, example_repo, run_deploy
from superset_server import running_superset
from warehouses import demo_warehouse, postgres_uri

from northstar_spec.spec.pipeline import check
from superset_plugin.compiler.assets import compile_bundle
from superset_plugin.deploy.apply import DeployRefused, deploy
from superset_plugin.deploy.client import ImportFailed, SupersetClient
from superset_plugin.deploy.plan import Options

pytestmark = pytest.mark.superset
DB_PASSWORD = "db-pa55-never-shown"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # The security API (TEST_CONFIG) lets a test create the users whose emails the spec teams list.
    with running_superset(root=tmp_path_factory.mktemp("deploy-superset")) as instance:
        yield instance


@pytest.fixture(scope="module")
def warehouse_uri() -> str:
    uri = demo_warehouse(postgres_uri("northstar_test_deploy"))
    return uri.replace("postgres@", f"postgres:{DB_PASSWORD}@")  # trust auth ignores it; northstar must hide it


@pytest.fixture
def repo(tmp_path) -> Path:
    return example_repo(tmp_path)


def inventory(client: SupersetClient) -> dict[str, dict[str, str]]:
    """uuid -> changed_on of every chart, dashboard and dataset."""
    out = {}
    for kind in ("chart", "dashboard", "dataset"):
        rows = client.list_all(kind, {"columns": ["uuid", "changed_on_utc"]})
        out[kind] = {r["uuid"]: r["changed_on_utc"] for r in rows}
    return out


def library_deploy(server, repo: Path, uri: str, **options):
    result = check([], project_file=repo / "northstar.yaml")
    bundle = compile_bundle(result.specs, result.project, {"NORTHSTAR_WAREHOUSE_URI": uri})
    return deploy(client_for(server), bundle, result.specs, result.project, Options(**options))


def test_deploy_lifecycle(server, repo, warehouse_uri):
    # First deploy creates everything, checked first with Superset's own import schemas.
    first = run_deploy(server, repo, warehouse_uri, "deploy", "--check-schemas")
    assert first.returncode == 0, first.stderr
    assert "checked the bundle with Superset's import schemas" in first.stderr
    assert "deployed project 'northstar-demo' to " in first.stdout
    assert f"{server.url}: 56 created, 0 updated, 51 tagged, 0 unchanged, 0 deleted" in first.stdout
    client = client_for(server)
    before = inventory(client)
    assert (len(before["chart"]), len(before["dashboard"]), len(before["dataset"])) == (46, 5, 4)
    tagged = client.get("/api/v1/tag/get_objects/", params={"tags": "northstar:managed"})["result"]
    assert len(tagged) == 51
    project_tag = client.get("/api/v1/tag/get_objects/", params={"tags": "northstar:project:northstar-demo"})
    assert len(project_tag["result"]) == 50  # all but the portfolio dashboard, which every project shares
    spec_tag = client.get("/api/v1/tag/get_objects/", params={"tags": "northstar:spec:teamspace"})["result"]
    assert len(spec_tag) == 11  # 9 charts, the dashboard and the product's portfolio tile

    # Ten redeploys of unchanged specs send no import and change nothing.
    for _ in range(10):
        again = run_deploy(server, repo, warehouse_uri, "deploy")
        assert again.returncode == 0, again.stderr
        assert "0 created, 0 updated, 0 tagged, 56 unchanged, 0 deleted (no import needed)" in again.stdout
    assert inventory(client) == before

    # A dry run of a changed display name plans exactly the assets that show it.
    spec = repo / "specs" / "teamspace.yaml"
    spec.write_text(spec.read_text().replace("name: Invites accepted", "name: Invitations accepted"))
    plan = run_deploy(server, repo, warehouse_uri, "deploy", "--dry-run")
    assert plan.returncode == 0
    planned = [line for line in plan.stdout.splitlines() if not line.startswith("plan: ")]
    updates = sorted(re.match(r"update\s+\w+\s+'(.*?)'", line)[1] for line in planned if line.startswith("update"))
    assert updates == ["Breadth: Invitations accepted (Growth squad)", "North Star: Teamspace", "collab_events"]
    assert "plan: 0 create, 3 update, 0 tag, 53 unchanged, 0 delete (dry run: nothing was sent)" in plan.stdout
    assert inventory(client) == before

    # Deploying it updates only those three, and prints the very plan the dry run printed.
    changed = run_deploy(server, repo, warehouse_uri, "deploy")
    assert changed.returncode == 0 and "0 created, 3 updated, 0 tagged, 53 unchanged" in changed.stdout
    assert changed.stdout.splitlines()[: len(planned)] == planned
    after = inventory(client)
    moved = {uuid for kind in after for uuid in after[kind] if after[kind][uuid] != before[kind][uuid]}
    assert len(moved) == 3


def test_drift_reports_edits_made_in_superset(server, repo, warehouse_uri):
    assert run_deploy(server, repo, warehouse_uri, "deploy").returncode == 0
    clean = run_deploy(server, repo, warehouse_uri, "drift")
    assert clean.returncode == 0 and clean.stdout.strip() == "no drift"
    client = client_for(server)
    chart = next(
        r
        for r in client.list_all("chart", {"columns": ["id", "slice_name", "params", "uuid"]})
        if r["slice_name"] == "★ North Star: Weekly active teams"
    )
    params = json.loads(chart["params"])
    params["time_grain_sqla"] = "P1D"
    client.put(f"/api/v1/chart/{chart['id']}", json={"slice_name": "Renamed by hand", "params": json.dumps(params)})
    drift = run_deploy(server, repo, warehouse_uri, "drift")
    assert drift.returncode == 1
    assert "slice_name: spec says '★ North Star: Weekly active teams', Superset has 'Renamed by hand'" in drift.stdout
    assert "params.time_grain_sqla: spec says 'P1W', Superset has 'P1D'" in drift.stdout
    assert drift.stdout.strip().endswith("1 asset drifted")
    # --no-overwrite refuses to restore it, naming the asset and the fields, and sends nothing.
    before = inventory(client)
    refused = run_deploy(server, repo, warehouse_uri, "deploy", "--no-overwrite")
    assert refused.returncode == 1, refused.stderr
    assert "Superset has 'Renamed by hand'" in refused.stdout  # the plan, field by field
    assert "(slice_name, params.time_grain_sqla)" in refused.stderr
    assert "--no-overwrite" in refused.stderr and inventory(client) == before
    # A plain deploy restores what the spec says, and says so field by field.
    restore = run_deploy(server, repo, warehouse_uri, "deploy")
    assert restore.returncode == 0 and "1 updated" in restore.stdout
    assert "restores 2 fields edited in Superset" in restore.stdout
    assert "slice_name: spec says '★ North Star: Weekly active teams', Superset has 'Renamed by hand'" in restore.stdout
    assert "params.time_grain_sqla: spec says 'P1W', Superset has 'P1D'" in restore.stdout
    assert run_deploy(server, repo, warehouse_uri, "drift").returncode == 0


def test_prune_deletes_only_managed_assets_whose_spec_is_gone(server, repo, warehouse_uri):
    assert run_deploy(server, repo, warehouse_uri, "deploy").returncode == 0
    client = client_for(server)
    dataset = next(
        d for d in client.list_all("dataset", {"columns": ["id", "table_name"]}) if d["table_name"] == "collab_events"
    )
    hand_chart = client.post(
        "/api/v1/chart/",
        json={
            "slice_name": "Hand-made",
            "viz_type": "big_number_total",
            "datasource_id": dataset["id"],
            "datasource_type": "table",
            "params": json.dumps({"metric": "weekly_active_teams"}),
        },
    )["id"]
    hand_dashboard = client.post("/api/v1/dashboard/", json={"dashboard_title": "Hand-made board"})["id"]

    (repo / "specs" / "tunewave.yaml").unlink()
    pruned = run_deploy(server, repo, warehouse_uri, "deploy", "--prune")
    assert pruned.returncode == 0, pruned.stderr
    titles = {d["dashboard_title"] for d in client.list_all("dashboard", {"columns": ["dashboard_title"]})}
    assert "North Star: Tunewave" not in titles and "Hand-made board" in titles
    charts = {c["id"]: c["slice_name"] for c in client.list_all("chart", {"columns": ["id", "slice_name"]})}
    assert hand_chart in charts and not any("Tunewave" in n or "listen" in n.lower() for n in charts.values())
    assert "listening_events" not in {d["table_name"] for d in client.list_all("dataset", {"columns": ["table_name"]})}
    assert hand_dashboard in {d["id"] for d in client.list_all("dashboard", {"columns": ["id"]})}
    assert "deleted" in pruned.stdout and " 0 deleted" not in pruned.stdout


def test_slug_clash_is_refused(server, repo, warehouse_uri):
    client = client_for(server)
    client.post("/api/v1/dashboard/", json={"dashboard_title": "Somebody's board", "slug": "northstar-clashy"})
    spec = (repo / "specs" / "staybnb.yaml").read_text().replace("id: staybnb\n", "id: clashy\n")
    for metric in (
        "nights_booked",
        "active_listings",
        "search_to_booking_rate",
        "repeat_guest_bookings",
        "new_hosts_activated",
        "cancellation_rate",
        "guest_complaints",
        "nights_stayed",  # the outcome: its id is unique across specs too (NS405)
    ):
        spec = spec.replace(f"id: {metric}\n", f"id: c_{metric}\n").replace(
            f"guards: {metric}\n", f"guards: c_{metric}\n"
        )
    (repo / "specs" / "clashy.yaml").write_text(spec)
    before = inventory(client)
    refused = run_deploy(server, repo, warehouse_uri, "deploy")
    assert refused.returncode == 1
    assert "deploy refused" in refused.stderr and "Somebody's board" in refused.stderr
    assert "'northstar-clashy'" in refused.stderr
    assert inventory(client) == before


def test_concurrent_deploys_leave_no_duplicates(server, repo, warehouse_uri):
    errors = []

    def one():
        try:
            library_deploy(server, repo, warehouse_uri, force=True)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    client = client_for(server)
    for kind in ("chart", "dashboard", "dataset"):
        uuids = [r["uuid"] for r in client.list_all(kind, {"columns": ["uuid"]})]
        assert len(uuids) == len(set(uuids))
    tags = [t["name"] for t in client.list_all("tag", {"columns": ["name"]})]
    assert tags.count("northstar:managed") == 1


def test_a_writer_holding_superset_s_database_delays_a_deploy_without_failing_it(server, repo, warehouse_uri):
    """Why concurrent deploys used to get a 500 now and then: a SQLite metadata database has one
    writer at a time, an import holds the lock for seconds (more on a loaded machine), and SQLite
    gives up after 5 s with "database is locked". The local Superset now waits up to 60 s."""
    library_deploy(server, repo, warehouse_uri)
    spec = repo / "specs" / "staybnb.yaml"
    spec.write_text(spec.read_text().replace("name: Nights booked", "name: Nights booked in total"))
    result = check([], project_file=repo / "northstar.yaml")
    bundle = compile_bundle(result.specs, result.project, {"NORTHSTAR_WAREHOUSE_URI": warehouse_uri})
    held = threading.Event()

    def hold_the_write_lock(seconds: float = 12.0) -> None:
        with contextlib.closing(sqlite3.connect(server.home / "superset.db", timeout=60)) as connection:
            connection.execute("BEGIN IMMEDIATE")
            held.set()
            time.sleep(seconds)
            connection.rollback()

    holder = threading.Thread(target=hold_the_write_lock)

    def progress(message: str) -> None:
        if message.startswith("importing"):
            holder.start()
            held.wait(10)

    started = time.monotonic()
    outcome = deploy(client_for(server), bundle, result.specs, result.project, progress=progress)
    holder.join()
    assert outcome.imported and time.monotonic() - started > 11


def test_a_failed_import_changes_nothing(server, repo, warehouse_uri):
    library_deploy(server, repo, warehouse_uri)
    result = check([], project_file=repo / "northstar.yaml")
    bundle = compile_bundle(result.specs, result.project, {"NORTHSTAR_WAREHOUSE_URI": warehouse_uri})
    broken = next(p for p in bundle.files if p.startswith("charts/teamspace__input_invites"))
    bundle.files[broken]["slice_name"] = "Should never appear"
    other = next(p for p in bundle.files if p.startswith("charts/teamspace__counter"))
    bundle.files[other]["slice_name"] = "Neither should this"
    bundle.files[other]["dataset_uuid"] = "00000000-0000-0000-0000-000000000000"
    client = client_for(server)
    before = inventory(client)
    with pytest.raises(DeployRefused, match="its dataset is not in the bundle"):
        deploy(client, bundle, result.specs, result.project)
    with pytest.raises(ImportFailed) as failure:  # past our preflight, Superset itself refuses it whole
        client.import_assets(bundle.to_zip(), bundle.passwords)
    assert DB_PASSWORD not in str(failure.value)
    assert inventory(client) == before
    names = {c["slice_name"] for c in client.list_all("chart", {"columns": ["slice_name"]})}
    assert "Should never appear" not in names and "Neither should this" not in names


def test_faults_give_clear_errors_and_exit_codes(server, repo, warehouse_uri, tmp_path):
    wrong = run_deploy(server, repo, warehouse_uri, "deploy", password="not-the-password")
    assert wrong.returncode == 2
    assert "not-the-password" not in wrong.stdout + wrong.stderr
    assert "Traceback" not in wrong.stderr and "password" in wrong.stderr.lower()

    with running_superset(root=tmp_path / "doomed") as doomed:
        doomed.stop()
        down = run_deploy(doomed, repo, warehouse_uri, "deploy")
    assert down.returncode == 2 and "Traceback" not in down.stderr
    assert doomed.url.split("//")[1] in down.stderr

    missing = run_cli(
        "deploy", cwd=repo, env={k: v for k, v in os.environ.items() if not k.startswith(("SUPERSET_", "NORTHSTAR_"))}
    )
    assert missing.returncode == 2 and "NORTHSTAR_WAREHOUSE_URI" in missing.stderr


def _access_token(server) -> str:
    request = urllib.request.Request(
        f"{server.url}/api/v1/security/login",
        method="POST",
        headers={"Content-Type": "application/json"},
        data=json.dumps({"username": server.username, "password": server.password, "provider": "db"}).encode(),
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)["access_token"]


def test_no_secret_reaches_any_output(server, repo, warehouse_uri):
    token = _access_token(server)
    outputs = []
    for args in (
        ("deploy",),
        ("deploy", "--dry-run"),
        ("deploy", "--force"),
        ("drift",),
        ("drift", "--format", "json"),
        ("compile", "-o", str(repo / "out")),
    ):
        done = run_deploy(server, repo, warehouse_uri, *args)
        outputs.append(done.stdout + done.stderr)
    env = {
        **os.environ,
        "NORTHSTAR_WAREHOUSE_URI": warehouse_uri,
        "SUPERSET_URL": server.url,
        "SUPERSET_ACCESS_TOKEN": token,
    }
    for args in (("deploy", "--force"), ("drift",)):
        done = run_cli(*args, cwd=repo, env=env)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout + done.stderr)
    env["SUPERSET_ACCESS_TOKEN"] = token[:-4] + "AAAA"  # a forged token: rejected, and not echoed
    forged = run_cli("drift", cwd=repo, env=env)
    assert forged.returncode == 2
    outputs.append(forged.stdout + forged.stderr)
    outputs += [p.read_text() for p in (repo / "out").rglob("*.yaml")]
    for text in outputs:
        assert DB_PASSWORD not in text and token[20:60] not in text and env["SUPERSET_ACCESS_TOKEN"][20:60] not in text
    bundle_zip = (repo / "out" / "northstar_bundle.zip").read_bytes()
    assert DB_PASSWORD.encode() not in bundle_zip


def test_owners_come_from_the_spec_teams(server, repo, warehouse_uri):
    client = client_for(server)
    roles = client.get("/api/v1/security/roles/", params={"q": {"page_size": 100}})["result"]
    alpha = next(r["id"] for r in roles if r["name"] == "Alpha")
    growth = client.post(
        "/api/v1/security/users/",
        json={
            "first_name": "Grace",
            "last_name": "Growth",
            "username": "grace",
            "email": "growth@teamspace.example",
            "password": "grace-Pa55",
            "active": True,
            "roles": [alpha],
        },
    )["id"]
    assert run_deploy(server, repo, warehouse_uri, "deploy", "--force").returncode == 0
    charts = {
        c["slice_name"]: {o["id"] for o in c["owners"]}
        for c in client.list_all("chart", {"columns": ["slice_name", "owners.id"]})
    }
    assert growth in charts["Breadth: Invites accepted (Growth squad)"]
    assert growth in charts["Guardrail: Weekly churned teams (Growth squad) · max 40"]
    assert growth not in charts["Depth: Projects completed per active team (Collaboration squad)"]
    dashboards = {
        d["dashboard_title"]: {o["id"] for o in d["owners"]}
        for d in client.list_all("dashboard", {"columns": ["dashboard_title", "owners.id"]})
    }
    assert growth in dashboards["North Star: Teamspace"] and growth not in dashboards["North Star: Staybnb"]


def test_superset_stopped_mid_deploy_is_a_clear_error(repo, warehouse_uri, tmp_path):
    from superset_plugin.deploy.client import Unreachable

    with running_superset(root=tmp_path / "stopping") as doomed:
        result = check([], project_file=repo / "northstar.yaml")
        bundle = compile_bundle(result.specs, result.project, {"NORTHSTAR_WAREHOUSE_URI": warehouse_uri})

        def stop_before_import(message: str) -> None:
            if message.startswith("importing"):
                doomed.stop()

        client = SupersetClient(doomed.url, username=doomed.username, password=doomed.password, retries=1, backoff=0.1)
        with pytest.raises(Unreachable) as stopped:
            deploy(client, bundle, result.specs, result.project, progress=stop_before_import)
    message = str(stopped.value)
    assert doomed.url in message and DB_PASSWORD not in message


def test_a_misspelled_column_is_found_before_anything_is_sent(server, repo, warehouse_uri):
    """validate --warehouse points at the column; deploy refuses and Superset never hears of it."""
    spec = repo / "specs" / "teamspace.yaml"
    text = spec.read_text()
    old = "measure: {aggregate: count_distinct, column: team_id}\n  filter: \"event_type = 'project_completed'\""
    assert text.count(old) == 1
    text = text.replace(old, old.replace("column: team_id}", "column: teem_id}"))
    spec.write_text(text)
    at = text.index("teem_id")
    where = f"specs/teamspace.yaml:{text.count(chr(10), 0, at) + 1}:{at - text.rfind(chr(10), 0, at)}"

    offline = run_deploy(server, repo, warehouse_uri, "validate")
    assert offline.returncode == 0, offline.stdout  # nothing offline can know the table's columns
    checked = run_deploy(server, repo, warehouse_uri, "validate", "--warehouse")
    assert checked.returncode == 1, checked.stdout
    assert f"\n{where}: NS903 error metric 'weekly_active_teams' fails on table " in f"\n{checked.stdout}"

    client = client_for(server)
    before = inventory(client)
    refused = run_deploy(server, repo, warehouse_uri, "deploy")
    assert refused.returncode == 1
    assert f"{where}: NS903 error" in refused.stderr
    assert "deploy refused: metrics fail on the warehouse; nothing was sent" in refused.stderr
    assert refused.stdout == ""
    assert inventory(client) == before  # nothing created, nothing changed

    skipped = run_deploy(server, repo, warehouse_uri, "deploy", "--dry-run", "--skip-warehouse-check")
    assert skipped.returncode == 0
    assert "warning: --skip-warehouse-check: the metrics were not run on the warehouse first" in skipped.stderr
    assert "NS903" not in skipped.stderr


def test_deploy_shows_live_progress_on_a_terminal(server, repo, warehouse_uri):
    """On a terminal, a spinner with the step under way while the import runs; NO_COLOR keeps it, without colour."""
    env = {
        "NORTHSTAR_WAREHOUSE_URI": warehouse_uri,
        "SUPERSET_URL": server.url,
        "SUPERSET_USERNAME": server.username,
        "SUPERSET_PASSWORD": server.password,
    }
    code, shown = on_a_terminal(["deploy", "--force"], cwd=repo, **env)
    assert code == 0, shown
    assert "deploying to Superset…" in shown and SPINNER.search(shown), repr(shown)
    assert re.search(r"✓\x1b\[0m importing \d+ assets", shown) and COLOUR.search(shown), repr(shown)
    assert "deployed project " in shown and DB_PASSWORD not in shown
    code, plain = on_a_terminal(["deploy"], cwd=repo, NO_COLOR="1", **env)
    assert code == 0 and "✓ ran every metric on the warehouse" in plain and not COLOUR.search(plain), repr(plain)
