"""The Superset REST client: encodings and retry policy without a server, the
rest against a real Superset 6.1 (tests marked `superset`)."""

from __future__ import annotations

import datetime as dt
import email.parser
import email.policy
import http.server
import io
import json
import logging
import re
import secrets
import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from superset_server import SupersetInstance

from superset_plugin.deploy import client as client_module
from superset_plugin.deploy.client import (
    AuthenticationFailed,
    ImportFailed,
    NotFound,
    NotJson,
    PermissionDenied,
    ServerError,
    SupersetClient,
    SupersetError,
    Unreachable,
    encode_multipart,
    rison_dumps,
)
from superset_plugin.local.superset import free_port


def test_the_client_needs_nothing_but_the_standard_library():
    """The CLI installs without extras, and `northstar deploy` must still work."""
    import ast
    import sys

    tree = ast.parse(Path(client_module.__file__).read_text())
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    imported |= {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and not node.level
    }
    assert imported <= sys.stdlib_module_names, imported - sys.stdlib_module_names


# --- Rison -------------------------------------------------------------------

RISON_CASES = [
    (None, "!n"),
    (True, "!t"),
    (False, "!f"),
    (0, "0"),
    (-3, "-3"),
    (1.5, "1.5"),
    (2.0, "2"),
    (1e30, "1e30"),
    ("", "''"),
    ("chart", "chart"),
    ("a b", "'a b'"),
    ("-h", "'-h'"),
    ("2024", "'2024'"),
    ("user@example.com", "'user@example.com'"),
    ("Hello, world!", "'Hello, world!!'"),
    ("can't", "'can!'t'"),
    ("uuid:v", "'uuid:v'"),
    ([], "!()"),
    ({}, "()"),
    ([1, "a", [True]], "!(1,a,!(!t))"),
    ({"b": 1, "a": "x y"}, "(a:'x y',b:1)"),
    (
        {"filters": [{"col": "uuid", "opr": "eq", "value": "5b0a1f0e-0000-4000-8000-000000000000"}], "page": 0},
        "(filters:!((col:uuid,opr:eq,value:'5b0a1f0e-0000-4000-8000-000000000000')),page:0)",
    ),
]


@pytest.mark.parametrize(("value", "expected"), RISON_CASES, ids=[c[1] for c in RISON_CASES])
def test_rison_encodes_like_rison_js(value, expected):
    assert rison_dumps(value) == expected


def test_rison_rejects_what_it_cannot_encode():
    with pytest.raises(TypeError):
        rison_dumps({1, 2})
    with pytest.raises(ValueError):
        rison_dumps(float("nan"))


@pytest.mark.superset
@pytest.mark.parametrize(("value", "expected"), RISON_CASES, ids=[c[1] for c in RISON_CASES])
def test_rison_round_trips_through_the_decoder_superset_uses(value, expected):
    import prison

    assert prison.loads(rison_dumps(value)) == value


# --- multipart ---------------------------------------------------------------


def _parse_multipart(body: bytes, content_type: str) -> list:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    assert message.is_multipart()
    return list(message.iter_parts())


def test_multipart_carries_fields_and_files_byte_for_byte():
    content = bytes(range(256)) + b"\r\n--not-the-boundary\r\n" + b"PK\x03\x04"
    body, content_type = encode_multipart(
        {"overwrite": "true", "passwords": '{"databases/w.yaml": "s3cr\\u00e9t"}'},
        {"bundle": ("bundle.zip", content, "application/zip")},
        boundary="b0undary",
    )
    assert content_type == "multipart/form-data; boundary=b0undary"
    assert body.endswith(b"--b0undary--\r\n")
    parts = _parse_multipart(body, content_type)
    assert [p.get_param("name", header="content-disposition") for p in parts] == ["overwrite", "passwords", "bundle"]
    assert parts[0].get_payload(decode=True) == b"true"
    assert json.loads(parts[1].get_payload(decode=True)) == {"databases/w.yaml": "s3cr\u00e9t"}
    assert parts[2].get_filename() == "bundle.zip"
    assert parts[2].get_content_type() == "application/zip"
    assert parts[2].get_payload(decode=True) == content


