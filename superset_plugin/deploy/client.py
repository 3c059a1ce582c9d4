"""The one small Superset REST client: login, CSRF, retries and typed errors.

Standard library only, because `northstar deploy` must work from the plain CLI
install, which carries no HTTP library. Everything Superset 6.1 needs from a
machine client is here (see docs in the shared Superset reference, §1 and §3):

- a JWT from `/api/v1/security/login`, refreshed once when it expires;
- ONE cookie jar, because CSRF applies even with a Bearer token: POST, PUT and
  DELETE need the `X-CSRFToken` header *and* the session cookie that came with
  it from `/api/v1/security/csrf_token/`;
- `Accept: application/json`, without which command errors come back as the
  HTML 500 page.

Every failure is a `SupersetError` whose message names the cause and what to
do about it, so the CLI can print it and exit 2. Secrets (the password, the
tokens, database passwords sent with an import) never appear in a message, a
repr or a log line: messages are built from our own words plus the server's
`message`, and the server's words are redacted before use.

Not thread-safe: one client per thread.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import json as jsonlib
import logging
import math
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid as uuidlib
from collections.abc import Iterable, Mapping
from typing import Any

log = logging.getLogger(__name__)

#: The kinds `find_by_uuid` accepts: the ones whose show endpoint takes a UUID.
UUID_KINDS = ("dashboard", "chart", "dataset")
#: Statuses a proxy or a restarting Superset returns for a moment; worth another try.
TRANSIENT_STATUSES = frozenset({502, 503, 504})
#: The largest page Superset's list endpoints serve (FAB_API_MAX_PAGE_SIZE).
PAGE_SIZE = 100
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_USER_AGENT = "northstar-superset-client/1"


# --- errors ----------------------------------------------------------------


class SupersetError(Exception):
    """Anything that went wrong talking to Superset.

    `status` is the HTTP status, or None when no answer came. `detail` is the
    server's own message (secrets removed) and `payload` its parsed JSON body,
    for callers that want e.g. the per-file messages of a 422.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        method: str = "",
        path: str = "",
        detail: str = "",
        payload: Any = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.path = path
        self.detail = detail
        self.payload = payload

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r})"


class Unreachable(SupersetError):
    """No HTTP answer: connection refused, unknown host or timeouts, after the retries.

    `sent` says the request went out before the answer failed to come (so a
    POST may have taken effect); `timed_out` that the wait ran out, so
    Superset may still be working on it.
    """

    sent = False
    timed_out = False


class NotJson(SupersetError):
    """A success status with a body that is not Superset's JSON: a login page, a proxy's page, another server."""


class AuthenticationFailed(SupersetError):
    """Superset refused the credentials: wrong user name or password, or an unusable token."""


class PermissionDenied(SupersetError):
    """403: logged in, but this user may not do this."""


class NotFound(SupersetError):
    """404: the object, or the endpoint, does not exist."""


class ImportFailed(SupersetError):
    """The assets import endpoint rejected a bundle (rolled back, except databases: see the message)."""


class ServerError(SupersetError):
    """5xx: Superset (or a proxy in front of it) failed while handling the call."""


# --- encodings -------------------------------------------------------------

_RISON_NOT_IDCHAR = set(" '!:(),*@$")
_RISON_NOT_IDSTART = set("-0123456789")


def rison_dumps(value: Any) -> str:
    """Encode `value` as Rison, the URL-friendly JSON Superset's `q=` parameter takes.

    Only what API queries need: dicts (keys sorted, like rison.js), lists and
    tuples, strings, ints, floats, bools and None.
    """
    if value is None:
        return "!n"
    if value is True:
        return "!t"
    if value is False:
        return "!f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"rison cannot encode {value!r}")
        if value.is_integer() and abs(value) < 1e16:
            return repr(int(value))
        return repr(value).replace("e+", "e")
    if isinstance(value, str):
        return _rison_string(value)
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda item: str(item[0]))
        return "(" + ",".join(f"{_rison_string(str(k))}:{rison_dumps(v)}" for k, v in items) + ")"
    if isinstance(value, (list, tuple)):
        return "!(" + ",".join(rison_dumps(v) for v in value) + ")"
    raise TypeError(f"rison cannot encode a {type(value).__name__}")


