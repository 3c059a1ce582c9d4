"""A deploy under faults, through a fault-injecting proxy in front of a real Superset 6.1: every
fault ends with a message that names its cause (no traceback), the import is never sent after
the client gave up, and the next plain deploy converges with every managed asset marked."""

from __future__ import annotations

import time

import pytest
from faultproxy import FaultProxy
from spec_repos import client_for, deploy_env, run_in, spec_repo
from superset_server import running_superset
from warehouses import sqlite_warehouse

from superset_plugin.compiler import naming
from superset_plugin.deploy.client import SupersetClient

pytestmark = pytest.mark.superset
TIMEOUT = "3"  # seconds: the client's wait for each answer, short so that the delay case stays fast


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_superset(root=tmp_path_factory.mktemp("faults-superset")) as instance:
        yield instance


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> str:
    return sqlite_warehouse(tmp_path_factory.mktemp("faults-warehouse"))


@pytest.fixture
def proxy(server):
    with FaultProxy(server.url) as instance:
        yield instance


def deploy(url: str, server, repo, warehouse, *args):
    return run_in(repo, deploy_env(url, server.username, server.password, warehouse), "deploy", *args)


def project_charts(client: SupersetClient, project: str) -> list[dict]:
    return client.list_all(
        "chart",
        {"filters": [{"col": "tags", "opr": "chart_tags", "value": naming.project_tag(project)}], "columns": ["id"]},
    )


def unmarked(client: SupersetClient, project: str) -> list[str]:
    """The project's charts and dashboards that miss a tag or their certification."""
    wrong = []
    for kind in ("chart", "dashboard"):
        for row in client.list_all(
            kind,
            {
                "filters": [{"col": "tags", "opr": f"{kind}_tags", "value": naming.project_tag(project)}],
                "columns": ["id", "certified_by", "certification_details", "tags.name"],
            },
        ):
            tags = {t["name"] for t in row["tags"]}
            if naming.MANAGED_TAG not in tags or not any(t.startswith("northstar:spec:") for t in tags):
                wrong.append(f"{kind} {row['id']}: tags {sorted(tags)}")
            if row["certified_by"] != "northstar" or naming.project_of(row["certification_details"]) != project:
                wrong.append(f"{kind} {row['id']}: certification {row['certification_details']!r}")
    return wrong


# (fault, exit code, words of the message that name the cause)
CASES = [
    ("import-500", 1, "500 an HTML page: 500 Internal Server Error, not Superset's JSON: a proxy"),
    ("import-drop", 0, "but Superset had applied it"),
    ("import-cut", 2, "broke twice before it answered the import"),
    ("import-delay", 2, f"did not answer the import within {TIMEOUT} s"),
    ("import-html", 2, "HTML page: Sign in - Corporate SSO"),
    ("401-after-login", 2, "rejected the credentials"),
    ("tag-collide", 0, "tagging collided with another writer"),
]


@pytest.mark.parametrize(("fault", "code", "cause"), CASES, ids=[c[0] for c in CASES])
def test_a_fault_is_named_and_the_next_plain_deploy_converges(server, warehouse, proxy, tmp_path, fault, code, cause):
    project = f"faults-{fault}"
    repo = spec_repo(
        tmp_path, project, ("teamspace",), database=f"wh_{fault.replace('-', '_')}", products={"teamspace": project}
    )
    proxy.set_fault(fault)
    started = time.monotonic()
    faulty = deploy(proxy.url, server, repo, warehouse, "--timeout", TIMEOUT)
    gave_up = time.monotonic()
    print(f"--- {fault}: exit {faulty.returncode}\n{faulty.stderr}")
    assert faulty.returncode == code, faulty.stdout + faulty.stderr
    assert cause in faulty.stderr
    assert "Traceback" not in faulty.stdout + faulty.stderr and "internal error" not in faulty.stderr
    imports = [at for at in proxy.imports() if at >= started]
    # Never sent again once the client has given up; sent a second time only after checking
    # that nothing had landed (a connection cut before Superset saw it).
    assert all(at <= gave_up for at in imports)
    assert len(imports) == (2 if fault == "import-cut" else 0 if fault == "401-after-login" else 1)
    proxy.release()  # a held import now lands, long after the client gave up
    proxy.set_fault(None)

    plain = deploy(server.url, server, repo, warehouse)
    assert plain.returncode == 0, plain.stderr
    client = client_for(server)
    assert unmarked(client, project) == []
    assert len(project_charts(client, project)) == 10  # 9 on the product's dashboard, 1 on the portfolio
    converged = deploy(server.url, server, repo, warehouse)
    assert "0 created, 0 updated, 0 tagged, 14 unchanged" in converged.stdout, converged.stdout


