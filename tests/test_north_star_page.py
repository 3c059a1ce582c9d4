"""The North Star page inside a real Superset 6.1 with the plugin enabled, as
admin, as a reader restricted to some datasets, and as nobody at all."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from browser import browser_page, login, screenshot
from helpers import ROOT
from superset_server import running_superset
from warehouses import sqlite_warehouse

from northstar_spec.spec.pipeline import check
from superset_plugin.compiler.assets import compile_bundle
from superset_plugin.deploy.apply import deploy
from superset_plugin.deploy.client import PermissionDenied, SupersetClient, SupersetError
from superset_plugin.deploy.publish import MODEL_PATH

pytestmark = pytest.mark.superset
READER, READER_PASSWORD = "reader", "reader-Pa55-word"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("page-superset")
    with running_superset(root=root) as instance:
        result = check([ROOT / "specs"], project_file=ROOT / "northstar.yaml")
        bundle = compile_bundle(result.specs, result.project, {"NORTHSTAR_WAREHOUSE_URI": sqlite_warehouse(root)})
        outcome = deploy(
            SupersetClient(instance.url, username=instance.username, password=instance.password),
            bundle,
            result.specs,
            result.project,
        )
        assert outcome.imported and not any("not enabled" in n for n in outcome.notes), outcome.notes
        yield instance


def admin(server) -> SupersetClient:
    return SupersetClient(server.url, username=server.username, password=server.password)


def page_values(page, base: str) -> dict[tuple[str, str], str]:
    """(product, metric) -> the value the page shows, once every number has arrived."""
    page.goto(f"{base}/northstar/")
    page.wait_for_function(
        """() => {
        const nodes = [...document.querySelectorAll('.node.metric')];
        return nodes.length > 0 && nodes.every(n => n.dataset.state);
    }""",
        timeout=90_000,
    )
    return {
        (n.get_attribute("data-product"), n.get_attribute("data-metric")): n.get_attribute("data-value")
        for n in page.query_selector_all(".node.metric")
        if n.get_attribute("data-state") == "loaded"
    }


def test_anonymous_visitors_are_sent_to_login_and_the_api_says_401(server):
    request = urllib.request.Request(f"{server.url}/northstar/")
    opener = urllib.request.build_opener(NoRedirect())
    with pytest.raises(urllib.error.HTTPError) as page:
        opener.open(request, timeout=30)
    assert page.value.code in (301, 302) and "/login/" in page.value.headers["Location"]
    with pytest.raises(urllib.error.HTTPError) as api:
        urllib.request.urlopen(f"{server.url}{MODEL_PATH}", timeout=30)
    assert api.value.code == 401


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_admin_sees_every_tree_with_the_chart_data_api_numbers(server):
    client = admin(server)
    model = client.get(MODEL_PATH)["result"]
    expected = {}
    for product in model["products"]:
        for metric in [product["north_star"], *product["inputs"], *product["counter_metrics"]]:
            chart = client.find_by_uuid("chart", metric["chart_uuid"])
            rows = client.chart_data(chart["id"])["result"][0]["data"]
            time_column = next(c for c in rows[0] if c != metric["id"])
            expected[(product["id"], metric["id"])] = max(rows, key=lambda r: r[time_column])[metric["id"]]
    with browser_page() as page:
        login(page, server.url, server.username, server.password)
        started = time.monotonic()
        shown = page_values(page, server.url)
        seconds = time.monotonic() - started
        screenshot(page, "north-star-page")
        assert page.locator("text=Portfolio").count() >= 1
        review_states = page.locator("table.reviews td:last-child").all_inner_texts()
        statuses = page.locator(".status.breached, .status.ok").count()
        page.goto(f"{server.url}/superset/welcome/")
        page.get_by_text("North Star", exact=True).first.hover()
        page.get_by_text("Metric trees").wait_for(timeout=30_000)  # the menu entry
        assert len(review_states) == 12
        assert set(review_states) <= {"overdue", "due soon", "scheduled", "unscheduled"}
        assert statuses == sum(len(p["counter_metrics"]) for p in model["products"])
    assert len(shown) == len(expected) == 27
    for key, value in expected.items():
        assert shown[key] is not None and abs(float(shown[key]) - float(value)) < 1e-9, key
    print(f"North Star page: every number shown {seconds:.2f} s after navigation")


def _reader_without(server, table: str) -> None:
    """A user with the Gamma role plus read access to every generated dataset but `table`."""
    client = admin(server)
    permissions = client.list_all(
        "security/permissions-resources", {"columns": ["id", "permission.name", "view_menu.name"]}
    )
    by_name = {(p["permission"]["name"], p["view_menu"]["name"]): p["id"] for p in permissions}
    datasets = client.list_all("dataset", {"columns": ["id", "table_name"]})
    wanted = [by_name[("can_read", "NorthStar")]]
    for dataset in datasets:
        if dataset["table_name"] != table:
            wanted += [
                pid
                for (perm, view), pid in by_name.items()
                if perm == "datasource_access" and view.endswith(f"(id:{dataset['id']})")
            ]
    role = client.post("/api/v1/security/roles/", json={"name": "northstar-reader"})["id"]
    client.post(f"/api/v1/security/roles/{role}/permissions", json={"permission_view_menu_ids": wanted})
    roles = {r["name"]: r["id"] for r in client.list_all("security/roles", {"columns": ["id", "name"]})}
    client.post(
        "/api/v1/security/users/",
        json={
            "first_name": "Rita",
            "last_name": "Reader",
            "username": READER,
            "email": "rita@example.com",
            "password": READER_PASSWORD,
            "active": True,
            "roles": [roles["Gamma"], role],
        },
    )


def test_a_reader_without_a_dataset_sees_no_numbers_from_it(server):
    _reader_without(server, "listening_events")
    with browser_page() as page:
        login(page, server.url, READER, READER_PASSWORD)
        shown = page_values(page, server.url)
        denied = {
            n.get_attribute("data-product")
            for n in page.query_selector_all(".node.metric")
            if n.get_attribute("data-state") == "denied"
        }
        screenshot(page, "north-star-page-restricted")
    assert denied == {"tunewave"}
    assert not any(product == "tunewave" for product, _ in shown)
    assert {product for product, _ in shown} == {"acme-invoicing", "staybnb", "teamspace"}
    # and publishing stays with Admin
    reader = SupersetClient(server.url, username=READER, password=READER_PASSWORD)
    with pytest.raises((PermissionDenied, SupersetError)) as refused:
        reader.put(MODEL_PATH, json={"version": 1, "products": []})
    assert refused.value.status == 403


def test_publishing_needs_a_csrf_token(server):
    token_request = urllib.request.Request(
        f"{server.url}/api/v1/security/login",
        method="POST",
        headers={"Content-Type": "application/json"},
        data=json.dumps({"username": server.username, "password": server.password, "provider": "db"}).encode(),
    )
    with urllib.request.urlopen(token_request, timeout=30) as answer:
        token = json.load(answer)["access_token"]
    put = urllib.request.Request(
        f"{server.url}{MODEL_PATH}",
        method="PUT",
        data=b'{"version": 1, "products": []}',
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}", "Accept": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(put, timeout=30)
    assert refused.value.code == 400 and "CSRF" in refused.value.read().decode()


def test_spec_text_does_not_run_on_the_page(server):
    client = admin(server)
    model = client.get(MODEL_PATH)["result"]
    evil = "<script>window.__pwned='script'</script><img src=x onerror=\"window.__pwned='img'\">"
    tampered = json.loads(json.dumps(model))
    tampered["products"][0]["name"] = evil
    tampered["products"][0]["value_moment"] = evil
    tampered["products"][0]["inputs"][0]["name"] = evil
    client.put(MODEL_PATH, json=tampered)
    try:
        dialogs = []
        with browser_page() as page:
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            login(page, server.url, server.username, server.password)
            page_values(page, server.url)
            assert page.evaluate("window.__pwned") is None and dialogs == []
            assert page.locator("img[src='x']").count() == 0
            assert page.get_by_text("<script>window.__pwned='script'</script>", exact=False).count() >= 1
    finally:
        client.put(MODEL_PATH, json=model)