def test_multipart_escapes_quotes_and_line_breaks_in_names():
    body, content_type = encode_multipart({'a"b\r\nc': "v"}, {"f": ('x".zip', b"", "application/zip")})
    assert b'name="a%22b%0D%0Ac"' in body
    assert b'filename="x%22.zip"' in body
    assert len(_parse_multipart(body, content_type)) == 2


def test_multipart_refuses_a_boundary_that_occurs_in_the_content():
    with pytest.raises(ValueError, match="boundary"):
        encode_multipart({}, {"f": ("f", b"--xyz--", "text/plain")}, boundary="xyz")


# --- retry policy and errors, against a scripted fake server -----------------


class _Script:
    """A local HTTP server answering each path from a list of (status, body) responses, last one repeating."""

    def __init__(self):
        self.answers: dict[str, list[tuple[int, object]]] = {}
        self.requests: list[tuple[str, str, Any]] = []  # (method, path, headers: case-insensitive)
        script = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                path = self.path.split("?")[0]
                script.requests.append((self.command, path, self.headers))
                queue = script.answers.get(path, [(404, {"message": "Not found"})])
                status, body = queue.pop(0) if len(queue) > 1 else queue[0]
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                if status in (301, 302, 307, 308):
                    self.send_header("Location", "http://elsewhere.invalid/")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p, _ in self.requests if (m, p) == (method, path))


@pytest.fixture
def fake() -> Iterator[_Script]:
    script = _Script()
    script.answers["/api/v1/security/csrf_token/"] = [(200, {"result": "csrf-from-fake"})]
    yield script
    script.server.shutdown()
    script.server.server_close()


def _token_client(url: str, **kwargs) -> SupersetClient:
    return SupersetClient(url, access_token="token-from-test", retries=2, backoff=0.01, **kwargs)


def test_transient_statuses_are_retried_with_backoff(fake, caplog):
    fake.answers["/api/v1/chart/1"] = [(503, {"message": "busy"}), (502, b"bad gateway"), (200, {"result": {}})]
    with caplog.at_level(logging.WARNING, logger=client_module.__name__):
        assert _token_client(fake.url).get("/api/v1/chart/1") == {"result": {}}
    assert fake.count("GET", "/api/v1/chart/1") == 3
    assert ["retrying" in r.getMessage() for r in caplog.records] == [True, True]


def test_transient_statuses_give_server_error_once_retries_are_used_up(fake):
    fake.answers["/api/v1/chart/1"] = [(504, {"message": "Gateway Time-out"})]
    with pytest.raises(ServerError) as caught:
        _token_client(fake.url).get("/api/v1/chart/1")
    assert caught.value.status == 504
    assert fake.count("GET", "/api/v1/chart/1") == 3


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, SupersetError),
        (401, AuthenticationFailed),
        (403, PermissionDenied),
        (404, NotFound),
        (422, SupersetError),
        (500, ServerError),
    ],
)
def test_client_errors_and_500_are_never_retried(fake, status, error):
    fake.answers["/api/v1/chart/1"] = [(status, {"message": "told you"})]
    with pytest.raises(error) as caught:
        _token_client(fake.url).get("/api/v1/chart/1")
    assert caught.value.status == status
    if status == 401:  # a token-only client cannot log in again
        assert "rejected the access token and no user name and password were given" in str(caught.value)
    else:
        assert "told you" in str(caught.value)
    assert fake.count("GET", "/api/v1/chart/1") == 1


def test_a_post_is_not_resent_after_a_502_unless_declared_idempotent(fake):
    fake.answers["/api/v1/tag/"] = [(502, b"bad gateway"), (201, {})]
    client = _token_client(fake.url)
    with pytest.raises(ServerError):
        client.post("/api/v1/tag/", {"name": "x"})
    assert fake.count("POST", "/api/v1/tag/") == 1
    fake.answers["/api/v1/tag/"] = [(502, b"bad gateway"), (201, {})]
    assert client.post("/api/v1/tag/", {"name": "x"}, retry=True) == {}
    assert fake.count("POST", "/api/v1/tag/") == 3


