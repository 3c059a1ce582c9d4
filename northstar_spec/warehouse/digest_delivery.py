"""The digest delivered: posted to a Slack-compatible webhook, or mailed through SMTP, so that a cron job
or a CI schedule can send the Friday digest.

Secrets stay in the environment and out of every message: a webhook URL
usually is one (its path holds the token), so only its host is ever shown;
the SMTP password is read from the environment and never shown. Errors name
what failed and what to check, not the URL or the password.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from email.message import EmailMessage

#: Where `--post` without a URL reads it.
WEBHOOK_ENV = "NORTHSTAR_DIGEST_WEBHOOK_URL"
#: The SMTP settings `--email` reads; only the host and a sender are required.
SMTP_ENV = (
    "NORTHSTAR_SMTP_HOST",
    "NORTHSTAR_SMTP_PORT",
    "NORTHSTAR_SMTP_USER",
    "NORTHSTAR_SMTP_PASSWORD",
    "NORTHSTAR_SMTP_FROM",
    "NORTHSTAR_SMTP_STARTTLS",
    "NORTHSTAR_SMTP_SSL",
)
TIMEOUT = 30.0


class DeliveryError(Exception):
    """The digest could not be delivered; the message holds no secret."""


def host_of(url: str) -> str:
    """What of a webhook URL may be shown: its scheme and host."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}"


def post(url: str, text: str, timeout: float = TIMEOUT) -> str:
    """POST {"text": …} (what Slack's incoming webhooks and most chat tools take); returns where, shown safely."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise DeliveryError("the webhook URL is not an http(s) URL")
    if parts.username or parts.password:
        raise DeliveryError("the webhook URL carries a user or password; put the token in its path or query instead")
    shown = host_of(url)
    request = urllib.request.Request(
        url,
        data=json.dumps({"text": text}).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "northstar-digest/1"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"the webhook at {shown} answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"the webhook at {shown} could not be reached ({type(reason).__name__})") from None
    return shown


def send_email(
    recipients: Sequence[str], subject: str, text: str, environ: Mapping[str, str], timeout: float = TIMEOUT
) -> str:
    """Mail the digest through the SMTP server the environment names; returns the server, shown safely."""
    host = environ.get("NORTHSTAR_SMTP_HOST")
    sender = environ.get("NORTHSTAR_SMTP_FROM")
    if not host or not sender:
        raise DeliveryError("set NORTHSTAR_SMTP_HOST and NORTHSTAR_SMTP_FROM (README: the digest delivered)")
    use_ssl = environ.get("NORTHSTAR_SMTP_SSL", "false").lower() == "true"
    starttls = environ.get("NORTHSTAR_SMTP_STARTTLS", "false").lower() == "true"
    try:
        port = int(environ.get("NORTHSTAR_SMTP_PORT") or (465 if use_ssl else 587 if starttls else 25))
    except ValueError:
        raise DeliveryError("NORTHSTAR_SMTP_PORT is not a number") from None
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, ", ".join(recipients), subject
    message.set_content(text)
    user, password = environ.get("NORTHSTAR_SMTP_USER"), environ.get("NORTHSTAR_SMTP_PASSWORD")
    shown = f"{host}:{port}"
    context = ssl.create_default_context()
    try:
        server = (
            smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
            if use_ssl
            else smtplib.SMTP(host, port, timeout=timeout)
        )
        with server:
            if starttls:
                server.starttls(context=context)
            if user and password:
                server.login(user, password)
            server.send_message(message)
    except smtplib.SMTPAuthenticationError:
        raise DeliveryError(f"the SMTP server {shown} refused NORTHSTAR_SMTP_USER's login") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"the digest could not be mailed through {shown} ({type(exc).__name__})") from None
    return shown
