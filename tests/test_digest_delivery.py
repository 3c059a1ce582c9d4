"""`northstar digest --post` to a Slack-compatible webhook (a real HTTP server on this machine) and
`--email` through SMTP settings from the environment (a real SMTP server: the outbox sink). The webhook's
token and the SMTP password appear in no output."""

from __future__ import annotations

import email
import email.policy
import os

import pytest
from helpers import run_cli
from shop import URI_ENV, shop, write_project  # noqa: F401
from webhooks import TOKEN, Receiver

pytestmark = pytest.mark.sqlalchemy
SMTP_PASSWORD = "smtp-pa55-never-shown"


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


def _env(uri: str, **extra: str) -> dict:
    return {**os.environ, URI_ENV: uri, **extra}


def test_digest_posted_to_a_webhook_from_the_option_and_from_the_environment(shop, tmp_path, receiver):  # noqa: F811
    write_project(tmp_path)
    plain = run_cli("digest", "--today", "2026-11-10", "--format", "text", cwd=tmp_path, env=_env(shop))
    done = run_cli("digest", "--today", "2026-11-10", "--post", receiver.url, cwd=tmp_path, env=_env(shop))
    assert done.returncode == 0, done.stderr
    assert receiver.bodies[0]["path"] == f"/services/{TOKEN}"
    posted = receiver.bodies[0]["json"]["text"]
    assert posted == plain.stdout
    assert "Our North Star moved from 0 to 3 this week." in posted
    assert "2 guardrails crossed their thresholds" in posted
    assert "posted the digest to the webhook at http://127.0.0.1" in done.stderr
    from_env = run_cli(
        "digest",
        "--today",
        "2026-11-10",
        "--post",
        cwd=tmp_path,
        env=_env(shop, NORTHSTAR_DIGEST_WEBHOOK_URL=receiver.url),
    )
    assert from_env.returncode == 0, from_env.stderr
    assert len(receiver.bodies) == 2
    for ran in (done, from_env):
        assert "sekrit" not in ran.stdout + ran.stderr


def test_a_webhook_that_fails_is_named_by_its_host_only(shop, tmp_path):  # noqa: F811
    write_project(tmp_path)
    refusing = Receiver(status=403)
    try:
        done = run_cli("digest", "--today", "2026-11-10", "--post", refusing.url, cwd=tmp_path, env=_env(shop))
    finally:
        refusing.close()
    assert done.returncode == 2
    assert "the webhook at http://127.0.0.1 answered 403" in done.stderr
    assert "sekrit" not in done.stdout + done.stderr and "Traceback" not in done.stderr
    missing = run_cli("digest", "--post", cwd=tmp_path, env={k: v for k, v in _env(shop).items() if "WEBHOOK" not in k})
    assert missing.returncode == 2 and "NORTHSTAR_DIGEST_WEBHOOK_URL" in missing.stderr


@pytest.mark.superset
def test_digest_mailed_through_smtp_from_the_environment(shop, tmp_path):  # noqa: F811
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    from superset_plugin.local.outbox import Outbox
    from superset_plugin.local.superset import free_port

    write_project(tmp_path)
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    logins = []

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password.decode() == SMTP_PASSWORD
        logins.append(ok)
        return AuthResult(success=ok)

    port = free_port()
    controller = Controller(
        Outbox(outbox), hostname="127.0.0.1", port=port, authenticator=authenticate, auth_require_tls=False
    )
    controller.start()
    try:
        env = _env(
            shop,
            NORTHSTAR_SMTP_HOST="127.0.0.1",
            NORTHSTAR_SMTP_PORT=str(port),
            NORTHSTAR_SMTP_USER="digest",
            NORTHSTAR_SMTP_PASSWORD=SMTP_PASSWORD,
            NORTHSTAR_SMTP_FROM="northstar@acme.example",
        )
        done = run_cli(
            "digest",
            "--today",
            "2026-11-10",
            "--email",
            "team@acme.example",
            "--email",
            "lead@acme.example",
            cwd=tmp_path,
            env=env,
        )
        wrong = run_cli(
            "digest",
            "--today",
            "2026-11-10",
            "--email",
            "team@acme.example",
            cwd=tmp_path,
            env={**env, "NORTHSTAR_SMTP_PASSWORD": "wrong-pa55"},
        )
    finally:
        controller.stop()
    assert done.returncode == 0, done.stderr
    assert f"mailed the digest to team@acme.example, lead@acme.example through 127.0.0.1:{port}" in done.stderr
    messages = sorted(outbox.glob("*.eml"))
    assert len(messages) == 1 and logins[0] is True
    message = email.message_from_bytes(messages[0].read_bytes(), policy=email.policy.default)
    assert message["To"] == "team@acme.example, lead@acme.example"
    assert str(message["Subject"]).startswith("North Star digest: ")
    assert "Our North Star moved from 0 to 3 this week." in message.get_content()
    # The sink answers a wrong password with 535 or by hanging up: either way exit 2, naming the server.
    assert wrong.returncode == 2 and f"127.0.0.1:{port}" in wrong.stderr and "Traceback" not in wrong.stderr
    assert logins[-1] is False
    for ran in (done, wrong):
        assert SMTP_PASSWORD not in ran.stdout + ran.stderr and "wrong-pa55" not in ran.stdout + ran.stderr
