"""A small HTTP proxy that sits between northstar and a real Superset and injects one fault.

It forwards every request as it is, except those its `fault` applies to:

- "import-500": the assets import is answered with a proxy's HTML 500 page, not forwarded;
- "import-drop": the import is forwarded and answered by Superset, then the connection is
  closed without an answer (the import landed; the client cannot know);
- "import-cut": the connection is closed as soon as the import arrives, before it is forwarded
  (nothing landed; the client cannot know either);
- "import-delay": the import is held for `delay` seconds (or until `release()`), then forwarded:
  it lands after the client has given up;
- "import-html": the import is answered 200 with an HTML page (a sign-in page), not forwarded;
- "401-after-login": logins pass; every other request is answered 401;
- "tag-collide": the tagging request is forwarded, then answered 500, as Superset answers the
  loser of two deploys tagging the same assets at once (what it wanted is there).

Threads, 127.0.0.1 only, bounded: at most `MAX_CONNECTIONS` requests at once, every
socket with a timeout, everything stopped by `close()` (or leaving the `with` block).
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

IMPORT_PATH = "/api/v1/assets/import/"
TAG_PATH = "/api/v1/tag/bulk_create"
LOGIN_PATH = "/api/v1/security/login"
FAULTS = ("import-500", "import-drop", "import-cut", "import-delay", "import-html", "401-after-login", "tag-collide")
MAX_CONNECTIONS = 16
SOCKET_TIMEOUT = 120
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"}


class FaultProxy:
    def __init__(self, upstream: str, *, delay: float = 60.0):
        parts = urllib.parse.urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.delay = delay
        self.fault: str | None = None
        #: (monotonic time received, method, path) of every request, in order.
        self.requests: list[tuple[float, str, str]] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._released = threading.Event()
        self._held = 0
        self._held_done = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="faultproxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def imports(self) -> list[float]:
        """When each import request reached the proxy (monotonic seconds)."""
        with self._lock:
            return [at for at, method, path in self.requests if method == "POST" and path == IMPORT_PATH]

    def set_fault(self, fault: str | None) -> None:
        assert fault in (None, *FAULTS), fault
        self._released.clear()
        self.fault = fault

    def release(self, timeout: float = 60) -> None:
        """Stop holding delayed imports: forward them now, and wait until Superset has answered them."""
        self._released.set()
        deadline = time.monotonic() + timeout
        with self._held_done:
            while self._held and time.monotonic() < deadline:
                self._held_done.wait(0.1)

    def close(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- used by the handler ------------------------------------------------------------------

    def _record(self, method: str, path: str) -> None:
        with self._lock:
            self.requests.append((time.monotonic(), method, path))

    def _hold(self) -> None:
        with self._held_done:
            self._held += 1
        try:
            self._released.wait(self.delay)
        finally:
            with self._held_done:
                self._held -= 1
                self._held_done.notify_all()

    def _forward(self, method: str, target: str, headers: dict[str, str], body: bytes):
        connection = http.client.HTTPConnection(*self.upstream, timeout=SOCKET_TIMEOUT)
        try:
            connection.request(method, target, body=body or None, headers=headers)
            response = connection.getresponse()
            return response.status, response.reason, response.getheaders(), response.read()
        finally:
            connection.close()


def _handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"
        timeout = SOCKET_TIMEOUT

        def log_message(self, format, *args):  # quiet: tests read `proxy.requests`
            pass

        def _any(self) -> None:
            with proxy._slots:
                self._serve()

        do_GET = do_POST = do_PUT = do_DELETE = _any

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _serve(self) -> None:
            path = urllib.parse.urlsplit(self.path).path
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            proxy._record(self.command, path)
            fault = proxy.fault
            is_import = self.command == "POST" and path == IMPORT_PATH
            if fault == "401-after-login" and path != LOGIN_PATH:
                self._answer(401, b'{"message": "Not authorized"}', "application/json")
                return
            if is_import and fault == "import-500":
                self._answer(
                    500,
                    b"<html><head><title>500 Internal Server Error</title></head><body>nginx</body></html>",
                    "text/html",
                )
                return
            if is_import and fault == "import-html":
                self._answer(
                    200,
                    b"<!doctype html><html><head><title>Sign in - Corporate SSO</title></head><body>form</body></html>",
                    "text/html; charset=utf-8",
                )
                return
            if is_import and fault == "import-cut":
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if is_import and fault == "import-delay":
                proxy._hold()
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            headers["Host"] = f"{proxy.upstream[0]}:{proxy.upstream[1]}"
            try:
                status, reason, response_headers, answer = proxy._forward(self.command, self.path, headers, body)
            except OSError:
                self._answer(502, b"<html><title>502 Bad Gateway</title></html>", "text/html")
                return
            if is_import and fault == "import-drop":
                self.connection.shutdown(socket.SHUT_RDWR)  # Superset applied it; the client hears nothing
                return
            if fault == "tag-collide" and self.command == "POST" and path == TAG_PATH:
                self._answer(500, b'{"message": "Fatal error"}', "application/json")
                return
            try:
                self.send_response(status, reason)
                for key, value in response_headers:
                    if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except OSError:
                pass  # the client gave up (a delayed import): Superset has it all the same

    return Handler