def test_unsafe_calls_carry_csrf_token_referer_and_json_accept(fake):
    fake.answers["/api/v1/chart/7"] = [(200, {"message": "OK"})]
    _token_client(fake.url).put("/api/v1/chart/7", {"slice_name": "x"})
    method, path, headers = fake.requests[-1]
    assert (method, path) == ("PUT", "/api/v1/chart/7")
    assert headers["X-CSRFToken"] == "csrf-from-fake"
    assert headers["Referer"] == fake.url + "/"
    assert headers["Accept"] == "application/json"
    assert headers["Authorization"] == "Bearer token-from-test"
    assert fake.requests[0][1] == "/api/v1/security/csrf_token/"


def test_redirects_are_refused_so_credentials_stay_on_the_given_host(fake):
    fake.answers["/api/v1/chart/1"] = [(308, b"")]
    with pytest.raises(SupersetError, match=re.escape("redirected to http://elsewhere.invalid/")) as caught:
        _token_client(fake.url).get("/api/v1/chart/1")
    assert caught.value.status == 308


def test_a_non_json_answer_says_the_url_is_probably_not_superset(fake):
    fake.answers["/api/v1/chart/1"] = [(200, b"<html><title>Welcome to nginx</title></html>")]
    with pytest.raises(NotJson, match=r"answered 200 with an HTML page: Welcome to nginx .* not Superset's JSON"):
        _token_client(fake.url).get("/api/v1/chart/1")


def test_an_unreachable_url_fails_quickly_after_bounded_retries(caplog):
    url = f"http://127.0.0.1:{free_port()}"
    client = SupersetClient(url, username="admin", password="pw-not-shown-9f2c", retries=2, backoff=0.05)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger=client_module.__name__), pytest.raises(Unreachable) as caught:
        client.login()
    assert time.monotonic() - started < 3
    message = str(caught.value)
    assert f"Cannot reach Superset at {url} (Connection refused) after 3 attempts" in message
    assert "check the URL and that Superset is running" in message
    assert caught.value.status is None
    assert len([r for r in caplog.records if "retrying" in r.getMessage()]) == 2
    assert "pw-not-shown-9f2c" not in message + repr(caught.value) + caplog.text


def test_a_server_that_never_answers_times_out_and_only_safe_calls_are_retried():
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        client = SupersetClient(
            f"http://127.0.0.1:{listener.getsockname()[1]}", access_token="t", timeout=0.2, retries=1, backoff=0.01
        )
        client._csrf_token = client_module._Secret("c")  # skip fetching one; it would time out too
        with pytest.raises(Unreachable, match=r"did not answer GET /api/v1/chart/ \(no answer within 0.2 s\) after 2"):
            client.get("/api/v1/chart/")
        with pytest.raises(
            Unreachable, match=re.escape("after 1 attempt. It may or may not have taken effect")
        ) as post:
            client.post("/api/v1/tag/", {"name": "x"})
        assert post.value.sent and post.value.timed_out


def test_misconfiguration_is_reported_before_any_call():
    with pytest.raises(SupersetError, match="http or https"):
        SupersetClient("superset.example.com", access_token="t")
    with pytest.raises(SupersetError, match="must not contain a user name or password") as caught:
        SupersetClient("https://admin:hunter22@superset.example.com", access_token="t")
    assert "hunter22" not in str(caught.value)
    with pytest.raises(SupersetError, match="needs credentials"):
        SupersetClient("https://superset.example.com", username="admin")


def test_repr_shows_no_secrets():
    client = SupersetClient("https://superset.example.com", username="admin", password="hunter22")
    client._refresh_token = client_module._Secret("refresh-xyz")
    for text in (repr(client), str(client), repr(vars(client))):
        assert "hunter22" not in text and "refresh-xyz" not in text
    assert "admin" in repr(client)
    token_client = SupersetClient("https://superset.example.com", access_token="tok-abc-123")
    assert "tok-abc-123" not in repr(token_client) + repr(vars(token_client))


