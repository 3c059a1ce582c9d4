"""Warehouse connections read only and stop long queries, on real SQLite, PostgreSQL (psycopg2,
psycopg 3) and MariaDB; the statement guard refuses what is not one SELECT of the source; and
`write_access` says what a user may write."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from warehouses import POSTGRES_SERVER, mariadb_uri, postgres_uri

from northstar_spec.spec.model import Database, Project
from northstar_spec.warehouse import guard
from northstar_spec.warehouse.engines import Warehouse, WarehouseError, connect, timed_out, write_access
from northstar_spec.warehouse.guard import StatementRefused

pytestmark = pytest.mark.sqlalchemy

TIMEOUT = 1.0
BACKENDS = ["sqlite", "psycopg2", "mariadb"] + (["psycopg"] if sa.__version__.startswith("2") else [])
#: A query that runs for seconds on each backend, in one statement.
SLOW = {
    "sqlite": "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r LIMIT 50000000) SELECT count(*) FROM r",
    "postgresql": "SELECT pg_sleep(5)",
    "mysql": "SELECT SLEEP(5)",
}
WRITES = ["DELETE FROM victim", "UPDATE victim SET a = 0", "DROP TABLE victim", "CREATE TABLE made_here (a INTEGER)"]


@pytest.fixture(scope="module", params=BACKENDS)
def uri(request, tmp_path_factory) -> str:
    """A database with a victim table of three rows, as its owner sees it."""
    if request.param == "sqlite":
        uri = f"sqlite:///{tmp_path_factory.mktemp('ro') / 'warehouse.db'}"
    elif request.param == "mariadb":
        uri = mariadb_uri("northstar_test_ro")
    else:
        uri = postgres_uri("northstar_test_ro").replace("postgresql://", f"postgresql+{request.param}://", 1)
    owner = sa.create_engine(uri)
    with owner.begin() as conn:
        conn.execute(sa.text("CREATE TABLE victim (a INTEGER)"))
        conn.execute(sa.text("INSERT INTO victim VALUES (1), (2), (3)"))
    owner.dispose()
    return uri


def warehouse_for(uri: str, timeout: float = TIMEOUT) -> Warehouse:
    database = Database("warehouse", "WAREHOUSE_URI", statement_timeout=timeout)
    project = Project(file="northstar.yaml", root=Path("."), document=None, databases={"warehouse": database})
    return connect(project, "warehouse", {"WAREHOUSE_URI": uri})


def trusted(connection):
    """Past the statement guard: what the connection itself allows."""
    return connection.execution_options(**{guard.TRUSTED: True})


def run_and_commit(conn, statement: str) -> None:
    trusted(conn).exec_driver_sql(statement)
    getattr(conn, "commit", lambda: None)()  # SQLAlchemy 1.4 commits DML by itself


def victim_rows(uri: str) -> int:
    owner = sa.create_engine(uri)
    try:
        with owner.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM victim")).scalar()
    finally:
        owner.dispose()


@pytest.mark.parametrize("statement", WRITES)
def test_the_connection_cannot_write(uri, statement):
    warehouse = warehouse_for(uri)
    try:
        with warehouse.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError) as refused:
            run_and_commit(conn, statement)
    finally:
        warehouse.engine.dispose()
    assert "read" in str(refused.value.orig).lower() or "authoriz" in str(refused.value.orig).lower()
    assert victim_rows(uri) == 3


@pytest.mark.parametrize("driver", [b for b in BACKENDS if b.startswith("psycopg")])
def test_a_postgresql_uri_cannot_turn_read_only_off(driver):
    """Options a URI passes to PostgreSQL come first; northstar's come last and win."""
    uri = postgres_uri("northstar_test_ro_options").replace("postgresql://", f"postgresql+{driver}://", 1)
    warehouse = warehouse_for(f"{uri}?options=-c%20default_transaction_read_only%3Doff%20-c%20statement_timeout%3D0")
    try:
        with warehouse.engine.connect() as conn:
            assert trusted(conn).exec_driver_sql("SHOW default_transaction_read_only").scalar() == "on"
            assert trusted(conn).exec_driver_sql("SHOW statement_timeout").scalar() == "1s"
    finally:
        warehouse.engine.dispose()