def _rison_string(text: str) -> str:
    if text and text[0] not in _RISON_NOT_IDSTART and not _RISON_NOT_IDCHAR.intersection(text):
        return text
    return "'" + text.replace("!", "!!").replace("'", "!'") + "'"


def encode_multipart(
    fields: Mapping[str, str], files: Mapping[str, tuple[str, bytes, str]], boundary: str | None = None
) -> tuple[bytes, str]:
    """A multipart/form-data body and its Content-Type header, as a browser form would send it.

    `files` maps a field name to (filename, content, content type). Quotes and
    line breaks in names are percent-escaped, as the HTML standard does.
    """
    boundary = boundary or f"northstar-{uuidlib.uuid4().hex}"
    contents = [v.encode() for v in fields.values()] + [f[1] for f in files.values()]
    if any(boundary.encode() in content for content in contents):
        raise ValueError("the multipart boundary occurs in the content; pick another")
    dash = f"--{boundary}\r\n".encode()
    body = bytearray()
    for name, value in fields.items():
        body += dash
        body += f'Content-Disposition: form-data; name="{_form_quote(name)}"\r\n\r\n'.encode()
        body += value.encode() + b"\r\n"
    for name, (filename, content, content_type) in files.items():
        body += dash
        body += (
            f'Content-Disposition: form-data; name="{_form_quote(name)}"; filename="{_form_quote(filename)}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        body += content + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return bytes(body), f"multipart/form-data; boundary={boundary}"


def _form_quote(name: str) -> str:
    return name.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")


# --- the client ------------------------------------------------------------


class _Secret:
    """Holds a credential so that no repr, vars() dump or debugger view prints it."""

    __slots__ = ("value",)

    def __init__(self, value: str):
        self.value = value

    def __repr__(self) -> str:
        return "'***'"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: urllib would resend our Authorization header to wherever they point."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class SupersetClient:
    """A logged-in session with one Superset server; see the module docstring."""

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        access_token: str | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
    ):
        if "@" in url:  # also where a password with / ? or # makes the rest of it a path
            raise SupersetError(
                "The Superset URL must not contain a user name or password: pass them as username and password"
                " instead (SUPERSET_USERNAME and SUPERSET_PASSWORD)."
            )
        try:
            parts = urllib.parse.urlsplit(url)
            parts.port  # noqa: B018 - parsing it is the check
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise SupersetError(
                "The Superset URL must look like https://superset.example.com (an http or https address)."
            )
        if not access_token and not (username and password):
            raise SupersetError("Superset needs credentials: a username and password, or an access token.")
        self.url = url.rstrip("/")
        self.username = username
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        #: HTTP requests sent so far, retries included (benchmarks and tests read it).
        self.requests = 0
        self._password = _Secret(password) if password else None
        self._access_token = _Secret(access_token) if access_token else None
        self._refresh_token: _Secret | None = None
        self._csrf_token: _Secret | None = None
        # Private: the session cookie is a credential too.
        self._cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self._cookies), _NoRedirects())

    def __repr__(self) -> str:
        who = f"username={self.username!r}" if self.username else "access token"
        return f"SupersetClient({self.url!r}, {who}, logged_in={self._access_token is not None})"

    # --- authentication ----------------------------------------------------

    def login(self) -> None:
        """Get fresh access and refresh tokens with the user name and password."""
        if not (self.username and self._password):
            raise AuthenticationFailed(
                f"Superset at {self.url} rejected the access token and no user name and password were given"
                " to log in again: pass a fresh access token, or a username and password.",
                status=401,
            )
        body = {"username": self.username, "password": self._password.value, "provider": "db", "refresh": True}
        try:
            tokens = self._request("POST", "/api/v1/security/login", json=body, authenticated=False, retry=True)
        except SupersetError as exc:
            if exc.status not in (400, 401):
                raise
            raise AuthenticationFailed(
                f"Superset at {self.url} refused the login of user {self.username!r}"
                f" ({exc.status} {exc.detail}): check the user name and password.",
                status=exc.status,
                method="POST",
                path="/api/v1/security/login",
                detail=exc.detail,
            ) from None
        self._access_token = _Secret(self._field(tokens, "access_token", "POST /api/v1/security/login"))
        self._refresh_token = _Secret(tokens["refresh_token"]) if tokens.get("refresh_token") else None

    def _reauthenticate(self) -> None:
        """After a rejected token: use the refresh token once, else log in again."""
        if self._refresh_token is not None:
            try:
                answer = self._request(
                    "POST",
                    "/api/v1/security/refresh",
                    authenticated=False,
                    retry=True,
                    bearer=self._refresh_token.value,
                )
                self._access_token = _Secret(self._field(answer, "access_token", "POST /api/v1/security/refresh"))
                log.info("refreshed the Superset access token")
                return
            except SupersetError as exc:
                if exc.status not in (401, 422):
                    raise
                log.info("the Superset refresh token was rejected (%s); logging in again", exc.status)
                self._refresh_token = None
        self.login()

    def _ensure_csrf_token(self) -> str:
        if self._csrf_token is None:
            answer = self._request("GET", "/api/v1/security/csrf_token/")
            self._csrf_token = _Secret(self._field(answer, "result", "GET /api/v1/security/csrf_token/"))
        return self._csrf_token.value

    def _field(self, answer: Any, key: str, call: str) -> str:
        if not isinstance(answer, dict) or not isinstance(answer.get(key), str):
            raise SupersetError(
                f"{call} on {self.url} answered without {key!r}: the server does not behave like"
                " Superset 6.1 with database authentication (AUTH_DB)."
            )
        return answer[key]

    # --- generic calls -----------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET a JSON endpoint. Dict and list values in `params` (e.g. `q`) are Rison-encoded."""
        return self._request("GET", path, params=params)

    def post(self, path: str, json: Any = None, *, retry: bool = False) -> Any:
        """POST a JSON body. Not resent after a timeout unless `retry` says the call is idempotent."""
        return self._request("POST", path, json=json, retry=retry)

    def put(self, path: str, json: Any = None) -> Any:
        return self._request("PUT", path, json=json)

    def delete(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._request("DELETE", path, params=params)

    def post_multipart(
        self,
        path: str,
        fields: Mapping[str, str],
        files: Mapping[str, tuple[str, bytes, str]],
        *,
        retry: bool = False,
        secrets: Iterable[str] = (),
    ) -> Any:
        """POST a form with file uploads; `secrets` are field values to keep out of errors and logs."""
        body, content_type = encode_multipart(fields, files)
        return self._request("POST", path, body=body, content_type=content_type, retry=retry, secrets=secrets)

    # --- Superset operations -----------------------------------------------

    def import_assets(
        self, bundle_zip: bytes, passwords: Mapping[str, str] | None = None, *, sparse: bool = False
    ) -> None:
        """Import an assets bundle (zip with one top-level folder) through /api/v1/assets/import/.

        `passwords` maps a database file inside the zip, without the root
        folder (`databases/warehouse.yaml`), to its password. `sparse=True`
        lets the bundle reference objects already in Superset.

        Sent once: after a timeout or a dropped connection the import may
        have landed, or may still be landing, so it is never resent here.
        The caller checks what Superset holds before sending it again
        (`deploy` does). A success status without Superset's JSON raises
        NotJson: also no proof that anything was imported.
        """
        fields = {"overwrite": "true"}
        if passwords:
            fields["passwords"] = jsonlib.dumps(dict(passwords))
        if sparse:
            fields["sparse"] = "true"
        files = {"bundle": ("bundle.zip", bundle_zip, "application/zip")}
        try:
            self.post_multipart(
                "/api/v1/assets/import/", fields, files, retry=False, secrets=(passwords or {}).values()
            )
        except (Unreachable, AuthenticationFailed, PermissionDenied, NotFound, NotJson):
            raise
        except SupersetError as exc:
            if exc.status is None or exc.status in TRANSIENT_STATUSES:
                raise
            raise ImportFailed(
                _import_failure_message(exc),
                status=exc.status,
                method=exc.method,
                path=exc.path,
                detail=exc.detail,
                payload=exc.payload,
            ) from None

    def chart_data(self, chart_id: int) -> dict:
        """The data of a saved chart, computed from its saved query context."""
        return self._request("GET", f"/api/v1/chart/{int(chart_id)}/data/")

    def find_by_uuid(self, kind: str, uuid: str) -> dict | None:
        """The dashboard, chart or dataset with this UUID (its `id` included), or None."""
        if kind not in UUID_KINDS:
            raise ValueError(f"kind must be one of {', '.join(UUID_KINDS)}, not {kind!r}")
        uuid = str(uuidlib.UUID(str(uuid)))
        try:
            answer = self._request("GET", f"/api/v1/{kind}/{uuid}")
        except NotFound:
            return None
        result = dict(answer.get("result") or {})
        result.setdefault("id", answer.get("id"))
        return result

    def list_all(self, kind: str, q: Mapping[str, Any] | None = None) -> list[dict]:
        """Every row of /api/v1/<kind>/ matching `q` (filters, columns, order), all pages fetched."""
        if not re.fullmatch(r"[a-z_]+(/[a-z_-]+)*", kind):
            raise ValueError(f"{kind!r} is not an API resource name such as 'chart'")
        return self.all_pages(f"/api/v1/{kind}/", q)

    def all_pages(self, path: str, q: Mapping[str, Any] | None = None) -> list[dict]:
        """Every row a paginated endpoint (a list, or a `related` listing) has for `q`."""
        rows: list[dict] = []
        page = 0
        while True:
            query = {**(q or {}), "page": page, "page_size": PAGE_SIZE}
            answer = self._request("GET", path, params={"q": query})
            batch = answer.get("result") or []
            rows.extend(batch)
            if not batch or len(rows) >= answer.get("count", 0):
                return rows
            page += 1

    # --- plumbing ----------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        body: bytes | None = None,
        content_type: str | None = None,
        authenticated: bool = True,
        retry: bool | None = None,
        bearer: str | None = None,
        secrets: Iterable[str] = (),
    ) -> Any:
        """One call, with login, CSRF, one re-authentication and one CSRF renewal as needed."""
        path = "/" + path.lstrip("/")
        if json is not None:
            body, content_type = jsonlib.dumps(json).encode(), "application/json"
        idempotent = (method not in _UNSAFE_METHODS or method in ("PUT", "DELETE")) if retry is None else retry
        url = self.url + path + _query_string(params)
        secrets = tuple(s for s in secrets if s)
        reauthenticated = csrf_renewed = False
        if authenticated and self._access_token is None:
            self.login()
        while True:
            headers = {"Accept": "application/json", "User-Agent": _USER_AGENT}
            if content_type:
                headers["Content-Type"] = content_type
            if authenticated and method in _UNSAFE_METHODS:
                # First: fetching it may renew the access token read below.
                headers["X-CSRFToken"] = self._ensure_csrf_token()
                # Flask-WTF's strict check needs a same-origin Referer over HTTPS.
                headers["Referer"] = self.url + "/"
            token = bearer or (self._access_token.value if authenticated and self._access_token else None)
            if token:
                headers["Authorization"] = f"Bearer {token}"
            status, raw, response_headers = self._send(method, url, path, body, headers, idempotent)
            payload = _parse(raw)
            if status < 300:
                if raw.strip() and payload is _NOT_JSON:
                    raise NotJson(
                        f"{method} {path} answered {status} with {_detail(payload, raw)}"
                        f" ({response_headers.get('Content-Type', 'no content type')}), not Superset's JSON:"
                        f" check that {self.url} is the address of Superset itself, not of a login page or"
                        " proxy in front of it.",
                        status=status,
                        method=method,
                        path=path,
                        detail=_detail(payload, raw),
                    )
                return None if payload is _NOT_JSON else payload
            if authenticated and not bearer and not reauthenticated and _token_rejected(status, payload):
                log.info("Superset rejected the access token (%s); re-authenticating", status)
                reauthenticated = True
                self._reauthenticate()
                continue
            detail = self._redact(_detail(payload, raw), secrets)
            if authenticated and method in _UNSAFE_METHODS and not csrf_renewed and status == 400 and "CSRF" in detail:
                log.info("Superset rejected the CSRF token (%s); fetching a new one", detail)
                csrf_renewed = True
                self._csrf_token = None
                continue
            raise self._error(status, method, path, detail, self._redact_payload(payload, secrets), response_headers)

    def _send(
        self, method: str, url: str, path: str, body: bytes | None, headers: dict[str, str], idempotent: bool
    ) -> tuple[int, bytes, Any]:
        """Send one request, retrying transient failures; (status, body, headers) of the answer.

        A failure before the request was sent (refused, unknown host, connect
        timeout) is always retried. One after it was sent (read timeout, reset,
        502/503/504) is retried only for idempotent calls: a POST may already
        have taken effect.
        """
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            request = urllib.request.Request(url, data=body, headers=headers, method=method)
            self.requests += 1
            started = time.monotonic()
            reason: str
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    raw = response.read()
                    log.debug("%s %s -> %s (%.2fs)", method, path, response.status, time.monotonic() - started)
                    return response.status, raw, response.headers
            except urllib.error.HTTPError as exc:
                raw = exc.read()
                log.debug("%s %s -> %s (%.2fs)", method, path, exc.code, time.monotonic() - started)
                if exc.code not in TRANSIENT_STATUSES or not idempotent or attempt == attempts:
                    return exc.code, raw, exc.headers
                reason = f"{exc.code} {http.client.responses.get(exc.code, '')}".strip()
            except urllib.error.URLError as exc:
                reason = _describe(exc.reason)
                if attempt == attempts:
                    raise Unreachable(
                        f"Cannot reach Superset at {self.url} ({reason}) after {attempts} attempt"
                        f"{'s' * (attempts != 1)}: check the URL and that Superset is running.",
                        method=method,
                        path=path,
                        detail=reason,
                    ) from None
            except (OSError, http.client.HTTPException) as exc:
                reason = _describe(exc)
                if not idempotent or attempt == attempts:
                    timed_out = isinstance(exc, TimeoutError)
                    if timed_out:
                        reason = f"no answer within {self.timeout:g} s"
                    done = "" if idempotent else " It may or may not have taken effect; check before repeating it."
                    error = Unreachable(
                        f"Superset at {self.url} did not answer {method} {path} ({reason}) after {attempt} attempt"
                        f"{'s' * (attempt != 1)}.{done} Check that Superset is running and not overloaded"
                        f" (the client waits {self.timeout:g} s per attempt).",
                        method=method,
                        path=path,
                        detail=reason,
                    )
                    error.sent, error.timed_out = True, timed_out
                    raise error from None
            delay = self.backoff * 2 ** (attempt - 1)
            log.warning(
                "%s %s failed (%s); retrying in %.2fs (attempt %d of %d)",
                method,
                path,
                reason,
                delay,
                attempt + 1,
                attempts,
            )
            time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _error(self, status: int, method: str, path: str, detail: str, payload: Any, headers: Any) -> SupersetError:
        said = f"{status} {detail}".strip()
        kwargs = {"status": status, "method": method, "path": path, "detail": detail, "payload": payload}
        if 300 <= status < 400:
            return SupersetError(
                f"{method} {path} was redirected to {headers.get('Location', '?')} ({status}). The client does not"
                " follow redirects, so that credentials never go to another address: use the final address"
                " as the Superset URL.",
                **kwargs,
            )
        if status == 401:
            return AuthenticationFailed(
                f"Superset at {self.url} rejected the credentials for {method} {path} ({said}):"
                " check the user name and password, or pass a fresh access token.",
                **kwargs,
            )
        if status == 403:
            return PermissionDenied(
                f"User {self.username or '(token)'} may not {method} {path} on {self.url} ({said}):"
                " use an account with the needed role, or ask a Superset admin to grant it.",
                **kwargs,
            )
        if status == 404:
            return NotFound(
                f"{method} {path} was not found on {self.url} ({said}): the object does not exist"
                " (or was deleted), or the URL does not point at Superset 6.1.",
                **kwargs,
            )
        if status >= 500:
            return ServerError(
                f"Superset at {self.url} failed on {method} {path} ({said}): the cause is in the Superset server log.",
                **kwargs,
            )
        return SupersetError(f"Superset at {self.url} rejected {method} {path} ({said}).", **kwargs)

    def _secrets(self, extra: Iterable[str] = ()) -> list[str]:
        held = [s.value for s in (self._password, self._access_token, self._refresh_token, self._csrf_token) if s]
        # Longest first, so a secret that contains another is removed whole.
        return sorted({s for s in (*held, *extra) if s}, key=len, reverse=True)

    def _redact(self, text: str, extra: Iterable[str] = ()) -> str:
        for secret in self._secrets(extra):
            text = text.replace(secret, "***")
        return text

    def _redact_payload(self, payload: Any, extra: Iterable[str] = ()) -> Any:
        if payload is _NOT_JSON:
            return None
        if isinstance(payload, str):
            return self._redact(payload, extra)
        if isinstance(payload, list):
            return [self._redact_payload(v, extra) for v in payload]
        if isinstance(payload, dict):
            return {self._redact(str(k), extra): self._redact_payload(v, extra) for k, v in payload.items()}
        return payload