def test_server_messages_are_redacted_before_they_reach_an_error(fake):
    fake.answers["/api/v1/chart/1"] = [(400, {"message": "bad token token-from-test in request"})]
    with pytest.raises(SupersetError) as caught:
        _token_client(fake.url).get("/api/v1/chart/1")
    assert "token-from-test" not in str(caught.value) + repr(caught.value) + json.dumps(caught.value.payload)
    assert "bad token *** in request" in str(caught.value)


# --- against a real Superset 6.1 ---------------------------------------------


def _yaml(data: dict) -> bytes:
    return yaml.safe_dump(data, sort_keys=False).encode()


def _bundle(files: dict[str, dict], root: str = "bundle") -> bytes:
    """A zip with one top-level folder, metadata.yaml included, as Superset's assets import wants."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            f"{root}/metadata.yaml",
            _yaml({"version": "1.0.0", "type": "assets", "timestamp": dt.datetime(2026, 11, 22).isoformat()}),
        )
        for name, data in files.items():
            archive.writestr(f"{root}/{name}", _yaml(data))
    return out.getvalue()


class Assets:
    """The UUIDs and files of a minimal bundle: database, dataset, chart `big_number_total`, dashboard."""

    def __init__(self, warehouse: Path):
        self.tag = uuid.uuid4().hex[:8]
        self.database, self.dataset, self.chart, self.dashboard = (str(uuid.uuid4()) for _ in range(4))
        self.files: dict[str, dict] = {
            "databases/warehouse.yaml": {
                "database_name": f"warehouse-{self.tag}",
                "sqlalchemy_uri": f"sqlite:///{warehouse}",
                "uuid": self.database,
                "version": "1.0.0",
                "expose_in_sqllab": True,
                "allow_file_upload": False,
                # Not optional in 6.1: the importer does config["extra"] and fails with a KeyError.
                "extra": {},
            },
            f"datasets/warehouse-{self.tag}/events.yaml": {
                "table_name": "events",
                "uuid": self.dataset,
                "database_uuid": self.database,
                "version": "1.0.0",
                "main_dttm_col": "ts",
                "columns": [
                    {"column_name": "ts", "is_dttm": True, "type": "DATETIME"},
                    {"column_name": "value", "type": "INTEGER"},
                ],
                "metrics": [{"metric_name": "total", "expression": "SUM(value)"}],
            },
        }
        self.add_chart(self.chart, self.dataset, f"Total {self.tag}")
        self.files["dashboards/nsm.yaml"] = {
            "dashboard_title": f"NSM {self.tag}",
            "uuid": self.dashboard,
            "version": "1.0.0",
            "position": {
                "DASHBOARD_VERSION_KEY": "v2",
                "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
                "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": ["ROW-1"]},
                "ROW-1": {
                    "type": "ROW",
                    "id": "ROW-1",
                    "children": ["CHART-1"],
                    "meta": {"background": "BACKGROUND_TRANSPARENT"},
                },
                "CHART-1": {
                    "type": "CHART",
                    "id": "CHART-1",
                    "children": [],
                    "meta": {"width": 4, "height": 50, "chartId": 1, "uuid": self.chart},
                },
            },
            "metadata": {},
        }

    def add_chart(self, chart_uuid: str, dataset_uuid: str, name: str) -> None:
        params = {"datasource": "1__table", "viz_type": "big_number_total", "metric": "total", "adhoc_filters": []}
        query_context = {
            "datasource": {"id": 1, "type": "table"},
            "force": False,
            "form_data": params,
            "queries": [{"metrics": ["total"], "columns": [], "filters": [], "extras": {}, "row_limit": 10}],
            "result_format": "json",
            "result_type": "full",
        }
        self.files[f"charts/{chart_uuid}.yaml"] = {
            "slice_name": name,
            "viz_type": "big_number_total",
            "uuid": chart_uuid,
            "dataset_uuid": dataset_uuid,
            "version": "1.0.0",
            "params": params,
            "query_context": json.dumps(query_context),
        }

    def zip(self) -> bytes:
        return _bundle(self.files)


@pytest.fixture
def warehouse(tmp_path) -> Path:
    """A SQLite data source: events(ts, value) whose values sum to 60."""
    path = tmp_path / "warehouse.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE events (ts DATETIME, value INTEGER)")
        connection.executemany(
            "INSERT INTO events VALUES (?, ?)", [("2026-11-02", 10), ("2026-11-09", 20), ("2026-11-16", 30)]
        )
    return path


@pytest.fixture
def client(superset: SupersetInstance) -> SupersetClient:
    return SupersetClient(superset.url, username=superset.username, password=superset.password, retries=1, backoff=0.1)


def _database_named(client: SupersetClient, name: str) -> list[dict]:
    return client.list_all("database", q={"filters": [{"col": "database_name", "opr": "eq", "value": name}]})


@pytest.mark.superset
def test_login_gets_tokens_and_the_api_answers(client):
    client.login()
    assert client.get("/api/v1/me/")["result"]["username"] == "admin"


@pytest.mark.superset
def test_a_wrong_password_raises_authentication_failed_without_the_password(superset, caplog):
    wrong = f"wrong-{secrets.token_hex(8)}"
    client = SupersetClient(superset.url, username="admin", password=wrong)
    with caplog.at_level(logging.DEBUG, logger=client_module.__name__), pytest.raises(AuthenticationFailed) as caught:
        client.login()
    error = caught.value
    assert error.status == 401
    assert str(error) == (
        f"Superset at {superset.url} refused the login of user 'admin' (401 Not authorized):"
        " check the user name and password."
    )
    assert wrong not in str(error) + repr(error) + repr(client) + caplog.text


@pytest.mark.superset
def test_a_post_gets_and_sends_a_csrf_token_first(superset, client):
    client.login()
    bare = urllib.request.Request(
        f"{superset.url}/api/v1/tag/",
        data=b'{"name":"no-csrf"}',
        method="POST",
        headers={
            "Authorization": f"Bearer {client._access_token.value}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(bare, timeout=10)
    assert refused.value.code == 400
    assert "The CSRF token is missing." in refused.value.read().decode()

    assert client._csrf_token is None
    client.post("/api/v1/tag/", {"name": f"csrf-{uuid.uuid4().hex[:8]}", "objects_to_tag": []})
    assert client._csrf_token is not None


@pytest.mark.superset
@pytest.mark.parametrize("damage", ["invalid token", "lost session cookie"])
def test_a_rejected_csrf_token_is_fetched_again_once(client, damage, caplog):
    client.post("/api/v1/tag/", {"name": f"csrf-{uuid.uuid4().hex[:8]}", "objects_to_tag": []})
    if damage == "invalid token":
        client._csrf_token.value += "x"
    else:
        client._cookies.clear()
    with caplog.at_level(logging.INFO, logger=client_module.__name__):
        client.post("/api/v1/tag/", {"name": f"csrf-{uuid.uuid4().hex[:8]}", "objects_to_tag": []})
    expected = "The CSRF token is invalid." if damage == "invalid token" else "The CSRF session token is missing."
    assert expected in caplog.text


@pytest.mark.superset
def test_not_found_raises_not_found_and_find_by_uuid_returns_none(client):
    with pytest.raises(NotFound) as caught:
        client.get("/api/v1/chart/999999")
    assert caught.value.status == 404
    assert "(404 Not found)" in str(caught.value)
    for kind in ("dashboard", "chart", "dataset"):
        assert client.find_by_uuid(kind, str(uuid.uuid4())) is None


@pytest.mark.superset
def test_import_of_a_minimal_bundle_creates_everything_findable_by_uuid(client, warehouse):
    assets = Assets(warehouse)
    client.import_assets(assets.zip())

    dashboard = client.find_by_uuid("dashboard", assets.dashboard)
    chart = client.find_by_uuid("chart", assets.chart)
    dataset = client.find_by_uuid("dataset", assets.dataset)
    assert dashboard["dashboard_title"] == f"NSM {assets.tag}"
    assert chart["slice_name"] == f"Total {assets.tag}"
    assert dataset["table_name"] == "events"
    assert all(isinstance(found["id"], int) for found in (dashboard, chart, dataset))
    assert [c["slice_name"] for c in client.get(f"/api/v1/dashboard/{dashboard['id']}/charts")["result"]] == [
        f"Total {assets.tag}"
    ]
    data = client.chart_data(chart["id"])
    assert data["result"][0]["data"] == [{"total": 60}]

    # The assets endpoint always overwrites: importing again updates in place.
    assets.files[f"charts/{assets.chart}.yaml"]["slice_name"] = f"Renamed {assets.tag}"
    client.import_assets(assets.zip())
    again = client.find_by_uuid("chart", assets.chart)
    assert (again["id"], again["slice_name"]) == (chart["id"], f"Renamed {assets.tag}")


@pytest.mark.superset
def test_import_with_an_unknown_dataset_uuid_fails_and_rolls_back_all_but_the_database(client, warehouse, caplog):
    assets = Assets(warehouse)
    broken = str(uuid.uuid4())
    assets.add_chart(broken, str(uuid.uuid4()), f"Orphan {assets.tag}")
    with caplog.at_level(logging.DEBUG, logger=client_module.__name__), pytest.raises(ImportFailed) as caught:
        client.import_assets(assets.zip(), passwords={"databases/warehouse.yaml": "db-secret-7c1e"})
    error = caught.value
    assert error.status == 500
    assert "(500 Import failed for an unknown reason)" in str(error)
    assert "northstar validate" in str(error) and "server log" in str(error)
    assert "db-secret-7c1e" not in str(error) + repr(error) + caplog.text
    # Rolled back: not even the good dataset, chart and dashboard exist...
    for kind, object_uuid in [
        ("dashboard", assets.dashboard),
        ("chart", assets.chart),
        ("chart", broken),
        ("dataset", assets.dataset),
    ]:
        assert client.find_by_uuid(kind, object_uuid) is None, kind
    # ...except the new database: FAB commits the session when the import adds its access permission.
    assert [d["uuid"] for d in _database_named(client, f"warehouse-{assets.tag}")] == [assets.database]
    assert "a database in the bundle may already have been created or updated" in str(error)

    del assets.files[f"charts/{broken}.yaml"]
    client.import_assets(assets.zip())  # the leftover database is simply updated
    assert client.find_by_uuid("chart", assets.chart) is not None


@pytest.mark.superset
def test_database_passwords_go_with_the_import_keyed_by_path_inside_the_zip(client, warehouse, caplog):
    assets = Assets(warehouse)
    name = f"postgres-{assets.tag}"
    assets.files["databases/postgres.yaml"] = {
        "database_name": name,
        "sqlalchemy_uri": "postgresql://postgres:XXXXXXXXXX@127.0.0.1:5432/test",
        "uuid": str(uuid.uuid4()),
        "version": "1.0.0",
        "extra": {},
    }
    with pytest.raises(ImportFailed):  # a new database with a masked password needs one
        client.import_assets(assets.zip())
    assert _database_named(client, name) == []

    password = f"pg-{secrets.token_hex(6)}"
    with caplog.at_level(logging.DEBUG, logger=client_module.__name__):
        client.import_assets(assets.zip(), passwords={"databases/postgres.yaml": password})
    assert [d["database_name"] for d in _database_named(client, name)] == [name]
    assert password not in caplog.text


@pytest.mark.superset
def test_list_all_pages_through_every_result(client, warehouse, monkeypatch):
    assets = Assets(warehouse)
    for n in range(4):
        assets.add_chart(str(uuid.uuid4()), assets.dataset, f"Paged {assets.tag} {n}")
    client.import_assets(assets.zip())
    monkeypatch.setattr(client_module, "PAGE_SIZE", 2)
    rows = client.list_all(
        "chart",
        q={
            "filters": [{"col": "slice_name", "opr": "ct", "value": f"Paged {assets.tag}"}],
            "columns": ["id", "slice_name"],
        },
    )
    assert sorted(r["slice_name"] for r in rows) == [f"Paged {assets.tag} {n}" for n in range(4)]


def _expired(token: str, secret_key: str) -> str:
    """The same access token, validly signed but expired an hour ago."""
    import jwt

    claims = jwt.decode(token, options={"verify_signature": False})
    now = int(time.time())
    claims.update(iat=now - 7200, nbf=now - 7200, exp=now - 3600)
    return jwt.encode(claims, secret_key, algorithm="HS256")


@pytest.mark.superset
@pytest.mark.parametrize("damage", ["expired", "corrupted"])
def test_a_rejected_access_token_is_refreshed_once(superset, client, warehouse, damage, caplog):
    client.login()
    original = client._access_token.value
    if damage == "expired":
        client._access_token.value = _expired(original, superset.secret_key)
    else:
        client._access_token.value = original[:-4] + "AAAA"
    with caplog.at_level(logging.INFO, logger=client_module.__name__):
        client.import_assets(Assets(warehouse).zip())  # a POST: new token, same CSRF token
    expected = "(401)" if damage == "expired" else "(422)"
    assert f"Superset rejected the access token {expected}; re-authenticating" in caplog.text
    assert "refreshed the Superset access token" in caplog.text
    assert client._access_token.value != original


@pytest.mark.superset
def test_a_rejected_refresh_token_falls_back_to_logging_in_again(client, caplog):
    client.login()
    client._access_token.value = "garbage"
    client._refresh_token.value = "garbage"
    with caplog.at_level(logging.INFO, logger=client_module.__name__):
        assert client.get("/api/v1/me/")["result"]["username"] == "admin"
    assert "refresh token was rejected (422); logging in again" in caplog.text


@pytest.mark.superset
def test_a_rejected_token_without_credentials_to_renew_it_raises(superset):
    token = f"eyJ-{secrets.token_hex(8)}"
    client = SupersetClient(superset.url, access_token=token)
    with pytest.raises(AuthenticationFailed) as caught:
        client.get("/api/v1/me/")
    assert "pass a fresh access token, or a username and password" in str(caught.value)
    assert token not in str(caught.value) + repr(caught.value) + repr(client)


@pytest.mark.superset
def test_a_user_without_the_role_gets_permission_denied_and_no_secret_leaks(superset, client, warehouse, caplog):
    gamma = client.list_all("security/roles", q={"filters": [{"col": "name", "opr": "eq", "value": "Gamma"}]})
    username, password = f"viewer-{uuid.uuid4().hex[:6]}", f"Pw-{secrets.token_hex(10)}"
    client.post(
        "/api/v1/security/users/",
        {
            "username": username,
            "password": password,
            "first_name": "V",
            "last_name": "Iewer",
            "active": True,
            "email": f"{username}@example.com",
            "roles": [gamma[0]["id"]],
        },
    )
    viewer = SupersetClient(superset.url, username=username, password=password)
    with caplog.at_level(logging.DEBUG, logger=client_module.__name__), pytest.raises(PermissionDenied) as caught:
        viewer.import_assets(Assets(warehouse).zip())
    error = caught.value
    assert error.status == 403
    assert f"User {username} may not POST /api/v1/assets/import/" in str(error)
    leaked = str(error) + repr(error) + repr(viewer) + caplog.text
    for secret in (password, viewer._access_token.value, viewer._refresh_token.value):
        assert secret not in leaked


@pytest.mark.superset
def test_a_stopped_superset_is_unreachable_and_the_session_survives_a_restart(superset, client):
    client.login()
    superset.stop()
    try:
        with pytest.raises(Unreachable, match="Connection refused"):
            client.get("/api/v1/me/")
    finally:
        superset.start()
    assert client.get("/api/v1/me/")["result"]["username"] == "admin"
