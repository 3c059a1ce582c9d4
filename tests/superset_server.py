"""A real, throwaway Superset 6.1 for tests: set up in a temp folder, served by gunicorn, always stopped.

Real rather than mocked, because what matters is how Superset actually
behaves (CSRF with a Bearer token, opaque import errors, all-or-nothing
imports), and a mock would only repeat our assumptions.

Start-up is the price: superset_plugin.local.superset sets up in one process and
serves with gunicorn --preload (about 13 s and 4 s on two cores), and within
one test run a prepared metadata database is reused per `extra_config`/`env`,
so a second instance with the same configuration is healthy in about 4 s.
Nothing is cached across runs: a cached database would miss the permissions
of a plugin changed since.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from superset_plugin.local import superset as local

#: The configuration every test Superset shares, so that one set-up serves them all: the North
#: Star page, and the security API that lets tests create users and roles.
TEST_CONFIG = (
    "from superset_plugin.inside import init_northstar\nFLASK_APP_MUTATOR = init_northstar\n"
    "FAB_ADD_SECURITY_API = True\n"
)
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin"
#: Set-up that creates Superset's tables, roles and permissions takes ~13 s; allow for a slow machine.
SETUP_TIMEOUT = 300
#: From starting gunicorn to a healthy /health takes ~4 s.
START_TIMEOUT = 120
STOP_TIMEOUT = 15

# {configuration key: (prepared metadata database, its SECRET_KEY)} for this test process.
_PREPARED: dict[str, tuple[Path, str]] = {}
_PREPARED_DIR: Path | None = None


def executable(name: str) -> str:
    """A console script of the Superset virtualenv: next to the interpreter running the tests."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        pytest.fail(
            f"{name} is not installed next to {sys.executable}: tests marked `superset` need Superset 6.1."
            " Run them in the Superset virtualenv (`make test-superset`, or .venv-superset/bin/pytest),"
            " or deselect them with -m 'not superset'.",
            pytrace=False,
        )
    return str(path)


def tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return "(no log written)"
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class SupersetInstance:
    """One Superset on 127.0.0.1. `stop()` and `start()` keep the same port, home and database."""

    url: str
    username: str
    password: str
    home: Path
    config_path: Path
    log_path: Path
    secret_key: str
    port: int
    env: dict[str, str]
    #: Seconds spent on set-up (0 when a prepared database was reused) and on the last start.
    timings: dict[str, float] = field(default_factory=dict)
    _process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def fail(self, message: str) -> None:
        """pytest.fail with the tail of the server log, where Superset explains itself."""
        pytest.fail(f"{message}\n--- last lines of {self.log_path} ---\n{tail(self.log_path)}", pytrace=False)

    def start(self) -> None:
        """Start gunicorn and wait until /health answers OK."""
        if self.running:
            return
        executable("gunicorn")
        with open(self.log_path, "ab") as log:
            self._process = local.start(self.home, self.env, self.port, log)
        try:
            self.timings["start"] = round(local.wait_healthy(self.url, self._process, START_TIMEOUT), 2)
        except local.LocalSupersetError as exc:
            self.stop()
            self.fail(str(exc))

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            local.stop(process.pid)
            process.wait()


def _prepare(instance: SupersetInstance, key: str) -> None:
    """Create the metadata database, or copy the one prepared earlier in this run for the same key."""
    global _PREPARED_DIR
    database = instance.home / "superset.db"
    if key in _PREPARED:
        shutil.copyfile(_PREPARED[key][0], database)
        instance.timings["setup"] = 0.0
        return
    started = time.monotonic()
    with open(instance.log_path, "ab") as log:
        try:
            local.set_up(instance.home, instance.env, instance.username, instance.password, log, SETUP_TIMEOUT)
        except local.LocalSupersetError as exc:
            instance.fail(str(exc))
    instance.timings["setup"] = round(time.monotonic() - started, 2)
    if not database.exists():
        return  # extra_config moved the metadata database elsewhere: nothing to fix or keep
    _drop_sqlite_only_table_name_constraint(database)
    if _PREPARED_DIR is None:
        _PREPARED_DIR = Path(tempfile.mkdtemp(prefix="northstar-superset-prepared-"))
        atexit.register(shutil.rmtree, _PREPARED_DIR, True)
    copy = _PREPARED_DIR / f"{key}.db"
    shutil.copyfile(database, copy)
    _PREPARED[key] = (copy, instance.secret_key)