def test_stacked_statements_cannot_commit_out_of_read_only(uri):
    """A COMMIT ends the transaction; the next one is read-only too (the session's default)."""
    warehouse = warehouse_for(uri)
    try:
        with warehouse.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError):
            run_and_commit(conn, "COMMIT; DELETE FROM victim")
    finally:
        warehouse.engine.dispose()
    assert victim_rows(uri) == 3


def test_a_long_query_is_stopped_at_the_timeout(uri):
    warehouse = warehouse_for(uri)
    started = time.monotonic()
    try:
        with warehouse.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError) as stopped:
            trusted(conn).exec_driver_sql(SLOW[warehouse.backend.replace("mariadb", "mysql")]).fetchall()
    finally:
        warehouse.engine.dispose()
    assert timed_out(stopped.value), stopped.value
    assert time.monotonic() - started < TIMEOUT + 3


def test_the_guard_refuses_what_is_not_one_select_of_the_source(uri):
    warehouse = warehouse_for(uri)
    victim = sa.table("victim", sa.column("a"))
    try:
        with warehouse.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(victim)).scalar() == 3
            for text in ("SELECT count(*) FROM victim", "SELECT 1; SELECT 2", "SELECT 1 -- hi"):
                with pytest.raises(StatementRefused):
                    conn.exec_driver_sql(text)
            other = sa.select(sa.literal_column("(SELECT count(*) FROM victim)")).select_from(sa.table("t"))
            with pytest.raises(StatementRefused, match="victim, which is not its source"):
                conn.execute(other)
            with pytest.raises(StatementRefused, match="not on the allow-list"):
                conn.execute(sa.select(sa.func.version()).select_from(victim))
    finally:
        warehouse.engine.dispose()


@pytest.mark.parametrize(
    ("statement", "paramstyle", "reason"),
    [
        # Each read in PostgreSQL, the paramstyle as the driver sends it.
        ("SELECT a FROM t WHERE a = %(p)s AND b LIKE 'x%%'", "pyformat", None),
        ("SELECT a FROM t WHERE a = ? AND b = 'what?'", "qmark", None),
        ("SELECT a FROM t WHERE a = ?; DELETE FROM t", "qmark", "`;`"),
        ("SELECT a FROM t /* hidden */", "qmark", "comment"),
        ("SELECT a FROM t, u", "qmark", "u, which is not its source"),
        ("SELECT pg_read_file('/etc/passwd') FROM t", "qmark", "PG_READ_FILE"),
        ("SELECT CAST('pg_authid' AS regclass) FROM t", "qmark", "casts to"),
        ("DELETE FROM t", "qmark", "not one SELECT"),
        ("SELECT @@version FROM t", "qmark", "MATCH_AGAINST"),  # `@@` is text search in PostgreSQL
        ("SELECT a FROM t WHERE a = $1", "numeric_dollar", None),
    ],
)
def test_the_guard_reads_statements_as_the_database_will(statement, paramstyle, reason):
    tables = {("", "t")}
    if reason is None:
        guard.check(statement, "postgresql", paramstyle, tables)
    else:
        with pytest.raises(StatementRefused, match=reason.replace("(", r"\(").replace("?", r"\?")):
            guard.check(statement, "postgresql", paramstyle, tables)


def test_a_database_without_a_grammar_is_refused_before_anything_is_sent():
    with pytest.raises(StatementRefused, match="no SQL grammar"):
        guard.check("SELECT 1", "exotic", "qmark", set())


# --- what a user may write -----------------------------------------------------------------------------


def test_write_access_names_what_the_user_may_write(uri):
    warehouse = warehouse_for(uri)
    try:
        found = write_access(warehouse, ["victim"])
    finally:
        warehouse.engine.dispose()
    if warehouse.backend == "sqlite":
        assert found == []  # opened read-only: nothing this connection could write
    elif warehouse.backend == "postgresql":
        assert any("superuser" in line for line in found) and any(
            "DELETE" in line and "victim" in line for line in found
        )
    else:
        assert any("ALL PRIVILEGES" in line for line in found), found


