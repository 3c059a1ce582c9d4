"""Keep secrets out of Superset's action log (the `logs` table).

Superset 6.1 writes every form field, query argument and JSON body of nearly
every API request into `logs.json` (`superset.utils.log.collect_request_payload`):
the `passwords` field of an assets import, the `sqlalchemy_uri` of a database
created or edited through the API or the UI, `parameters.password`, SSH
tunnel secrets. No setting excludes fields and no REST route avoids the
logger, so the only fix is where every row is written: the event logger's
`log()`, which all writers end in.

Two ways to use it, both verified against the `logs` table by the tests:

- `init_northstar` (the page's FLASK_APP_MUTATOR) wraps whatever event
  logger Superset was configured with, so enabling the page is enough;
- without the page, in superset_config.py::

      from superset_plugin.inside.action_log import ScrubbingEventLogger
      EVENT_LOGGER = ScrubbingEventLogger()
"""

from __future__ import annotations

import json
import re
from typing import Any

from superset.utils.log import DBEventLogger

MASK = "***"
#: Keys whose values are secrets wherever they appear (any case; `passwords`, `ssh_tunnel_private_key_password`…).
_SECRET_KEY = re.compile(r"pass(word|wd)?s?$|passwords?|secret|token|private_key|encrypted_extra|credential", re.I)
#: The password of a URI: scheme://user:PASSWORD@host.
_URI_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*(@)")
#: A marker so the wrapper is applied once and `scrubs()` can tell.
_WRAPPED = "_northstar_scrubs_secrets"


def scrub(value: Any) -> Any:
    """`value` with every secret replaced by ***: secret-named keys, URI passwords, a report's webhook URL (its
    path usually holds the token), and each of these inside JSON strings."""
    if isinstance(value, dict):
        if str(value.get("type", "")).lower() == "webhook" and "recipient_config_json" in value:
            value = {**value, "recipient_config_json": MASK}
        return {k: MASK if isinstance(k, str) and _SECRET_KEY.search(k) else scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "["):
            try:
                decoded = json.loads(stripped)
            except ValueError:
                pass
            else:
                return json.dumps(scrub(decoded))
        return _URI_PASSWORD.sub(rf"\1{MASK}\2", value)
    return value


def _scrubbed_call(log):
    """A `log(...)` that scrubs the records and the curated payload before handing them to `log`."""

    def scrubbing_log(*args: Any, **kwargs: Any) -> None:
        if "records" in kwargs:
            kwargs["records"] = [scrub(r) for r in kwargs["records"] or []]
        if kwargs.get("curated_payload"):
            kwargs["curated_payload"] = scrub(kwargs["curated_payload"])
        if kwargs.get("curated_form_data"):
            kwargs["curated_form_data"] = scrub(kwargs["curated_form_data"])
        log(*args, **kwargs)

    setattr(scrubbing_log, _WRAPPED, True)
    return scrubbing_log


def install(event_logger: Any) -> None:
    """Make a configured event logger instance scrub what it writes (idempotent).

    Instance-level on purpose: Superset's decorators hold this very instance,
    and `log_with_context` calls `self.log`, so every writer goes through it,
    whatever logger class the operator configured.
    """
    if event_logger is None or scrubs(event_logger):
        return
    event_logger.log = _scrubbed_call(event_logger.log)


def scrubs(event_logger: Any) -> bool:
    """True when this logger keeps secrets out of what it writes."""
    return bool(getattr(getattr(event_logger, "log", None), _WRAPPED, False))


class ScrubbingEventLogger(DBEventLogger):
    """Superset's database event logger, minus the secrets (for EVENT_LOGGER in superset_config.py)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        install(self)
