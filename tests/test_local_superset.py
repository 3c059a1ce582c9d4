"""The local Superset's set-up (make demo, the test servers) on a home it set up before: it
syncs the roles again and keeps the result, as `superset init` does."""

from __future__ import annotations

import contextlib
import secrets
import sqlite3

import pytest
from superset_server import TEST_CONFIG

from superset_plugin.local import superset as local

pytestmark = pytest.mark.superset

GAMMA_READS_THE_PAGE = """
SELECT count(*) FROM ab_permission_view_role pvr
JOIN ab_role r ON r.id = pvr.role_id
JOIN ab_permission_view pv ON pv.id = pvr.permission_view_id
JOIN ab_permission p ON p.id = pv.permission_id
JOIN ab_view_menu v ON v.id = pv.view_menu_id
WHERE r.name = 'Gamma' AND p.name = 'can_read' AND v.name = 'NorthStar'
"""


def test_setting_up_again_keeps_the_page_admin_only(tmp_path):
    config = local.write_config(tmp_path, TEST_CONFIG)
    env = local.environment(tmp_path, config, secrets.token_urlsafe(32))
    database = tmp_path / "superset.db"
    with open(tmp_path / "setup.log", "ab") as log:
        local.set_up(tmp_path, env, "admin", "admin", log)
        with contextlib.closing(sqlite3.connect(database)) as db:
            assert db.execute(GAMMA_READS_THE_PAGE).fetchone() == (0,)
            # as a home set up by an older northstar (or an admin's slip) would have it
            db.execute(
                """INSERT INTO ab_permission_view_role (permission_view_id, role_id)
                SELECT pv.id, r.id FROM ab_permission_view pv, ab_role r, ab_permission p, ab_view_menu v
                WHERE pv.permission_id = p.id AND pv.view_menu_id = v.id AND p.name = 'can_read'
                AND v.name = 'NorthStar' AND r.name = 'Gamma'"""
            )
            db.commit()
            assert db.execute(GAMMA_READS_THE_PAGE).fetchone() == (1,)
        local.set_up(tmp_path, env, "admin", "admin", log)
    with contextlib.closing(sqlite3.connect(database)) as db:
        assert db.execute(GAMMA_READS_THE_PAGE).fetchone() == (0,)