# --- helpers ---------------------------------------------------------------

_NOT_JSON = object()


def _query_string(params: Mapping[str, Any] | None) -> str:
    if not params:
        return ""
    encoded = {}
    for key, value in params.items():
        if isinstance(value, (Mapping, list, tuple)):
            encoded[key] = rison_dumps(value)
        elif isinstance(value, bool):
            encoded[key] = "true" if value else "false"
        else:
            encoded[key] = str(value)
    return "?" + urllib.parse.urlencode(encoded, safe="(),:!'*@$")


def _parse(raw: bytes) -> Any:
    try:
        return jsonlib.loads(raw)
    except ValueError:
        return _NOT_JSON


def _token_rejected(status: int, payload: Any) -> bool:
    """401, or the 422 `{"msg": ...}` Flask-JWT-Extended sends for a malformed or forged token.

    Superset's own validation 422s carry `message`, never `msg`.
    """
    if status == 401:
        return True
    return status == 422 and isinstance(payload, dict) and "msg" in payload and "message" not in payload


def _detail(payload: Any, raw: bytes) -> str:
    """The server's own words: `message`, JWT's `msg`, or the first of `errors`; else a text snippet."""
    if isinstance(payload, dict):
        for key in ("message", "msg"):
            if key in payload:
                value = payload[key]
                return value if isinstance(value, str) else jsonlib.dumps(value, sort_keys=True)
        errors = payload.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict) and "message" in errors[0]:
            return str(errors[0]["message"])
    if payload is not _NOT_JSON:
        return jsonlib.dumps(payload, sort_keys=True)[:300]
    text = raw.decode("utf-8", "replace")
    if "<html" in text[:500].lower():
        title = re.search(r"<title>(.*?)</title>", text, re.I | re.S)
        return f"an HTML page{': ' + title.group(1).strip() if title else ''}"
    return " ".join(text.split())[:300]


