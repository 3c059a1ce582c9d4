"""A command on a terminal: script(1) (util-linux) runs it on a pseudo-terminal
and records what it wrote, escape sequences and all."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

from helpers import ROOT, northstar_executable

#: An SGR sequence that sets a colour: foreground or background, 8, 16, 256 or true colours.
COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")
#: A frame of rich's default spinner.
SPINNER = re.compile("[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]")


def on_a_terminal(args: list[str], cwd: Path = ROOT, **env: str) -> tuple[int, str]:
    """`northstar ARGS` on a pseudo-terminal: its exit code and everything it showed."""
    command = shlex.join([northstar_executable(), *args])
    environment = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", **env}
    if "NO_COLOR" not in env:
        environment.pop("NO_COLOR", None)
    done = subprocess.run(
        ["script", "-qefc", command, "/dev/null"],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    return done.returncode, done.stdout
