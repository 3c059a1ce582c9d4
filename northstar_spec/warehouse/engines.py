"""The databases of northstar.yaml as SQLAlchemy engines that can only read, and errors fit to show.

A spec's SQL is checked and rendered from its tree, and every statement
passes the guard (northstar_spec.warehouse.guard) before it is sent; the
connection itself is the last line: every engine made here reads only and
cancels a query that runs longer than the database's `statement_timeout`
(northstar.yaml, default 60 s), whoever calls it (evaluate, guardrails,
digest, backtest, anything later):

- PostgreSQL (psycopg2 and psycopg 3): the session starts with
  `default_transaction_read_only=on`, `statement_timeout` and
  `standard_conforming_strings=on` (libpq `options`), and every transaction
  begins READ ONLY (`postgresql_readonly`);
- MySQL and MariaDB: `SET SESSION TRANSACTION READ ONLY` on connect, and
  `max_execution_time` (MySQL) or `max_statement_time` (MariaDB);
- SQLite: the file is opened read-only (`mode=ro`), with `PRAGMA query_only`,
  an authorizer that refuses ATTACH, PRAGMA, writes, catalog reads and
  extension loading, and a progress handler that interrupts a query at the timeout;
- DuckDB: `read_only` connections (no timeout: DuckDB has none);
- anything else: nothing northstar can set. Give it a user that can only
  read; `write_access` says what a user may write where it can tell.

A database's URI lives in an environment variable (northstar.yaml names the
variable, never the URI), and its password must not leak into a message:
SQLAlchemy 1.4 repeats an unparsable URI in its error, and drivers may repeat
parts of it. Every message built here is scrubbed of the password and shows
the URI only masked.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from northstar_spec.spec.model import DEFAULT_STATEMENT_TIMEOUT, Project
from northstar_spec.warehouse import guard

#: Seconds to wait for a PostgreSQL server before calling it unreachable.
CONNECT_TIMEOUT = 10
DRIVER_HINTS = {"postgresql": "pip install 'northstar-spec[postgres]'"}


class WarehouseError(Exception):
    """A database or query that cannot be used: an environment problem (exit 2).

    The message is safe to print: it names what failed and why, never a password.
    """


@dataclass
class Warehouse:
    name: str
    uri_env: str
    engine: Engine
    #: The URI with its password masked: what a message may show.
    shown: str
    secrets: tuple[str, ...] = ()
    #: Seconds a statement may run before the database cancels it.
    timeout: float = DEFAULT_STATEMENT_TIMEOUT

    def cause(self, exc: BaseException) -> str:
        return cause(exc, self.secrets)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name


def _secrets(uri: str, url: sa.engine.URL) -> tuple[str, ...]:
    """Every spelling of a password a message could contain, longest first."""
    passwords = [str(url.password)] if url.password else []
    passwords += [str(v) for k, v in url.query.items() if "password" in k.lower() and isinstance(v, str)]
    found = {uri} if passwords else set()
    for password in passwords:
        found |= {password, urllib.parse.quote(password, safe=""), urllib.parse.quote_plus(password)}
    return tuple(sorted((s for s in found if s), key=len, reverse=True))


def scrub(message: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        message = message.replace(secret, "***")
    return message


def cause(exc: BaseException, secrets: Iterable[str] = ()) -> str:
    """`ErrorType: first line of the driver's message`, without secrets.

    Drivers add the failing SQL and a caret on later lines; the first line
    says what is wrong.
    """
    original = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    return scrub(f"{type(original).__name__}: {lines[0] if lines else 'no message'}", secrets)


@dataclass
class Warehouses:
    """Engines for the project's databases, created on first use and disposed together."""

    project: Project
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    _open: dict[str, Warehouse] = field(default_factory=dict)

    def get(self, name: str) -> Warehouse:
        if name not in self._open:
            self._open[name] = connect(self.project, name, self.environ)
        return self._open[name]

    def close(self) -> None:
        for warehouse in self._open.values():
            warehouse.engine.dispose()
        self._open.clear()

    def __enter__(self) -> Warehouses:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def connect(project: Project, name: str, environ: Mapping[str, str]) -> Warehouse:
    """An engine for database `name` (no connection is made yet)."""
    database = project.databases.get(name)
    if database is None:
        raise WarehouseError(f"database {name!r} is not declared under `databases:` in {project.file}")
    env = database.uri_env
    uri = environ.get(env, "").strip()
    if not uri:
        raise WarehouseError(
            f"database {name!r}: the environment variable {env} is not set "
            "(it holds the database's SQLAlchemy URI, e.g. postgresql://user@host/db)"
        )
    try:
        url = sa.engine.make_url(uri)
    except Exception:  # ArgumentError, ValueError (a bad port): their messages repeat the URI
        raise WarehouseError(
            f"database {name!r}: {env} does not hold a valid SQLAlchemy URI "
            "(dialect+driver://user:password@host:port/database)"
        ) from None
    secrets = _secrets(uri, url)
    shown = scrub(url.render_as_string(hide_password=True), secrets)
    backend = url.get_backend_name()
    url, options, on_connect = READ_ONLY.get(backend, _nothing_to_set)(url, database.statement_timeout)
    try:
        engine = sa.create_engine(url, **options)
    except sa.exc.NoSuchModuleError:
        raise WarehouseError(
            f"database {name!r} ({env}={shown}): SQLAlchemy has no dialect {url.drivername!r}"
        ) from None
    except ImportError as exc:
        hint = DRIVER_HINTS.get(url.get_backend_name(), "install the database's SQLAlchemy driver")
        raise WarehouseError(
            f"database {name!r} ({env}={shown}): its driver is not installed ({scrub(str(exc), secrets)}); {hint}"
        ) from None
    except Exception as exc:  # a driver rejecting options, ...
        raise WarehouseError(f"database {name!r} ({env}={shown}): {cause(exc, secrets)}") from None
    if on_connect is not None:
        on_connect(engine)
    guard.install(engine)
    return Warehouse(name, env, engine, shown, secrets, database.statement_timeout)


