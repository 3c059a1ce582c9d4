"""Several spec repositories (projects) in one real Superset 6.1: each deploy owns its project's
assets and nothing else, the North Star page and the portfolio show every project, a prune of one
never touches another, and nothing a person made is broken or taken over."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from browser import browser_page, failures, login, screenshot, wait_for_dashboard
from spec_repos import client_for, deploy_env, run_deploy, run_in, spec_repo
from superset_server import running_superset
from warehouses import sqlite_warehouse

from superset_plugin.compiler import naming
from superset_plugin.deploy.client import SupersetClient
from superset_plugin.deploy.publish import MODEL_PATH

pytestmark = pytest.mark.superset
ALPHA, BETA = "alpha", "beta"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_superset(root=tmp_path_factory.mktemp("projects-superset")) as instance:
        yield instance


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> str:
    return sqlite_warehouse(tmp_path_factory.mktemp("projects-warehouse"))


@pytest.fixture(scope="module")
def repos(server, warehouse, tmp_path_factory):
    """Project alpha (Acme Invoicing, Teamspace) and project beta (Staybnb, Tunewave), one database."""
    root = tmp_path_factory.mktemp("projects")
    alpha = spec_repo(root / ALPHA, ALPHA, ("acme-invoicing", "teamspace"))
    beta = spec_repo(root / BETA, BETA, ("staybnb", "tunewave"))
    for repo in (alpha, beta):
        done = deploy(server, warehouse, repo)
        assert done.returncode == 0, done.stderr
    return {ALPHA: alpha, BETA: beta}


def deploy(server, warehouse, repo, *args, uri: str | None = None):
    return run_deploy(server, repo, uri or warehouse, "deploy", *args)


def inventory(client: SupersetClient) -> dict[str, dict]:
    """uuid -> {kind, changed_on, project} of every database, dataset, chart and dashboard."""
    found = {}
    for kind in ("chart", "dashboard"):
        for row in client.list_all(kind, {"columns": ["uuid", "changed_on_utc", "certification_details"]}):
            found[row["uuid"]] = {
                "kind": kind,
                "changed_on": row["changed_on_utc"],
                "project": naming.project_of(row.get("certification_details")),
            }
    for row in client.list_all("dataset", {"columns": ["uuid", "changed_on_utc", "extra"]}):
        details = ((json.loads(row.get("extra") or "{}") or {}).get("certification") or {}).get("details")
        found[row["uuid"]] = {
            "kind": "dataset",
            "changed_on": row["changed_on_utc"],
            "project": naming.project_of(details),
        }
    for row in client.list_all("database", {"columns": ["uuid", "changed_on"]}):
        found[row["uuid"]] = {"kind": "database", "changed_on": row["changed_on"], "project": None}
    return found


def of(project: str, assets: dict[str, dict]) -> dict[str, str]:
    return {uuid: a["changed_on"] for uuid, a in assets.items() if a["project"] == project}


def published(client: SupersetClient) -> dict[str, list[str]]:
    models = client.get(MODEL_PATH)["result"]["projects"]
    return {project: sorted(p["id"] for p in model["products"]) for project, model in models.items()}


def test_two_projects_side_by_side_on_the_page_and_the_portfolio(server, repos):
    client = client_for(server)
    assert published(client) == {ALPHA: ["acme-invoicing", "teamspace"], BETA: ["staybnb", "tunewave"]}
    assets = inventory(client)
    kinds = Counter(a["kind"] for a in assets.values() if a["project"] == ALPHA)
    assert kinds == {"dashboard": 2, "chart": 11 + 9 + 2, "dataset": 2}  # 2 portfolio tiles; the portfolio is shared
    with browser_page() as page:
        login(page, server.url, server.username, server.password)
        page.goto(f"{server.url}/northstar/")
        rows = page.locator("#portfolio tr[data-product]")
        rows.first.wait_for(timeout=60_000)
        shown = {r.get_attribute("data-product"): r.locator("td").nth(3).inner_text() for r in rows.all()}
        assert shown == {"acme-invoicing": ALPHA, "teamspace": ALPHA, "staybnb": BETA, "tunewave": BETA}
        assert page.locator(".node.north-star").count() == 4
        screenshot(page, "projects-north-star-page")
        wait_for_dashboard(page, server.url, naming.dashboard_slug(naming.PORTFOLIO_ID), 4)
        assert failures(page) == []
        table = page.locator("text=North Star portfolio").first
        table.wait_for()
        for name in ("Acme Invoicing", "Teamspace", "Staybnb", "Tunewave"):
            assert page.get_by_text(name, exact=True).count() >= 1, name
        screenshot(page, "projects-portfolio")


def test_pruning_one_project_leaves_the_other_byte_identical(server, warehouse, repos):
    client = client_for(server)
    before = inventory(client)
    (repos[BETA] / "specs" / "tunewave.yaml").unlink()
    pruned = deploy(server, warehouse, repos[BETA], "--prune")
    assert pruned.returncode == 0, pruned.stderr
    after = inventory(client)
    assert of(ALPHA, after) == of(ALPHA, before) and of(ALPHA, before)
    shared_database = next(u for u, a in before.items() if a["kind"] == "database")
    assert after[shared_database] == before[shared_database]
    gone = {u for u in before if u not in after}
    assert gone and all(before[u]["project"] == BETA for u in gone)
    assert naming.dashboard_uuid("tunewave") in gone and naming.chart_uuid(naming.PORTFOLIO_ID, "tunewave") in gone
    assert published(client) == {ALPHA: ["acme-invoicing", "teamspace"], BETA: ["staybnb"]}
    portfolio = client.find_by_uuid("dashboard", naming.dashboard_uuid(naming.PORTFOLIO_ID))
    tiles = {
        n["meta"]["uuid"]
        for n in json.loads(portfolio["position_json"]).values()
        if isinstance(n, dict) and n.get("type") == "CHART"
    }
    assert tiles == {naming.chart_uuid(naming.PORTFOLIO_ID, p) for p in ("acme-invoicing", "teamspace", "staybnb")}
    # and alpha, deployed again, finds everything as it left it
    again = deploy(server, warehouse, repos[ALPHA])
    assert "0 created, 0 updated, 0 tagged" in again.stdout, again.stdout + again.stderr
    assert of(ALPHA, inventory(client)) == of(ALPHA, before)


def test_a_subset_deploy_keeps_the_rest_of_its_project_and_refuses_to_prune(server, warehouse, repos):
    client = client_for(server)
    subset = run_in(
        repos[ALPHA],
        deploy_env(server.url, server.username, server.password, warehouse),
        "deploy",
        "specs/teamspace.yaml",
    )
    assert subset.returncode == 0, subset.stderr
    assert published(client)[ALPHA] == ["acme-invoicing", "teamspace"]
    assert client.find_by_uuid("dashboard", naming.dashboard_uuid("acme-invoicing")) is not None
    before = inventory(client)
    refused = run_in(
        repos[ALPHA],
        deploy_env(server.url, server.username, server.password, warehouse),
        "deploy",
        "specs/teamspace.yaml",
        "--prune",
    )
    assert refused.returncode == 2 and "--prune needs the whole project" in refused.stderr
    assert inventory(client) == before


def test_a_hand_made_dashboard_keeps_the_managed_chart_it_uses(server, warehouse, repos):
    client = client_for(server)
    chart = client.find_by_uuid("chart", naming.chart_uuid("teamspace", "input_invites_accepted"))
    board = client.post("/api/v1/dashboard/", json={"dashboard_title": "Hand-made board"})["id"]
    client.put(f"/api/v1/chart/{chart['id']}", json={"dashboards": [board]})
    spec = repos[ALPHA] / "specs" / "teamspace.yaml"
    text = spec.read_text()
    start = text.index("  - id: invites_accepted\n")
    spec.write_text(text[:start] + text[text.index("  - id: projects_per_active_team\n") :])
    before = inventory(client)

    dry = deploy(server, warehouse, repos[ALPHA], "--prune", "--dry-run")
    refused = deploy(server, warehouse, repos[ALPHA], "--prune")
    for done in (dry, refused):
        assert done.returncode == 1, done.stderr
        assert "'Hand-made board'" in done.stderr and f"(id {board})" in done.stderr
        assert "--prune-used" in done.stderr and "Breadth: Invites accepted (Growth squad)" in done.stderr
    assert dry.stdout == refused.stdout  # the same plan, printed before the refusal
    assert inventory(client) == before

    kept = deploy(server, warehouse, repos[ALPHA])
    assert kept.returncode == 0, kept.stderr
    assert "keep      metric    'invites_accepted'" in kept.stdout
    assert client.find_by_uuid("chart", naming.chart_uuid("teamspace", "input_invites_accepted"))
    with browser_page() as page:
        login(page, server.url, server.username, server.password)
        wait_for_dashboard(page, server.url, str(board), 1)
        assert failures(page) == []
        screenshot(page, "hand-made-board-keeps-its-chart")

    forced = deploy(server, warehouse, repos[ALPHA], "--prune", "--prune-used")
    assert forced.returncode == 0, forced.stderr
    assert client.find_by_uuid("chart", naming.chart_uuid("teamspace", "input_invites_accepted")) is None
    assert board in {d["id"] for d in client.list_all("dashboard", {"columns": ["id"]})}


def test_what_another_project_holds_is_refused_naming_it(server, warehouse, repos, tmp_path):
    client = client_for(server)
    before = inventory(client)
    same_product = spec_repo(tmp_path / "gamma", "gamma", ("teamspace",), database="gamma_wh")
    same_table = spec_repo(tmp_path / "delta", "delta", ("teamspace",), products={"teamspace": "teamspace-d"})
    other_uri = spec_repo(tmp_path / "eps", "eps", ("staybnb",), products={"staybnb": "staybnb-e"})
    elsewhere = Path(warehouse.removeprefix("sqlite:///")).with_name("elsewhere.db")
    shutil.copyfile(warehouse.removeprefix("sqlite:///"), elsewhere)  # the same data, another URI
    cases = [
        (same_product, warehouse, "belongs to project 'alpha': product 'teamspace' is deployed from that project"),
        (same_table, warehouse, "belongs to project 'alpha': two projects cannot share a dataset"),
        (other_uri, f"sqlite:///{elsewhere}", "is shared with project(s) 'alpha', 'beta'"),
    ]
    for repo, uri, message in cases:
        done = deploy(server, warehouse, repo, uri=uri)
        assert done.returncode == 1, done.stdout + done.stderr
        assert "deploy refused" in done.stderr and message in done.stderr, done.stderr
    assert inventory(client) == before
