"""Hostile SQL fragments (tests/hostile_fragments.yaml), tried as a pull-request author would.

Each is rejected by `northstar validate` with its rule code, at its place inside
the YAML value. Then the parser check is bypassed (the raw text pasted into the
query, as before northstar parsed fragments) and `evaluate` runs it on real
SQLite and PostgreSQL (psycopg2, and psycopg 3 on SQLAlchemy 2): the victim
table keeps its rows, no file appears, no role is created, no secret comes
back and nothing runs past the one-second statement timeout. The payloads that
claim an effect are run once more with every protection off, to prove they
would have had it.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from helpers import TODAY, run_cli
from shop import END, database, write_rows
from sqlglot import exp

from northstar_spec.spec import sql
from northstar_spec.spec.fragments import Kind
from northstar_spec.spec.pipeline import check
from northstar_spec.warehouse import engines, guard
from northstar_spec.warehouse.engines import WarehouseError
from northstar_spec.warehouse.evaluate import evaluate

pytestmark = pytest.mark.sqlalchemy

CORPUS = yaml.safe_load((Path(__file__).parent / "hostile_fragments.yaml").read_text(encoding="utf-8"))
TIMEOUT = 1
SECRET = 424242
VICTIM_ROWS = 3
#: What the placeholders of the corpus stand for when a fragment is only validated.
SHOWN = {"file": "/tmp/northstar-hostile-file", "role": "northstar_hostile_role"}

PROJECT = """apiVersion: northstar/v1
kind: Project
teams:
  leadership: {{name: Leadership}}
databases:
  warehouse: {{uri_env: HOSTILE_URI, statement_timeout: {timeout}{dialect}}}
"""
SPEC = """apiVersion: northstar/v1
kind: NorthStar
product: {{id: hostile, name: Hostile, category: transaction, value_moment: A customer orders.}}
sources:
  shop: {{database: warehouse, table: shop_events, time_column: occurred_at}}
north_star:
  id: weekly_customers
  name: Weekly customers
  definition: Customers who ordered in the week.
  source: shop
{definition}
  grain: week
  owner: leadership
  leads_revenue_because: Customers who order come back and order more.
inputs:
  - {{id: orders, name: Orders, source: shop, measure: {{aggregate: count}}, lever: frequency, direction: increase,
      owner: leadership}}
  - {{id: visits, name: Visits, source: shop, measure: {{aggregate: count}}, lever: breadth, direction: increase,
      owner: leadership}}
  - {{id: spend, name: Spend, source: shop, measure: {{aggregate: sum, column: amount}}, lever: depth,
      direction: increase, owner: leadership}}
counter_metrics:
  - {{id: refunds, name: Refunds, guards: weekly_customers, source: shop, measure: {{aggregate: count}},
      threshold: {{max: 10}}, owner: leadership}}
review:
  inputs: {{cadence: weekly}}
  north_star: {{cadence: monthly, last: 2026-11-01}}
  revalidation: {{cadence: annually, last: 2026-06-01}}
"""


def _quoted(text: str) -> str:
    """A single-quoted YAML scalar: what is written is what is read, but for doubled quotes."""
    return "'" + text.replace("'", "''") + "'"


def write_spec(folder: Path, entry: dict, fragment: str, timeout: float = TIMEOUT) -> tuple[Path, int, str]:
    """northstar.yaml and a spec with the fragment; returns the spec, the fragment's line and that line."""
    dialect = f", dialect: {entry['dialect']}" if entry.get("dialect") else ""
    (folder / "northstar.yaml").write_text(PROJECT.format(timeout=timeout, dialect=dialect))
    if entry.get("kind", "filter") == "sql":
        definition = f"  sql: {_quoted(fragment)}"
    else:
        definition = f"  measure: {{aggregate: count_distinct, column: customer_id}}\n  filter: {_quoted(fragment)}"
    text = SPEC.format(definition=definition)
    spec = folder / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    key = "  sql: " if entry.get("kind") == "sql" else "  filter: "
    number, line = next((n, line) for n, line in enumerate(text.split("\n"), 1) if line.startswith(key))
    return spec, number, line


def test_the_corpus_is_large_and_covers_every_kind_of_attack():
    ids = [e["id"] for e in CORPUS]
    assert len(ids) >= 40 and len(set(ids)) == len(ids)
    assert {e["code"] for e in CORPUS} >= {"NS701", "NS702", "NS703", "NS704", "NS705", "NS706", "NS709"}
    assert {e["effect"] for e in CORPUS if "effect" in e} == {"delete", "file", "role", "sleep", "read"}


