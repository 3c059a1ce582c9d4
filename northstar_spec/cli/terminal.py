"""What a terminal shows beyond plain text: colour by severity, and live
progress while the warehouse or Superset works.

Colour follows the usual contract: on when the output is a terminal, off when
it is piped, off when NO_COLOR is set (https://no-color.org), and `--color`
or `--no-color` before the command wins over both. The decision is click's
`Context.color`, which click.echo applies when it writes (it strips styles
whenever colour is off).

Live progress uses rich, loaded only when a terminal shows it: a spinner with
the step under way and the time it has taken, refreshed from rich's own
thread, so a long import into Superset or a slow query shows that it is
running. click's progress bar draws only when an item finishes and has no
spinner, so it cannot show one long step; rich is a dependency of Superset
already. Off a terminal (CI logs) each step is one plain line on stderr.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

import click

#: The style of each part of a finding, by role (see northstar_spec.spec.reporters.format_text).
STYLES: dict[str, dict[str, Any]] = {
    "error": {"fg": "red", "bold": True},
    "warning": {"fg": "yellow", "bold": True},
    "location": {"bold": True},
    "code": {"fg": "cyan"},
    "hint": {"dim": True},
    "name": {"dim": True},
}


def colour_setting(flag: bool | None) -> bool | None:
    """click's Context.color from `--color/--no-color` and NO_COLOR: True, False, or None (when a terminal)."""
    if flag is not None:
        return flag
    return False if os.environ.get("NO_COLOR") else None


def colour_on(stream=None) -> bool:
    """Whether what is written to `stream` (stdout by default) will keep its colours."""
    ctx = click.get_current_context(silent=True)
    setting = ctx.color if ctx is not None else colour_setting(None)
    if setting is not None:
        return setting
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def style(text: str, role: str) -> str:
    """`text` styled for its role; click.echo takes the styles out again when colour is off."""
    return click.style(text, **STYLES[role]) if role in STYLES else text


#: The live displays running now (`finish` ends them before a command prints its result).
_RUNNING: list[Steps] = []


class Steps:
    """One line per step on stderr, or, on a terminal, a live spinner with the step under way.

    Call it with each step's message; `done()` ends the live display. A
    command calls `finish()` before it prints its result, and its context
    calls `done()` when it ends, whatever happens.
    """

    def __init__(self, what: str, live: bool) -> None:
        self.what = what
        self.count = 0
        self.started = time.monotonic()
        self._progress = None
        self._task = None
        if live:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            colour = colour_on(sys.stderr)
            console = Console(file=sys.stderr, force_terminal=True, no_color=not colour, highlight=False)
            self._progress = Progress(
                SpinnerColumn(style="cyan" if colour else "none"),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(f"{what}…", total=None)
            _RUNNING.append(self)

    def __call__(self, message: object) -> None:
        self.count += 1
        if self._progress is None or self._task is None:
            click.echo(f"· {message}", err=True)
            return
        self._progress.console.print(f"[green]✓[/] {message}" if colour_on(sys.stderr) else f"✓ {message}")
        self._progress.update(self._task, description=f"{self.what}: {self.count} done, working…")

    def done(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            _RUNNING.remove(self)


def echo(text: str) -> None:
    """`text` on stderr, above the live display when one runs (so that it stays running)."""
    running = next((steps for steps in _RUNNING if steps._progress is not None), None)
    if running is None or running._progress is None:
        click.echo(text, err=True)
        return
    running._progress.console.print(text, markup=False, highlight=False)


def finish() -> None:
    """End every live display, so that what the command prints next stands on its own lines."""
    for steps in list(_RUNNING):
        steps.done()


def steps(what: str, show: bool | None = None) -> Callable[[object], None] | None:
    """A progress callback for the current command, or None when progress is off.

    `show` is the command's --progress/--no-progress (None: when stderr is a
    terminal). The live display runs only on a terminal; it ends with the command.
    """
    if show is None:
        show = sys.stderr.isatty()
    return always(what) if show else None


def always(what: str) -> Steps:
    """Steps that are always shown: live on a terminal, else one line each (deploy's steps)."""
    reporter = Steps(what, live=sys.stderr.isatty())
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(reporter.done)
    else:  # pragma: no cover - every command has a context
        reporter.done()
    return reporter
