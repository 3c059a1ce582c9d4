"""`northstar digest --format text|json`: the same digest as the markdown one
(tests/test_guardrails_digest.py), for a terminal or an e-mail, and for tools."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import run_cli
from shop import URI_ENV, write_project, write_rows

# SQL through SQLAlchemy: runs on 2.x (CLI virtualenv) and on 1.4 (Superset's).
pytestmark = pytest.mark.sqlalchemy
DAY = "2026-11-18"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("digest-formats")
    write_project(folder)
    return folder, {**os.environ, URI_ENV: write_rows(f"sqlite:///{folder / 'shop.db'}")}


def test_json_holds_the_digest_s_facts_as_numbers(project):
    folder, env = project
    done = run_cli("digest", "--today", DAY, "--format", "json", cwd=folder, env=env)
    assert done.returncode == 0, done.stderr
    (shop,) = json.loads(done.stdout)
    assert shop["product"] == {"id": "corner-shop", "name": "Corner Shop"}
    north_star = shop["north_star"]
    assert (north_star["id"], north_star["start"], north_star["previous"], north_star["value"]) == (
        "weekly_orders",
        "2026-11-09",
        3,
        2,
    )
    assert north_star["period"] == "the week of 2026-11-09" and north_star["grain"] == "week"
    assert north_star["change"] == pytest.approx(-1 / 3)
    guardrails = {g["id"]: (g["value"], g["threshold"], g["status"]) for g in shop["guardrails"]}
    assert guardrails["largest_refund"] == (9, {"min": None, "max": 10}, "ok")
    reviews = {r["ritual"]: r["status"] for r in shop["reviews"]}
    assert reviews["revalidation"] == "overdue since 2026-11-01 (17 days)"  # markup left out
    assert {i["id"] for i in shop["inputs"]} >= {"order_value", "average_order"}
    # What drove the change, as `northstar explain --format json` has it: four weeks of data are too few to judge.
    drove = shop["what_drove"]
    assert (drove["north_star"], drove["before"], drove["after"]) == ("weekly_orders", 3, 2)
    assert drove["move"]["verdict"] == "not enough data" and drove["driver"] is None


def test_text_is_the_markdown_without_markup(project):
    folder, env = project
    markdown = run_cli("digest", "--today", DAY, cwd=folder, env=env).stdout
    text = run_cli("digest", "--today", DAY, "--format", "text", cwd=folder, env=env).stdout
    assert "**" not in text and "`" not in text and "|" not in text and "#" not in text
    heading = markdown.splitlines()[0].removeprefix("# ")
    assert text.splitlines()[:2] == [heading, "=" * len(heading)]
    assert "Inputs, largest move first\n--------------------------\n" in text
    assert "Largest refund  sales   9    max 10     ok" in text
    assert "Revalidation review (leadership), annually: overdue since 2026-11-01 (17 days)" in text
    # Every sentence of the markdown digest is there.
    assert "Our North Star moved from 3 to 2 this week (-33.3%)." in markdown
    assert "Our North Star moved from 3 to 2 this week (-33.3%)." in text