# --- read-only connections with a statement timeout, per database kind -----------------------------------

Setup = tuple[sa.engine.URL, dict[str, Any], Callable[[Engine], None] | None]


def _nothing_to_set(url: sa.engine.URL, timeout: float) -> Setup:
    return url, {}, None


def _postgresql(url: sa.engine.URL, timeout: float) -> Setup:
    """The session default and every transaction read-only; a statement timeout; standard strings.

    `options` reaches the server at connection start with psycopg2 and psycopg 3
    alike; what the URI already passes there comes first, ours last, so ours win.
    """
    ours = (
        f"-c default_transaction_read_only=on -c statement_timeout={_milliseconds(timeout)} "
        "-c standard_conforming_strings=on"
    )
    given = url.query.get("options", "")
    connect_args: dict[str, Any] = {"options": f"{given} {ours}".strip() if isinstance(given, str) else ours}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT
    return url, {"connect_args": connect_args, "execution_options": {"postgresql_readonly": True}}, None


def _mysql(url: sa.engine.URL, timeout: float) -> Setup:
    def on_connect(engine: Engine) -> None:
        @sa.event.listens_for(engine, "connect")
        def _read_only(dbapi_connection, connection_record) -> None:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT VERSION()")
                mariadb = "mariadb" in str(cursor.fetchone()[0]).lower()
                cursor.execute("SET SESSION TRANSACTION READ ONLY")
                if mariadb:
                    cursor.execute(f"SET SESSION max_statement_time = {timeout:.3f}")
                else:
                    cursor.execute(f"SET SESSION max_execution_time = {_milliseconds(timeout)}")
            finally:
                cursor.close()

    return url, {}, on_connect


def _sqlite(url: sa.engine.URL, timeout: float) -> Setup:
    """Open the file read-only (a URI filename with mode=ro), then lock the connection down."""
    database = url.database or ""
    query = dict(url.query)
    if query.get("uri") != "true":
        if database in ("", ":memory:"):
            database = ":memory:"
        database = f"file:{urllib.parse.quote(database, safe='/:')}"
        query["uri"] = "true"
    query["mode"] = "ro"
    url = url.set(database=database, query=query)

    def on_connect(engine: Engine) -> None:
        @sa.event.listens_for(engine, "connect")
        def _lock_down(dbapi_connection, connection_record) -> None:
            dbapi_connection.execute("PRAGMA query_only = ON")
            dbapi_connection.set_authorizer(_sqlite_authorizer)
            deadline = _Deadline(timeout)
            connection_record.info["northstar_deadline"] = deadline
            dbapi_connection.set_progress_handler(deadline.passed, 1000)

        @sa.event.listens_for(engine, "before_cursor_execute")
        def _start_clock(conn, cursor, statement, parameters, context, executemany) -> None:
            deadline = conn.info.get("northstar_deadline")
            if deadline is not None:
                deadline.start()

    return url, {}, on_connect


def _duckdb(url: sa.engine.URL, timeout: float) -> Setup:
    return url, {"connect_args": {"read_only": True}}, None


#: How each kind of database is made read-only with a statement timeout (SQLAlchemy backend names).
READ_ONLY: dict[str, Callable[[sa.engine.URL, float], Setup]] = {
    "postgresql": _postgresql,
    "mysql": _mysql,
    "mariadb": _mysql,
    "sqlite": _sqlite,
    "duckdb": _duckdb,
}


def _milliseconds(seconds: float) -> int:
    return max(1, round(seconds * 1000))


