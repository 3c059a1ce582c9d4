"""`make demo`: the example specs deployed to a local Superset on embedded
defaults, from nothing but a clone.

    python -m superset_plugin.local.demo up     # idempotent: reuses what is already there
    python -m superset_plugin.local.demo stop
    python -m superset_plugin.local.demo reset  # stop, drop the metadata database, remove the folder

State lives in NORTHSTAR_DEMO_DIR (default .demo/): the demo warehouse, the
Superset home, its log and its pid.

Superset runs the way operators run it, so the rituals are delivered: its
metadata in PostgreSQL (127.0.0.1:5432, a database named after the demo
folder; NORTHSTAR_DEMO_METADATA_URI overrides), Redis (127.0.0.1:6379,
database 1) as cache and Celery broker, a Celery worker with beat started and
stopped with it, screenshots through Debian's Chromium, and email to a local
SMTP sink that writes every message to .demo/outbox/ (port
NORTHSTAR_DEMO_SMTP_PORT, default 8025). A demo-only report of the Teamspace
dashboard is due the minute after each `make demo`, so a message arrives
within two minutes. NORTHSTAR_DEMO_REPORTS=off runs the plain SQLite Superset
without any of that. The warehouse is regenerated when it no
longer ends today, so relative ranges ("the last 26 complete weeks") always
show data. The admin login is NORTHSTAR_DEMO_USERNAME / NORTHSTAR_DEMO_PASSWORD
(admin / admin by default) and is printed, as a local demo's should be.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import shutil
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from northstar_spec import demo_data
from northstar_spec.spec.pipeline import check, find_project_file
from superset_plugin.compiler import naming
from superset_plugin.compiler.assets import compile_bundle
from superset_plugin.deploy.apply import deploy
from superset_plugin.deploy.client import SupersetClient
from superset_plugin.local import superset as local

#: The demo shows the North Star page too (see superset_plugin.inside).
ENABLE_NORTH_STAR_PAGE = "from superset_plugin.inside import init_northstar\nFLASK_APP_MUTATOR = init_northstar\n"
#: The demo's Redis database (the tests use another).
DEMO_REDIS_DB = 1
#: The demo-only report that shows delivery right after `make demo` (its marker keeps deploys off it).
DEMO_REPORT = "northstar demo · delivery check [teamspace]"
DEMO_MARKER = {"northstar_demo": True}


class Demo:
    def __init__(self, root: Path):
        self.root = root
        self.home = root / "superset"
        self.warehouse = root / "warehouse.db"
        self.port = int(os.environ.get("NORTHSTAR_DEMO_PORT", "8088"))
        self.url = f"http://127.0.0.1:{self.port}"
        self.username = os.environ.get("NORTHSTAR_DEMO_USERNAME", "admin")
        self.password = os.environ.get("NORTHSTAR_DEMO_PASSWORD", "admin")
        self.reports = os.environ.get("NORTHSTAR_DEMO_REPORTS", "on").lower() != "off"
        self.smtp_port = int(os.environ.get("NORTHSTAR_DEMO_SMTP_PORT", "8025"))
        self.outbox = root / "outbox"
        self.tag = "northstar_demo_" + hashlib.sha256(str(root).encode()).hexdigest()[:8]
        self.metadata_uri = os.environ.get(
            "NORTHSTAR_DEMO_METADATA_URI", f"postgresql://postgres@127.0.0.1:5432/{self.tag}"
        )

    def say(self, message: str) -> None:
        print(f"· {message}", flush=True)

    # --- the warehouse ---------------------------------------------------------------------------------------

    def ensure_warehouse(self) -> None:
        stamp = self.root / "warehouse.ends"
        today = dt.date.today().isoformat()
        wanted = f"{today} v{demo_data.DATA_VERSION}"
        if self.warehouse.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
            self.say(f"demo warehouse is current ({self.warehouse})")
            return
        started = time.monotonic()
        engine = sa.create_engine(f"sqlite:///{self.warehouse}")
        try:
            counts = demo_data.write(engine, demo_data.generate(end=dt.date.today()))
        finally:
            engine.dispose()
        stamp.write_text(wanted)
        self.say(
            f"generated the demo warehouse: {sum(counts.values()):,} events ending {today} "
            f"({time.monotonic() - started:.0f} s)"
        )

    # --- Superset --------------------------------------------------------------------------------------------

    def secret_key(self) -> str:
        """Superset's SECRET_KEY for this demo: made once, kept with the demo's other state (mode 600)."""
        path = self.root / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip()

    def extra_config(self) -> str:
        extra = os.environ.get("NORTHSTAR_DEMO_SUPERSET_CONFIG", ENABLE_NORTH_STAR_PAGE)
        if not self.reports:
            return extra
        return extra + local.production_config(
            self.port, self.smtp_port, DEMO_REDIS_DB, self.tag.replace("_", "-"), self.metadata_uri
        )

    # --- Alerts & Reports: metadata database, Redis, SMTP sink, Celery -----------------------------------------

    def ensure_metadata_database(self) -> None:
        """The demo's PostgreSQL metadata database, created when missing."""
        url = sa.engine.make_url(self.metadata_uri)
        admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                found = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database})
                if found.first() is None:
                    conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
                    self.say(f"created the metadata database {url.database!r}")
        except sa.exc.OperationalError as exc:
            raise local.LocalSupersetError(
                f"Alerts & Reports need PostgreSQL metadata at {url.render_as_string(hide_password=True)} "
                f"({exc.orig}); start PostgreSQL, set NORTHSTAR_DEMO_METADATA_URI, "
                "or run with NORTHSTAR_DEMO_REPORTS=off"
            ) from None
        finally:
            admin.dispose()

    def _pid(self, name: str) -> int | None:
        try:
            return int((self.root / name).read_text())
        except (OSError, ValueError):
            return None

    def ensure_outbox(self) -> None:
        pid = self._pid("outbox.pid")
        if pid and local.alive(pid):
            self.say(f"the SMTP sink is running (pid {pid}); mail lands in {self.outbox}")
            return
        with open(self.root / "outbox.log", "ab") as log:
            process = local.start_outbox(self.outbox, self.smtp_port, log)
        local.wait_port(self.smtp_port, process)
        (self.root / "outbox.pid").write_text(str(process.pid))
        self.say(f"started the SMTP sink on 127.0.0.1:{self.smtp_port}; mail lands in {self.outbox}")

    def ensure_workers(self, env: dict[str, str]) -> None:
        pid = self._pid("workers.pid")
        if pid and local.alive(pid):
            self.say(f"the Celery worker and beat are running (pid {pid})")
            return
        with open(self.home / "workers.log", "ab") as log:
            process = local.start_workers(self.home, env, log)
        (self.root / "workers.pid").write_text(str(process.pid))
        self.say(f"started the Celery worker with beat (pid {process.pid}; log: {self.home / 'workers.log'})")

    def schedule_demo_report(self, client: SupersetClient) -> str:
        """A demo-only report of the Teamspace dashboard, due next minute (once): delivery shown at once."""
        dashboard = client.find_by_uuid("dashboard", naming.dashboard_uuid("teamspace"))
        if dashboard is None:
            return "no Teamspace dashboard: no demo report"
        due = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1)).replace(second=0, microsecond=0)
        body = {
            "type": "Report",
            "name": DEMO_REPORT,
            "description": "Made by `make demo` to show a delivery within two minutes; not managed by deploy.",
            "crontab": f"{due.minute} {due.hour} {due.day} {due.month} *",
            "timezone": "UTC",
            "dashboard": dashboard["id"],
            "recipients": [{"type": "Email", "recipient_config_json": {"target": "demo@northstar.example"}}],
            "report_format": "PNG",
            "creation_method": "alerts_reports",
            "active": True,
            "extra": DEMO_MARKER,
        }
        rows = client.list_all("report", {"filters": [{"col": "name", "opr": "eq", "value": DEMO_REPORT}]})
        if rows:
            client.put(f"/api/v1/report/{rows[0]['id']}", json=body)
        else:
            client.post("/api/v1/report/", json=body)
        return f"{due:%H:%M} UTC"

    def environment(self) -> dict[str, str]:
        config = local.write_config(self.home, self.extra_config())
        return local.environment(self.home, config, self.secret_key())

    def pid(self) -> int | None:
        try:
            return int((self.root / "superset.pid").read_text())
        except (OSError, ValueError):
            return None

    def ensure_superset(self) -> dict[str, str]:
        self.home.mkdir(parents=True, exist_ok=True)
        if self.reports:
            local.redis_ready()
            self.ensure_metadata_database()
        env = self.environment()
        stamp = self.home / ".set-up"
        # Set up again when the configuration changed: a plugin brings permissions to sync.
        if not stamp.exists() or stamp.read_text() != self.extra_config():
            started = time.monotonic()
            with open(self.home / "superset.log", "ab") as log:
                local.set_up(self.home, env, self.username, self.password, log)
            stamp.write_text(self.extra_config())
            self.say(f"set up Superset in {self.home} ({time.monotonic() - started:.0f} s)")
        if self.pid() and local.healthy(self.url):
            self.say(f"Superset is already running on {self.url} (pid {self.pid()})")
            return env
        if local.healthy(self.url):
            raise local.LocalSupersetError(f"something else answers on {self.url}; set NORTHSTAR_DEMO_PORT")
        with open(self.home / "superset.log", "ab") as log:
            process = local.start(self.home, env, self.port, log)
        (self.root / "superset.pid").write_text(str(process.pid))
        seconds = local.wait_healthy(self.url, process)
        self.say(f"started Superset on {self.url} ({seconds:.0f} s; log: {self.home / 'superset.log'})")
        return env

    def stop(self) -> None:
        for name, what in (("workers.pid", "Celery worker and beat"), ("outbox.pid", "SMTP sink")):
            pid = self._pid(name)
            if pid is not None:
                local.stop(pid)
                (self.root / name).unlink(missing_ok=True)
                print(f"stopped the demo {what} (pid {pid})")
        pid = self.pid()
        if pid is None:
            print("the demo Superset is not running")
            return
        local.stop(pid)
        (self.root / "superset.pid").unlink(missing_ok=True)
        print(f"stopped the demo Superset (pid {pid})")

    def reset(self) -> None:
        self.stop()
        if self.reports:
            url = sa.engine.make_url(self.metadata_uri)
            admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
            try:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
                print(f"dropped the metadata database {url.database!r}")
            except sa.exc.OperationalError as exc:
                print(f"could not drop the metadata database {url.database!r}: {exc.orig}")
            finally:
                admin.dispose()
        shutil.rmtree(self.root, ignore_errors=True)
        print(f"removed {self.root}")

    # --- the specs -------------------------------------------------------------------------------------------

    def deploy(self) -> list:
        project_file = find_project_file(Path.cwd())
        if project_file is None:
            raise local.LocalSupersetError("run the demo from the repository: no northstar.yaml here")
        result = check([], project_file=project_file)
        if result.failed():
            raise local.LocalSupersetError("the example specs do not validate: run `northstar validate`")
        bundle = compile_bundle(
            result.specs, result.project, {"NORTHSTAR_WAREHOUSE_URI": f"sqlite:///{self.warehouse.resolve()}"}
        )
        client = SupersetClient(self.url, username=self.username, password=self.password)
        outcome = deploy(client, bundle, result.specs, result.project, progress=self.say)
        self.say(f"deployed {len(result.specs)} specs: {outcome.plan.summary()}")
        return sorted(result.specs, key=lambda s: s.product.id)

    def up(self) -> None:
        started = time.monotonic()
        self.root.mkdir(parents=True, exist_ok=True)
        self.ensure_warehouse()
        if self.reports:
            self.outbox.mkdir(exist_ok=True)
            self.ensure_outbox()
        env = self.ensure_superset()
        if self.reports:
            self.ensure_workers(env)
        specs = self.deploy()
        due = None
        if self.reports:
            client = SupersetClient(self.url, username=self.username, password=self.password)
            due = self.schedule_demo_report(client)
        print(f"\nnorthstar demo ready in {time.monotonic() - started:.0f} s")
        print(f"  Superset:  {self.url}/  (login: {self.username} / {self.password})")
        north_star = next((s for s in specs if s.product.id == "acme-invoicing"), specs[0])
        print(f"  North Star dashboard: {self.url}/superset/dashboard/{naming.dashboard_slug(north_star.product.id)}/")
        for spec in specs:
            print(f"    {spec.product.name}: {self.url}/superset/dashboard/{naming.dashboard_slug(spec.product.id)}/")
        print(f"    portfolio: {self.url}/superset/dashboard/{naming.dashboard_slug(naming.PORTFOLIO_ID)}/")
        print(f"  North Star page (metric trees with live values): {self.url}/northstar/")
        if due:
            print(f"  Reports and alerts: {self.url}/report/list/ (the rituals, run by Celery beat and a worker)")
            print(f"  Outbox: every email Superset sends lands in {self.outbox}/ as an .eml file;")
            print(f"    a demo report of the Teamspace dashboard is due at {due} (then one .eml appears)")
        print("  stop it with `make demo-stop`; wipe it with `make demo-reset`")


def main(argv: list[str]) -> int:
    demo = Demo(Path(os.environ.get("NORTHSTAR_DEMO_DIR", ".demo")).resolve())
    command = argv[0] if argv else "up"
    try:
        if command == "up":
            demo.up()
        elif command == "stop":
            demo.stop()
        elif command == "reset":
            demo.reset()
        else:
            print(f"usage: python -m superset_plugin.local.demo up|stop|reset (not {command!r})", file=sys.stderr)
            return 2
    except (local.LocalSupersetError, OSError) as exc:
        print(f"demo: {exc} (see {demo.home / 'superset.log'})", file=sys.stderr)
        return 2
    except Exception as exc:  # a deploy or client error: already worded for people
        print(f"demo: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