def _describe(reason: Any) -> str:
    """'Connection refused', 'timed out', 'Name or service not known': the cause, without a repr."""
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    text = str(reason)
    return text or type(reason).__name__


def _import_failure_message(exc: SupersetError) -> str:
    said = f"{exc.status} {exc.detail}".strip()
    # Observed on 6.1: the import rolls back, but FAB commits the session when
    # it creates a database's new access permission, so a database new to this
    # Superset (or one renamed) stays behind. Re-importing with the same UUID fixes it up.
    aftermath = (
        " Datasets, charts and dashboards were rolled back; a database in the bundle may already have"
        " been created or updated, and the next successful import updates it."
    )
    if exc.detail.startswith("an HTML page"):
        return (
            f"The import was answered {said}, not Superset's JSON: a proxy or gateway in front of Superset"
            " failed (or answered for it), so Superset's own answer is unknown. Look at that proxy's log and"
            " at Superset's, then deploy again: the next deploy checks what landed." + aftermath
        )
    if exc.status and exc.status >= 500:
        return (
            f"Superset could not import the bundle ({said}). Superset 6.1 answers every bundle error this"
            " way and writes the real cause only to its server log: run `northstar validate` on the specs,"
            " then look for the traceback in the Superset log." + aftermath
        )
    return (
        f"Superset rejected the bundle ({said}): run `northstar validate` on the specs and check the"
        " bundle layout." + aftermath
    )
