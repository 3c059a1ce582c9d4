"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from superset_server import SupersetInstance, running_superset

#: Where the shared server's log stood when a test's call began.
_LOG_OFFSET = pytest.StashKey[int]()
_LOG_LINES = 150


@pytest.fixture(scope="session")
def superset(tmp_path_factory) -> Iterator[SupersetInstance]:
    """One real Superset 6.1 for the whole run (admin/admin); mark tests using it `@pytest.mark.superset`.

    Shared, so a test must leave it running: one that stops it restarts it in a
    `finally`, or better starts its own with `running_superset()`.
    """
    with running_superset(root=tmp_path_factory.mktemp("superset")) as instance:
        yield instance


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Show what the server logged during a failed test: Superset's 500s explain themselves only there."""
    outcome = yield
    report = outcome.get_result()
    instance = getattr(item, "funcargs", {}).get("superset")
    if not isinstance(instance, SupersetInstance):
        return
    size = instance.log_path.stat().st_size if instance.log_path.exists() else 0
    if report.when == "setup":
        item.stash[_LOG_OFFSET] = size
    elif report.when == "call" and report.failed:
        with open(instance.log_path, "rb") as log:
            log.seek(item.stash.get(_LOG_OFFSET, 0))
            lines = log.read().decode("utf-8", "replace").splitlines()
        report.sections.append(
            (
                f"Superset log during this test ({instance.log_path}, last {_LOG_LINES} lines)",
                "\n".join(lines[-_LOG_LINES:]),
            )
        )
