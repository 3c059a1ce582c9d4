"""The databases of northstar.yaml as SQLAlchemy engines, and errors fit to show.

A database's URI lives in an environment variable (northstar.yaml names the
variable, never the URI), and its password must not leak into a message:
SQLAlchemy 1.4 repeats an unparsable URI in its error, and drivers may repeat
parts of it. Every message built here is scrubbed of the password and shows
the URI only masked.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from northstar_spec.spec.model import Project

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

    def cause(self, exc: BaseException) -> str:
        return cause(exc, self.secrets)


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
    options: dict = {}
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
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
    return Warehouse(name, env, engine, shown, secrets)


# --- can the user write? -------------------------------------------------------------------------------------

#: MySQL/MariaDB privileges that change data or structure (SHOW GRANTS spells them so).
_MYSQL_WRITES = {
    "ALL",
    "ALL PRIVILEGES",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "ALTER",
    "INDEX",
    "FILE",
    "SUPER",
    "CREATE USER",
}
_MYSQL_GRANT = re.compile(r"^GRANT (.+?) ON (\S+) TO ", re.IGNORECASE)


def write_access(warehouse: Warehouse, tables: Iterable[str]) -> list[str]:
    """Why the user of `warehouse` could write, read from the database's own privilege tables:
    empty when it cannot (or when this engine cannot tell). `tables` are the tables the specs
    read, as written (`table` or `schema.table`). Nothing is written to find out."""
    try:
        with warehouse.engine.connect() as connection:
            backend = warehouse.engine.dialect.name
            if backend == "postgresql":
                return _postgresql_writes(connection, sorted(set(tables)))
            if backend in ("mysql", "mariadb"):
                return _mysql_writes(connection)
            if backend == "sqlite":
                return _sqlite_writes(warehouse.engine.url)
    except sa.exc.SQLAlchemyError:
        return []  # the probe itself failed: the preflight reports what matters about the tables
    return []


def _postgresql_writes(connection: sa.engine.Connection, tables: list[str]) -> list[str]:
    if connection.execute(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
        return ["it is a superuser"]
    reasons = []
    for name in tables:
        schema = name.rpartition(".")[0] or None
        writes = connection.execute(
            sa.text(
                "SELECT has_table_privilege(CAST(:name AS text), 'INSERT, UPDATE, DELETE, TRUNCATE'),"
                " has_schema_privilege(COALESCE(CAST(:schema AS text), current_schema()), 'CREATE')"
            ),
            {"name": name, "schema": schema},
        ).one()
        if writes[0]:
            reasons.append(f"it may insert, update, delete or truncate in {name}")
        if writes[1]:
            reasons.append(f"it may create tables in schema {schema or 'public (the search path)'}")
    return list(dict.fromkeys(reasons))


def _mysql_writes(connection: sa.engine.Connection) -> list[str]:
    reasons = []
    for (grant,) in connection.execute(sa.text("SHOW GRANTS FOR CURRENT_USER()")):
        match = _MYSQL_GRANT.match(str(grant))
        if match:
            privileges = {p.strip().upper() for p in match[1].split(",")}
            writes = sorted(privileges & _MYSQL_WRITES)
            if writes:
                reasons.append(f"it holds {', '.join(writes)} on {match[2]}")
    return reasons


def _sqlite_writes(url: sa.engine.URL) -> list[str]:
    path = (url.database or "").removeprefix("file:")
    if not path or path == ":memory:" or url.query.get("mode") == "ro" or not os.access(path, os.W_OK):
        return []
    return [f"the file {path} is writable and is not opened read-only"]
