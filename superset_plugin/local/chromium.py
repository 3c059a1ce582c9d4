"""Superset's Playwright screenshots on Debian's Chromium.

Superset 6.1 launches `playwright.chromium.launch(args=...)`, which looks for
Playwright's own browser download; on machines that cannot reach it (and in
the demo, which must work from a clone) the system Chromium is there instead.
`use_system_chromium()`, called from the local Superset's configuration, makes
every launch that names no browser use it. Local instances only: a production
image runs `playwright install chromium` instead.
"""

from __future__ import annotations

import functools
import shutil


def use_system_chromium() -> None:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        return
    from playwright.sync_api import BrowserType

    if getattr(BrowserType.launch, "_northstar", False):
        return
    launch = BrowserType.launch

    @functools.wraps(launch)
    def launch_system(self, *args, **kwargs):
        kwargs.setdefault("executable_path", path)
        return launch(self, *args, **kwargs)

    launch_system._northstar = True  # type: ignore[attr-defined]
    BrowserType.launch = launch_system  # type: ignore[method-assign]
