"""A webhook receiver on this machine, for the tests of what northstar and Superset post."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: What the path of a webhook URL holds, like a Slack incoming webhook's token: a secret no output may show.
TOKEN = "T000/B000/sekrit-webhook-token"


class Receiver:
    """A webhook receiver: records every POST body, answers 200 (or `status`)."""

    def __init__(self, status: int = 200):
        self.bodies: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                json_body = json.loads(raw) if self.headers.get("Content-Type") == "application/json" else None
                receiver.bodies.append({"path": self.path, "json": json_body, "text": raw.decode("utf-8", "replace")})
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/{TOKEN}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
