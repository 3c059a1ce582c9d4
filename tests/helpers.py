"""Shared test helpers: the real CLI as a subprocess, the fixture folders, a frozen clock."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: Every test that depends on "today" uses this day, so nothing turns red by itself.
TODAY = dt.date(2026, 11, 22)


def northstar_executable() -> str:
    """The console script installed next to this interpreter: the CLI a user runs."""
    script = Path(sys.executable).parent / "northstar"
    if not script.exists():
        pytest.fail(f"the northstar command is not installed in {script.parent}; run `make test`")
    return str(script)


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [northstar_executable(), *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
