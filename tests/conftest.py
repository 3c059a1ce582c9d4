"""Fixtures shared by the whole suite."""

from __future__ import annotations

from typing import Iterator

import pytest

from superset_server import SupersetInstance, running_superset


@pytest.fixture(scope="session")
def superset(tmp_path_factory) -> Iterator[SupersetInstance]:
    """One real Superset 6.1 for the whole run (admin/admin); mark tests using it `@pytest.mark.superset`.

    Shared, so a test must leave it running: one that stops it restarts it in a
    `finally`, or better starts its own with `running_superset()`.
    """
    with running_superset(root=tmp_path_factory.mktemp("superset")) as instance:
        yield instance