def test_write_access_is_empty_for_a_user_that_can_only_read(uri):
    """The setup the README recommends: a user granted SELECT on the sources and nothing else."""
    owner = sa.create_engine(uri, isolation_level="AUTOCOMMIT")
    reader = f"northstar_reader_{uuid.uuid4().hex[:8]}"
    backend = owner.dialect.name
    if backend == "sqlite":  # no users: the file is opened read-only whoever runs northstar
        owner.dispose()
        warehouse = warehouse_for(uri)
        assert write_access(warehouse, ["victim"]) == []
        warehouse.engine.dispose()
        return
    url = sa.engine.make_url(uri)
    try:
        with owner.connect() as conn:
            if backend == "postgresql":
                conn.execute(sa.text(f"CREATE ROLE {reader} LOGIN"))
                conn.execute(sa.text(f"GRANT SELECT ON victim TO {reader}"))
            else:
                conn.execute(sa.text(f"CREATE USER '{reader}'@'%'"))
                conn.execute(sa.text(f"CREATE USER '{reader}'@'localhost'"))
                for host in ("%", "localhost"):
                    conn.execute(sa.text(f"GRANT SELECT ON `{url.database}`.victim TO '{reader}'@'{host}'"))
        warehouse = warehouse_for(url.set(username=reader).render_as_string(hide_password=False))
        try:
            assert write_access(warehouse, ["victim"]) == []
        finally:
            warehouse.engine.dispose()
    finally:
        with owner.connect() as conn:
            if backend == "postgresql":
                conn.execute(sa.text(f"REVOKE ALL ON victim FROM {reader}"))
                conn.execute(sa.text(f"DROP ROLE IF EXISTS {reader}"))
            else:
                for host in ("%", "localhost"):
                    conn.execute(sa.text(f"DROP USER IF EXISTS '{reader}'@'{host}'"))
        owner.dispose()


def test_write_access_says_when_it_cannot_tell():
    engine = sa.create_mock_engine("mssql://", lambda *args, **kwargs: None)
    exotic = Warehouse("warehouse", "WAREHOUSE_URI", engine, "mssql://")  # type: ignore[arg-type]
    assert write_access(exotic, []) == [
        "northstar cannot tell what a user of mssql databases may write; give it one that can only read"
    ]


def test_an_unreachable_server_is_a_warehouse_error():
    warehouse = warehouse_for(f"{POSTGRES_SERVER.rsplit(':', 1)[0]}:1/nothing")
    with pytest.raises(WarehouseError, match="cannot read the user's grants"):
        write_access(warehouse, [])


# --- evaluate through these connections ------------------------------------------------------------------


def test_evaluate_reads_every_metric_kind_on_mariadb(tmp_path):
    """MySQL's dialect end to end: backtick rendering, the guard on pymysql's placeholders, the
    portable period bucketing, and a `%` in a string that reaches the database as written."""
    from shop import END, EXPECTED, URI_ENV, WEEKS, write_project, write_rows

    from northstar_spec.spec.pipeline import check
    from northstar_spec.warehouse.evaluate import evaluate

    uri = write_rows(mariadb_uri("northstar_test_shop"))
    write_project(tmp_path, spread_sql="SUM(CASE WHEN event_type LIKE 'ord%' THEN amount END)")  # order_value
    result = check([], project_file=tmp_path / "northstar.yaml", today=END)
    evaluation = evaluate(result.specs, result.project, periods=4, end=END, environ={URI_ENV: uri})
    for series in evaluation.series:
        assert series.periods == WEEKS
        expected = EXPECTED["order_value" if series.metric.id == "amount_spread" else series.metric.id]
        # MySQL divides decimals to 4 more digits than the dividend has (div_precision_increment): 0.66667.
        assert [None if v is None else pytest.approx(v, rel=1e-4) for v in expected] == list(series.values)