class _Deadline:
    """When the statement running on a SQLite connection must stop (its progress handler asks)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = float("inf")

    def start(self) -> None:
        self.at = time.monotonic() + self.seconds

    def passed(self) -> int:
        return int(time.monotonic() > self.at)


#: SQLite actions a reading query needs; everything else (ATTACH, PRAGMA, writes, …) is denied.
_SQLITE_READS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
#: Functions no reading query needs: loading code, and the file functions some builds add.
_SQLITE_REFUSED_FUNCTIONS = {"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"}


def _sqlite_authorizer(action: int, arg1: str | None, arg2: str | None, database: str | None, source: str | None):
    if action not in _SQLITE_READS:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_READ and (arg1 or "").lower().startswith("sqlite_"):
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _SQLITE_REFUSED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def timed_out(exc: BaseException) -> bool:
    """Whether a query failed because the database's statement timeout stopped it."""
    original = getattr(exc, "orig", None) or exc
    code = getattr(original, "pgcode", None) or getattr(original, "sqlstate", None)
    if code == "57014":  # PostgreSQL: query_canceled
        return True
    if isinstance(original, sqlite3.OperationalError) and str(original) == "interrupted":
        return True
    args: tuple = getattr(original, "args", ())
    return bool(args) and args[0] in (3024, 1969)  # MySQL max_execution_time, MariaDB max_statement_time


# --- what a user may write ------------------------------------------------------------------------------


def write_access(warehouse: Warehouse, tables: Iterable[str]) -> list[str]:
    """What the warehouse's user may write, in words (empty: nothing northstar can find).

    `tables` are the tables specs read, as written (`table` or `schema.table`).
    northstar's own connections cannot write whatever this says (see the
    module); it is about what else the same credentials allow. SQLite and
    DuckDB files are opened read-only, so nothing is reported for them; for
    databases northstar cannot inspect, one line says so.
    """
    names = sorted(set(tables))
    probe = WRITE_PROBES.get(warehouse.backend)
    if probe is None:
        if warehouse.backend in ("sqlite", "duckdb"):
            return []
        kind = warehouse.backend
        return [f"northstar cannot tell what a user of {kind} databases may write; give it one that can only read"]
    try:
        with warehouse.engine.connect() as connection:
            return probe(connection.execution_options(**{guard.TRUSTED: True}), names)
    except Exception as exc:
        raise WarehouseError(
            f"database {warehouse.name!r} ({warehouse.uri_env}={warehouse.shown}): "
            f"cannot read the user's grants: {warehouse.cause(exc)}"
        ) from None


def _postgresql_grants(connection: sa.engine.Connection, tables: list[str]) -> list[str]:
    found = []
    role = connection.execute(
        sa.text("SELECT current_user, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user")
    ).one()
    user, superuser, create_role, create_db = role[0], role[1], role[2], role[3]
    if superuser:
        found.append(f"{user} is a superuser: it can write anything, read server files and run programs")
    if create_role:
        found.append(f"{user} can create roles")
    if create_db:
        found.append(f"{user} can create databases")
    for (member,) in connection.execute(
        sa.text(
            "SELECT rolname FROM pg_roles WHERE rolname IN "
            "('pg_write_server_files', 'pg_execute_server_program', 'pg_write_all_data') "
            "AND pg_has_role(current_user, oid, 'MEMBER') ORDER BY rolname"
        )
    ):
        found.append(f"{user} is a member of {member}")
    if connection.execute(sa.text("SELECT has_database_privilege(current_database(), 'CREATE')")).scalar():
        found.append(f"{user} can create schemas in this database")
    schemas = set()
    for name in tables:
        schema, _, table = name.rpartition(".")
        row = connection.execute(
            sa.text(
                "SELECT c.oid, n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.oid = to_regclass(CASE WHEN :schema = '' THEN quote_ident(:table) "
                "ELSE quote_ident(:schema) || '.' || quote_ident(:table) END)"
            ),
            {"schema": schema, "table": table},
        ).first()
        if row is None:
            continue  # a missing table is another finding's business
        schemas.add(row[1])
        granted = [
            privilege
            for privilege in ("INSERT", "UPDATE", "DELETE", "TRUNCATE")
            if connection.execute(
                sa.text("SELECT has_table_privilege(CAST(:oid AS oid), :privilege)"),
                {"oid": row[0], "privilege": privilege},
            ).scalar()
        ]
        if granted:
            found.append(f"{user} can {', '.join(granted)} on {name}")
    for schema in sorted(schemas):
        if connection.execute(sa.text("SELECT has_schema_privilege(:schema, 'CREATE')"), {"schema": schema}).scalar():
            found.append(f"{user} can create tables in schema {schema}")
    return found


_MYSQL_WRITES = re.compile(r"\b(ALL PRIVILEGES|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|FILE|SUPER)\b")


def _mysql_grants(connection: sa.engine.Connection, tables: list[str]) -> list[str]:
    grants = [str(row[0]) for row in connection.execute(sa.text("SHOW GRANTS FOR CURRENT_USER()"))]
    return [grant for grant in grants if _MYSQL_WRITES.search(grant.split(" TO ")[0])]


#: How to read what a user may write, per database kind.
WRITE_PROBES: dict[str, Callable[[sa.engine.Connection, list[str]], list[str]]] = {
    "postgresql": _postgresql_grants,
    "mysql": _mysql_grants,
    "mariadb": _mysql_grants,
}