def _drop_sqlite_only_table_name_constraint(database: Path) -> None:
    """Let two databases each have a dataset on a table of the same name, as on PostgreSQL.

    The first migration (2015) made `tables.table_name` UNIQUE; the one that
    replaces it (b4456560d4f3, 2016) swallows its own failure "since sqlite
    doesn't like constraints", so on a SQLite metadata database the 2015
    constraint survives, and importing dataset `events` for a second database
    fails with a 500 (IntegrityError: UNIQUE constraint failed:
    tables.table_name). Production databases have no such constraint. SQLite
    cannot drop a constraint, so the (still empty) table is rebuilt without it.
    """
    with contextlib.closing(sqlite3.connect(database)) as connection:
        row = connection.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'tables'").fetchone()
        fixed, found = re.subn(r",\s*UNIQUE \(table_name\)", "", row[0] if row else "")
        if found != 1:
            return  # a Superset that no longer has it
        indexes = [
            row[0]
            for row in connection.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tables' AND sql IS NOT NULL"
            )
        ]
        connection.executescript(
            "PRAGMA foreign_keys = OFF; BEGIN; "
            + fixed.replace('"tables"', '"tables_rebuilt"', 1)
            + "; "
            + "INSERT INTO tables_rebuilt SELECT * FROM tables; DROP TABLE tables; "
            + "ALTER TABLE tables_rebuilt RENAME TO tables; "
            + "".join(f"{index}; " for index in indexes)
            + "COMMIT;"
        )


@contextlib.contextmanager
def running_superset(
    extra_config: str = TEST_CONFIG,
    env: dict[str, str] | None = None,
    *,
    root: Path | None = None,
    port: int | None = None,
) -> Iterator[SupersetInstance]:
    """A fresh Superset 6.1 with user admin/admin, stopped (process group killed) on exit.

    `extra_config` is appended to the generated superset_config.py, after
    FEATURE_FLAGS, so a test can add flags, BLUEPRINTS or FLASK_APP_MUTATOR;
    `env` adds environment variables for set-up and server. Everything lives
    in `root` (kept, e.g. a pytest tmp dir) or in a temp dir removed on exit.
    """
    for name in ("superset", "gunicorn"):
        executable(name)  # fail now, with a clear message, when Superset is missing
    owned = root is None
    home = Path(tempfile.mkdtemp(prefix="northstar-superset-")) if owned else Path(root)
    home.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(repr((extra_config, sorted((env or {}).items()))).encode()).hexdigest()[:16]
    secret_key = _PREPARED[key][1] if key in _PREPARED else secrets.token_urlsafe(32)
    config_path = local.write_config(home, extra_config)
    port = port or local.free_port()
    instance = SupersetInstance(
        url=f"http://127.0.0.1:{port}",
        username=ADMIN_USERNAME,
        password=ADMIN_PASSWORD,
        home=home,
        config_path=config_path,
        log_path=home / "superset.log",
        secret_key=secret_key,
        port=port,
        env=local.environment(home, config_path, secret_key, env),
    )
    try:
        _prepare(instance, key)
        instance.start()
        yield instance
    finally:
        instance.stop()
        if owned:
            shutil.rmtree(home, ignore_errors=True)


#: The Redis database of test instances (the demo uses another); each instance has its own key prefix too.
TEST_REDIS_DB = 2


@dataclass
class Workers:
    """What runs beside a production-shaped Superset: the SMTP sink and Celery (worker + beat)."""

    outbox: Path
    smtp_port: int
    log_path: Path


@contextlib.contextmanager
def running_production_superset(
    root: Path, extra_config: str = TEST_CONFIG, *, metadata: str = "northstar_superset_meta"
) -> Iterator[tuple[SupersetInstance, Workers]]:
    """A Superset that runs Alerts & Reports as production does: Redis, a Celery worker with beat, Playwright
    screenshots on Debian's Chromium, email to an SMTP sink writing .eml files to `root/outbox`, and its
    metadata in a fresh PostgreSQL database (`metadata`) on the test server.

    Slow to start (a set-up of its own, then Celery loads Superset): only the tests of reports and alerts
    use it, one per module.
    """
    try:
        local.redis_ready()
    except local.LocalSupersetError as exc:
        pytest.fail(str(exc), pytrace=False)
    root.mkdir(parents=True, exist_ok=True)
    port, smtp_port = local.free_port(), local.free_port()
    workers = Workers(root / "outbox", smtp_port, root / "workers.log")
    from warehouses import postgres_uri  # the tests' PostgreSQL server: a fresh database per instance

    metadata_uri = postgres_uri(metadata)
    config = extra_config + local.production_config(
        port, smtp_port, TEST_REDIS_DB, f"northstar-test-{port}", metadata_uri
    )
    with open(workers.log_path, "ab") as log:
        sink = local.start_outbox(workers.outbox, smtp_port, log)
    celery = None
    try:
        local.wait_port(smtp_port, sink)
        with running_superset(config, root=root / "superset", port=port) as instance:
            with open(workers.log_path, "ab") as log:
                celery = local.start_workers(instance.home, instance.env, log)
            yield instance, workers
    finally:
        for process in (celery, sink):
            if process is not None:
                local.stop(process.pid)
                process.wait()
