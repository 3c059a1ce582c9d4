"""A local SMTP sink: every message Superset sends is written to a folder as an .eml file, nothing leaves.

    python -m superset_plugin.local.outbox FOLDER PORT

The demo and the tests start it beside Superset (SMTP_HOST 127.0.0.1, the
port given), so a report or alert that was "emailed" can be opened in any
mail client. Files are named by arrival time and a counter, so they sort in
the order they came.
"""

from __future__ import annotations

import itertools
import os
import signal
import sys
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller


class Outbox:
    """aiosmtpd handler: one .eml per message, written whole (a temp file renamed) so readers never see half."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope) -> str:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        name = f"{stamp}-{next(self.counter):04d}.eml"
        partial = self.folder / f".{name}.part"
        partial.write_bytes(envelope.original_content or envelope.content)
        os.replace(partial, self.folder / name)
        return "250 Message accepted for delivery"


def serve(folder: Path, port: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(Outbox(folder), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"northstar outbox: SMTP on 127.0.0.1:{port}, writing to {folder}", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    controller.stop()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m superset_plugin.local.outbox FOLDER PORT")
    serve(Path(sys.argv[1]), int(sys.argv[2]))