def test_a_half_done_deploy_is_repaired_by_the_next_plain_one(server, warehouse, tmp_path):
    """Created but not tagged, a marker removed, a certification lost: the plan sees each and repairs it."""
    project = "faults-half-done"
    repo = spec_repo(tmp_path, project, ("teamspace",), database="wh_half_done", products={"teamspace": project})
    assert deploy(server.url, server, repo, warehouse).returncode == 0
    client = client_for(server)
    charts = project_charts(client, project)
    first, second = charts[0]["id"], charts[1]["id"]
    client.delete(f"/api/v1/tag/2/{first}/{naming.MANAGED_TAG}/")
    client.delete(f"/api/v1/tag/2/{second}/{naming.spec_tag(project)}/")
    dashboard = client.find_by_uuid("dashboard", naming.dashboard_uuid(project))
    client.put(f"/api/v1/dashboard/{dashboard['id']}", json={"certified_by": "", "certification_details": ""})
    assert len(unmarked(client, project)) >= 2

    plan = deploy(server.url, server, repo, warehouse, "--dry-run")
    assert "plan: 0 create, 1 update, 2 tag, 11 unchanged, 0 delete" in plan.stdout, plan.stdout
    assert f"missing {naming.MANAGED_TAG}" in plan.stdout and f"missing {naming.spec_tag(project)}" in plan.stdout
    assert "certified_by" in plan.stdout
    repaired = deploy(server.url, server, repo, warehouse)
    assert repaired.returncode == 0, repaired.stderr
    assert unmarked(client, project) == []
    again = deploy(server.url, server, repo, warehouse)
    assert "0 created, 0 updated, 0 tagged, 14 unchanged" in again.stdout


def test_an_unchanged_redeploy_only_reads(server, warehouse, proxy, tmp_path):
    repo = spec_repo(tmp_path, "faults-quiet", database="wh_quiet")
    assert deploy(proxy.url, server, repo, warehouse).returncode == 0
    before = len(proxy.requests)
    quiet = deploy(proxy.url, server, repo, warehouse)
    assert quiet.returncode == 0 and "(no import needed)" in quiet.stdout
    sent = proxy.requests[before:]
    assert [(m, p) for _, m, p in sent if m != "GET" and p != "/api/v1/security/login"] == []
    # 25 for the 56 assets; one list and one read per report and alert (19): Superset's report list leaves out
    # recipients and SQL, which a deploy compares to restore what was edited.
    assert len(sent) <= 45, [p for _, _, p in sent]
    print(f"an unchanged redeploy of the 4 example specs (56 assets, 19 reports and alerts) made {len(sent)} requests")


@pytest.mark.parametrize(
    "url",
    [
        "http://admin:s3cret@127.0.0.1:8088",
        "http://admin:se/cret@127.0.0.1:8088",
        "http://admin:se#cret@127.0.0.1:8088",
        "http://[::1",
        "http://127.0.0.1:port",
    ],
)
def test_a_bad_superset_url_is_a_usage_error(url, tmp_path):
    repo = spec_repo(tmp_path, "faults-url", ("teamspace",))
    env = deploy_env(url, "admin", "admin", "sqlite:///unused.db")
    done = run_in(repo, env, "deploy", "--dry-run")
    assert done.returncode == 2, done.stderr
    assert "Superset URL" in done.stderr and "internal error" not in done.stderr
    assert "cret" not in done.stdout + done.stderr