@pytest.mark.parametrize("entry", CORPUS, ids=lambda e: e["id"])
def test_validate_rejects_it_where_it_is(entry, tmp_path):
    spec, number, line = write_spec(tmp_path, entry, entry["fragment"].format(**SHOWN))
    done = run_cli("validate", spec, "--format", "json", "--today", TODAY.isoformat(), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    at = entry["at"].format(**SHOWN).replace("'", "''")
    expected = (entry["code"], number, line.index(at) + 1)
    found = [(f["code"], f["location"]["line"], f["location"]["col"]) for f in json.loads(done.stdout)]
    assert expected in found, f"{entry['id']}: expected {expected}, found {found}"


# --- with the parser check bypassed ------------------------------------------------------------------------

DRIVERS = ["sqlite", "psycopg2"] + (["psycopg"] if sa.__version__.startswith("2") else [])


@dataclass
class Warehouse:
    driver: str
    uri: str
    admin: sa.engine.Engine

    def reset(self) -> None:
        with self.admin.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS victim"))
            conn.execute(sa.text("CREATE TABLE victim (a INTEGER)"))
            conn.execute(sa.text("INSERT INTO victim VALUES (1), (2), (3)"))

    def victim_rows(self) -> int | None:
        try:
            with self.admin.connect() as conn:
                return conn.execute(sa.text("SELECT count(*) FROM victim")).scalar()
        except sa.exc.DBAPIError:
            return None  # dropped

    def has_role(self, role: str) -> bool:
        if self.driver == "sqlite":
            return False
        with self.admin.connect() as conn:
            return bool(conn.execute(sa.text("SELECT count(*) FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar())

    def drop_role(self, role: str) -> None:
        if self.driver != "sqlite":
            with self.admin.connect() as conn:
                conn.execute(sa.text(f'DROP ROLE IF EXISTS "{role}"'))


@pytest.fixture(scope="module", params=DRIVERS)
def warehouse(request, tmp_path_factory) -> Warehouse:
    kind = "sqlite" if request.param == "sqlite" else "postgresql"
    uri = write_rows(database(kind, tmp_path_factory.mktemp("hostile"), f"northstar_test_hostile_{request.param}"))
    if kind == "postgresql":
        uri = uri.replace("postgresql://", f"postgresql+{request.param}://", 1)
    admin = sa.create_engine(uri, isolation_level="AUTOCOMMIT")
    with admin.begin() as conn:
        conn.execute(sa.text("CREATE TABLE secrets (secret INTEGER, customer VARCHAR(8))"))
        conn.execute(sa.text(f"INSERT INTO secrets VALUES ({SECRET}, 'c1')"))
        if kind == "postgresql":
            conn.execute(sa.text("SELECT lo_from_bytea(424243, 'pwned')"))
    yield Warehouse(request.param, uri, admin)
    admin.dispose()


@dataclass
class Outcome:
    values: list
    error: str | None
    seconds: float


def bypass_the_fragment_check(monkeypatch) -> None:
    """Paste filters and `sql` into the query as written, the way northstar did before it parsed them."""
    checked = sql.checked_fragment

    def raw(spec, path, text, kind, dialect):
        if kind in (Kind.FILTER, Kind.AGGREGATE):
            return exp.Var(this=text)
        return checked(spec, path, text, kind, dialect)

    monkeypatch.setattr(sql, "checked_fragment", raw)


def turn_every_protection_off(monkeypatch) -> None:
    monkeypatch.setattr(engines, "READ_ONLY", {})
    monkeypatch.setattr(guard, "install", lambda engine: None)


def run(entry: dict, warehouse: Warehouse, folder: Path, file: Path, role: str) -> Outcome:
    fragment = entry["fragment"].format(file=file, role=role)
    spec, _, _ = write_spec(folder, entry, fragment)
    result = check([spec], project_file=folder / "northstar.yaml", today=TODAY)
    assert len(result.specs) == 1, [d.message for d in result.diagnostics]
    started = time.monotonic()
    try:
        evaluation = evaluate(result.specs, result.project, periods=3, end=END, environ={"HOSTILE_URI": warehouse.uri})
    except WarehouseError as exc:
        return Outcome([], str(exc), time.monotonic() - started)
    return Outcome([v.value for v in evaluation.values()], None, time.monotonic() - started)


@pytest.fixture
def traces(warehouse):
    """A file path and a role name that must not come to exist, cleaned up whatever happens."""
    file = Path(f"/tmp/northstar-hostile-{uuid.uuid4().hex[:12]}")
    role = f"northstar_hostile_{uuid.uuid4().hex[:12]}"
    warehouse.reset()
    yield file, role
    file.unlink(missing_ok=True)
    warehouse.drop_role(role)


@pytest.mark.parametrize("entry", CORPUS, ids=lambda e: e["id"])
def test_evaluate_neither_writes_nor_reads_nor_outlives_the_timeout(entry, warehouse, traces, tmp_path, monkeypatch):
    file, role = traces
    bypass_the_fragment_check(monkeypatch)
    outcome = run(entry, warehouse, tmp_path, file, role)
    assert warehouse.victim_rows() == VICTIM_ROWS, outcome
    assert not file.exists(), outcome
    assert not warehouse.has_role(role), outcome
    assert SECRET not in outcome.values, outcome
    assert outcome.seconds < TIMEOUT + 5, outcome
    assert outcome.error is None or "Traceback" not in outcome.error


PROVEN = [(e, d) for e in CORPUS if "effect" in e for d in e["proven_on"] if d in DRIVERS]


@pytest.mark.parametrize(
    ("entry", "warehouse"), PROVEN, ids=lambda v: v["id"] if isinstance(v, dict) else v, indirect=["warehouse"]
)
def test_with_every_protection_off_the_payload_has_its_effect(entry, warehouse, traces, tmp_path, monkeypatch):
    """The control: without northstar's checks and read-only connections the payload works."""
    file, role = traces
    bypass_the_fragment_check(monkeypatch)
    turn_every_protection_off(monkeypatch)
    outcome = run(entry, warehouse, tmp_path, file, role)
    assert observe(entry["effect"], warehouse, outcome, file, role, slow=TIMEOUT * 1.5), (entry["id"], outcome)


def observe(effect: str, warehouse: Warehouse, outcome: Outcome, file: Path, role: str, slow: float) -> bool:
    """Whether a payload had its effect: the victim lost rows, the file or role exists, it ran long, it read."""
    if effect == "delete":
        return warehouse.victim_rows() != VICTIM_ROWS
    if effect == "file":
        return file.exists()
    if effect == "role":
        return warehouse.has_role(role)
    if effect == "sleep":
        return outcome.seconds > slow
    return SECRET in outcome.values


@pytest.mark.parametrize(
    ("entry", "warehouse"), PROVEN, ids=lambda v: v["id"] if isinstance(v, dict) else v, indirect=["warehouse"]
)
def test_the_connection_alone_stops_what_it_can(entry, warehouse, traces, tmp_path, monkeypatch):
    """Layer by layer: the statement guard off too, the read-only, time-limited connection stops
    writes and long queries, but for what the corpus lists as getting past it (the guard's job)."""
    file, role = traces
    bypass_the_fragment_check(monkeypatch)
    monkeypatch.setattr(guard, "install", lambda engine: None)
    outcome = run(entry, warehouse, tmp_path, file, role)
    observed = observe(entry["effect"], warehouse, outcome, file, role, slow=TIMEOUT + 5)
    assert observed == (warehouse.driver in entry.get("past_the_connection", ())), (entry["id"], outcome)


def test_a_query_past_the_timeout_names_its_metrics_and_the_limit(warehouse, traces, tmp_path, monkeypatch):
    file, role = traces
    bypass_the_fragment_check(monkeypatch)
    monkeypatch.setattr(guard, "install", lambda engine: None)  # the guard would refuse the payload first
    slow = next(
        e for e in CORPUS if e["id"] == ("sqlite-recursive-busy-loop" if warehouse.driver == "sqlite" else "pg-sleep")
    )
    outcome = run(slow, warehouse, tmp_path, file, role)
    assert outcome.error is not None and outcome.seconds < TIMEOUT + 5
    assert "spec.yaml:5:9: the query for metrics weekly_customers, orders" in outcome.error, outcome.error
    assert "weekly_customers" in outcome.error
    assert "did not finish within 1 s, the statement timeout of database 'warehouse'" in outcome.error
