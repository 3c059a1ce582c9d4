"""No secret in Superset's own action log: the `logs` table of its metadata database, read after
deploys with a password-bearing warehouse URI, on a Superset with the North Star page (which
scrubs the log), one with only `EVENT_LOGGER = ScrubbingEventLogger()`, and a plain one."""

from __future__ import annotations

import contextlib
import json
import sqlite3

import pytest
from spec_repos import deploy_env, run_in, spec_repo
from superset_server import TEST_CONFIG, running_superset
from warehouses import demo_warehouse, postgres_uri

from superset_plugin.deploy.client import SupersetClient

MASK = "***"  # superset_plugin.inside.action_log.MASK; that module needs Superset, so it is imported in the tests

pytestmark = pytest.mark.superset
PASSWORD = "Wh-pa55-9f3b1c"  # PostgreSQL's trust auth ignores it; Superset must not keep it in clear
UI_PASSWORD = "Ui-pa55-77d2e0"
PLAIN_CONFIG = "FAB_ADD_SECURITY_API = True\n"
LOGGER_CONFIG = (
    "from superset_plugin.inside import ScrubbingEventLogger\nEVENT_LOGGER = ScrubbingEventLogger()\n" + PLAIN_CONFIG
)


@pytest.fixture(scope="module")
def warehouse() -> str:
    uri = demo_warehouse(postgres_uri("northstar_test_action_log"))  # deploy runs every metric on it first
    return uri.replace("postgres@", f"postgres:{PASSWORD}@")


def rows(server) -> list[tuple[str, str]]:
    with contextlib.closing(sqlite3.connect(server.home / "superset.db", timeout=60)) as db:
        return [(action, text or "") for action, text in db.execute("SELECT action, json FROM logs")]


def leaks(server, secret: str) -> list[str]:
    return [action for action, text in rows(server) if secret in text]


def deploy(server, repo, warehouse, *args):
    return run_in(repo, deploy_env(server.url, server.username, server.password, warehouse), "deploy", *args)


def test_scrub_masks_secret_fields_uri_passwords_and_json_inside_strings():
    from superset_plugin.inside.action_log import MASK as mask
    from superset_plugin.inside.action_log import scrub

    assert mask == MASK
    record = {
        "path": "/api/v1/assets/import/",
        "passwords": json.dumps({"databases/warehouse.yaml": "s3cret"}),
        "sqlalchemy_uri": "postgresql://ann:s3cret@db.example/analytics",
        "parameters": {"host": "db", "username": "ann", "password": "s3cret"},
        "ssh_tunnel": {"private_key": "-----BEGIN s3cret", "username": "tunnel"},
        "masked_encrypted_extra": '{"credentials_info": {"private_key": "s3cret"}}',
        "form": json.dumps({"uri": "mysql://root:s3cret@host/db", "rows": [1, 2]}),
        "list": ["trino://u:s3cret@h:8080/c", 3, None],
        "overwrite": "true",
    }
    scrubbed = scrub(record)
    assert "s3cret" not in json.dumps(scrubbed)
    assert scrubbed["passwords"] == MASK and scrubbed["parameters"]["username"] == "ann"
    assert scrubbed["sqlalchemy_uri"] == "postgresql://ann:***@db.example/analytics"
    assert json.loads(scrubbed["form"]) == {"uri": "mysql://root:***@host/db", "rows": [1, 2]}
    assert scrubbed["overwrite"] == "true" and scrubbed["path"] == record["path"]


def test_with_the_north_star_page_no_password_reaches_the_logs_table(tmp_path, warehouse):
    with running_superset(TEST_CONFIG, root=tmp_path / "superset") as server:
        repo = spec_repo(tmp_path / "repo", "action-log")
        first = deploy(server, repo, warehouse)
        assert first.returncode == 0, first.stderr
        forced = deploy(server, repo, warehouse, "--force")  # sends the password again
        assert forced.returncode == 0, forced.stderr
        # An operator adding a database by hand goes through the same logger.
        SupersetClient(server.url, username=server.username, password=server.password).post(
            "/api/v1/database/",
            json={"database_name": "by hand", "sqlalchemy_uri": warehouse.replace(PASSWORD, UI_PASSWORD)},
        )
        imports = [json.loads(text) for action, text in rows(server) if action == "ImportExportRestApi.import_"]
        assert len(imports) == 2 and all(i["passwords"] == MASK for i in imports)  # sent, and kept out
        assert any("postgres:***@" in text for _, text in rows(server))
        assert leaks(server, PASSWORD) == [] and leaks(server, UI_PASSWORD) == []


def test_a_superset_that_may_log_the_password_gets_none_unless_asked(tmp_path, warehouse):
    with running_superset(PLAIN_CONFIG, root=tmp_path / "superset") as server:
        repo = spec_repo(tmp_path / "repo", "action-log-plain")
        refused = deploy(server, repo, warehouse)
        assert refused.returncode == 1
        assert "keeps passwords out of its action log" in refused.stderr and "--send-passwords" in refused.stderr
        assert PASSWORD not in refused.stdout + refused.stderr
        assert leaks(server, PASSWORD) == []
        # What the refusal prevents: asked to, the deploy sends it, and a plain Superset logs it in clear.
        sent = deploy(server, repo, warehouse, "--send-passwords")
        assert sent.returncode == 0, sent.stderr
        assert "ImportExportRestApi.import_" in leaks(server, PASSWORD)


def test_the_scrubbing_event_logger_alone_keeps_the_password_out(tmp_path, warehouse):
    with running_superset(LOGGER_CONFIG, root=tmp_path / "superset") as server:
        repo = spec_repo(tmp_path / "repo", "action-log-logger")
        sent = deploy(server, repo, warehouse, "--send-passwords")  # without the page, nothing vouches for it
        assert sent.returncode == 0, sent.stderr
        imports = [json.loads(text) for action, text in rows(server) if action == "ImportExportRestApi.import_"]
        assert imports and imports[0]["passwords"] == MASK
        assert leaks(server, PASSWORD) == []
