"""Demo warehouses for integration tests: SQLite in a temp folder and a real PostgreSQL database."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from northstar_spec import demo_data

#: The PostgreSQL server every session machine and CI have (trust auth).
POSTGRES_SERVER = os.environ.get("NORTHSTAR_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
SCALE = 0.1


#: Test databases are named per checkout and per xdist worker: runs of other checkouts on the same
#: server, and the other worker of this run, must not drop a database under a test.
_RUN = hashlib.sha1(str(Path(__file__).resolve().parent).encode()).hexdigest()[:6]


#: The MariaDB server of session machines and CI (root without a password).
MARIADB_SERVER = os.environ.get("NORTHSTAR_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306")


def _fresh(server: str, admin_database: str, database: str, drop: str, create: str) -> str:
    """A fresh database named for this checkout and worker; failing, not skipping, without a server."""
    database = f"{database}_{_RUN}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = sa.create_engine(f"{server}/{admin_database}", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(drop.format(database)))
            conn.execute(sa.text(create.format(database)))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"a database server is needed at {server}: {exc.orig}")
    finally:
        admin.dispose()
    return f"{server}/{database}"


def postgres_uri(database: str) -> str:
    """A fresh database on the PostgreSQL test server."""
    return _fresh(
        POSTGRES_SERVER, "postgres", database, 'DROP DATABASE IF EXISTS "{}" WITH (FORCE)', 'CREATE DATABASE "{}"'
    )


def mariadb_uri(database: str) -> str:
    """A fresh database on the MariaDB test server."""
    return _fresh(MARIADB_SERVER, "", database, "DROP DATABASE IF EXISTS `{}`", "CREATE DATABASE `{}`")


def demo_warehouse(uri: str, end: dt.date | None = None) -> str:
    engine = sa.create_engine(uri)
    try:
        demo_data.write(engine, demo_data.generate(seed=7, end=end or dt.date.today(), scale=SCALE))
    finally:
        engine.dispose()
    return uri


def sqlite_warehouse(folder: Path) -> str:
    return demo_warehouse(f"sqlite:///{folder / 'warehouse.db'}")
