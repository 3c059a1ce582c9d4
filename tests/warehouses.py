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


def postgres_uri(database: str) -> str:
    """A fresh database on the test server; failing, not skipping, when the server is missing."""
    database = f"{database}_{_RUN}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = sa.create_engine(f"{POSTGRES_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL is needed at {POSTGRES_SERVER}: {exc.orig}")
    finally:
        admin.dispose()
    return f"{POSTGRES_SERVER}/{database}"


def demo_warehouse(uri: str, end: dt.date | None = None) -> str:
    engine = sa.create_engine(uri)
    try:
        demo_data.write(engine, demo_data.generate(seed=7, end=end or dt.date.today(), scale=SCALE))
    finally:
        engine.dispose()
    return uri


def sqlite_warehouse(folder: Path) -> str:
    return demo_warehouse(f"sqlite:///{folder / 'warehouse.db'}")
