"""Reports and alerts delivered by a production-shaped Superset 6.1: Redis, a real Celery worker and beat,
Playwright screenshots on Debian's Chromium, email to an SMTP sink. Superset's own scheduler runs them:
the test only makes a deployed report and two alerts due every minute (as a person could in Superset),
then reads what arrived in the outbox."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import os
import shutil
import time
from pathlib import Path

import pytest
from helpers import ROOT, run_cli
from superset_server import running_production_superset
from warehouses import sqlite_warehouse
from webhooks import TOKEN, Receiver

from superset_plugin.deploy.client import SupersetClient

pytestmark = pytest.mark.superset
#: Beat runs the scheduler every minute; a screenshot of a dashboard takes a while on two busy cores.
DELIVERY_TIMEOUT = 420
SMTP_SECRET = "smtp-pa55-never-shown"
BREACHED = "Teamspace · guardrail Weekly churned teams > 2 [teamspace]"
WITHIN = "Tunewave · guardrail Skip rate > 0.27 [tunewave]"
REPORT = "Teamspace · input review [teamspace]"


@pytest.fixture(scope="module")
def delivery(tmp_path_factory):
    root = tmp_path_factory.mktemp("delivery")
    repo = root / "repo"
    repo.mkdir()
    shutil.copy(ROOT / "northstar.yaml", repo / "northstar.yaml")
    shutil.copytree(ROOT / "specs", repo / "specs")
    # In the (scaled-down) test data a week has a few churned teams: a maximum of 2 is crossed.
    spec = repo / "specs" / "teamspace.yaml"
    spec.write_text(spec.read_text().replace("threshold: {max: 40}", "threshold: {max: 2}"))
    # The growth squad also takes its alerts at a webhook.
    project = repo / "northstar.yaml"
    project.write_text(
        project.read_text().replace(
            "growth: {name: Growth squad, contacts: [growth@teamspace.example],",
            "growth: {name: Growth squad, contacts: [growth@teamspace.example], webhook_env: DELIVERY_HOOK,",
        )
    )
    uri = sqlite_warehouse(root)
    receiver = Receiver()
    with running_production_superset(root / "production") as (server, workers):
        env = {
            **os.environ,
            "DELIVERY_HOOK": receiver.url,
            "NORTHSTAR_WAREHOUSE_URI": uri,
            "SUPERSET_URL": server.url,
            "SUPERSET_USERNAME": server.username,
            "SUPERSET_PASSWORD": server.password,
        }
        deployed = run_cli("deploy", "--skip-warehouse-check", cwd=repo, env=env)
        assert deployed.returncode == 0, deployed.stderr
        client = SupersetClient(server.url, username=server.username, password=server.password)
        yield server, workers, client, receiver
    receiver.close()


def _by_name(client: SupersetClient) -> dict[str, dict]:
    return {r["name"]: r for r in client.list_all("report", {"columns": ["id", "name", "last_state"]})}


def _messages(outbox: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for path in sorted(outbox.glob("*.eml"))
    ]


def _wait_for(outbox: Path, subject_part: str, to: str, timeout: float = DELIVERY_TIMEOUT):
    """The first message about `subject_part` to `to` (a failed run emails its error to the owner instead)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(outbox.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if subject_part in str(message["Subject"]) and to in str(message["To"]):
                return path, message
        time.sleep(2)
    return None, None


def test_a_report_and_a_breached_alert_are_delivered_and_an_alert_within_its_threshold_is_not(delivery):
    from PIL import Image

    _, workers, client, receiver = delivery
    live = _by_name(client)
    due = dt.datetime.now(dt.timezone.utc)
    for name in (REPORT, BREACHED, WITHIN):
        client.put(f"/api/v1/report/{live[name]['id']}", json={"crontab": "* * * * *"})
    # The next whole minute is when beat's scheduler makes them due.
    scheduled = (due + dt.timedelta(minutes=1)).replace(second=0, microsecond=0)

    path, report = _wait_for(workers.outbox, REPORT, "collab@teamspace.example")
    assert report is not None, f"no report email within {DELIVERY_TIMEOUT} s; see {workers.log_path}"
    arrived = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)
    seconds = (arrived - scheduled).total_seconds()
    print(f"\nreport scheduled {scheduled:%H:%M:%S}, delivered {arrived:%H:%M:%S}: {seconds:.0f} s")
    assert str(report["To"]) == "collab@teamspace.example, activation@teamspace.example, growth@teamspace.example"
    images = [part for part in report.walk() if part.get_content_type() == "image/png"]
    assert images, "the report email carries no PNG"
    picture = Image.open(io.BytesIO(images[0].get_content()))
    picture.load()
    # Superset's dashboard window is 1600 px wide; the picture is as tall as the whole dashboard.
    assert picture.size[0] == 1600 and picture.size[1] >= 1500, picture.size
    colours = picture.convert("RGB").getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 50, "the screenshot is blank"

    _, alert = _wait_for(workers.outbox, BREACHED, "growth@teamspace.example")
    assert alert is not None, f"no alert email within {DELIVERY_TIMEOUT} s; see {workers.log_path}"
    assert str(alert["To"]) == "growth@teamspace.example, leadership@acme.example"
    assert any(part.get_content_type() == "image/png" for part in alert.walk())
    # The alert within its threshold was evaluated too (its state says so) and sent nothing.
    deadline = time.monotonic() + 120
    while _by_name(client)[WITHIN]["last_state"] != "Not triggered" and time.monotonic() < deadline:
        time.sleep(2)
    assert _by_name(client)[WITHIN]["last_state"] == "Not triggered"
    assert not any(WITHIN in str(m["Subject"]) for m in _messages(workers.outbox))
    # The breached alert reached the growth squad's webhook too (Superset posts the chart as a file).
    # The growth squad's webhook took the breached alert (and, as an input owner, the input review), never the
    # alert within its threshold.
    deadline = time.monotonic() + 60
    while not any(BREACHED in b["text"] for b in receiver.bodies) and time.monotonic() < deadline:
        time.sleep(1)
    assert any(BREACHED in b["text"] for b in receiver.bodies), [b["text"][:200] for b in receiver.bodies]
    assert all(b["path"] == f"/services/{TOKEN}" and WITHIN not in b["text"] for b in receiver.bodies)
    assert TOKEN not in workers.log_path.read_text(errors="replace")
