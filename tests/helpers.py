"""Shared test helpers: the CLI in-process and installed, the fixture folders, a frozen clock."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: Every test that depends on "today" uses this day, so nothing turns red by itself.
TODAY = dt.date(2026, 11, 22)


@dataclass(frozen=True)
class Ran:
    """What a command did: its exit code and what it printed, like a finished process."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: object, cwd: Path | None = None, env: dict | None = None, input: str | None = None) -> Ran:
    """The `northstar` command, run in this process with its own working directory and environment.

    In-process because a process start proves nothing more for most tests;
    an exception the command did not turn into a message fails the test
    (the command's catch-all would have hidden it behind "internal error").
    `run_installed` runs the console script for the tests that are about it.
    """
    from click.testing import CliRunner

    from northstar_spec.cli import cli

    runner = CliRunner()
    with _working_directory(cwd):
        result = runner.invoke(
            cli, [str(a) for a in args], env=env, input=input, catch_exceptions=False, prog_name="northstar"
        )
    return Ran(result.exit_code, result.stdout, result.stderr)


@contextlib.contextmanager
def _working_directory(folder: Path | None) -> Iterator[None]:
    before = Path.cwd()
    if folder is not None:
        os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def northstar_executable() -> str:
    """The console script installed next to this interpreter: the CLI a user runs."""
    script = Path(sys.executable).parent / "northstar"
    if not script.exists():
        pytest.fail(f"the northstar command is not installed in {script.parent}; run `make test`")
    return str(script)


def run_installed(
    *args: object, cwd: Path | None = None, env: dict | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """The installed console script in a process of its own, as a user or CI runs it."""
    return subprocess.run(
        [northstar_executable(), *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
