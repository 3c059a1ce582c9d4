"""`northstar guardrails` (exit codes for CI and cron) and `northstar digest`
(exact markdown for a fixed day), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os

import pytest
from helpers import run_cli
from shop import URI_ENV, shop, write_project  # noqa: F401

# SQL through SQLAlchemy: runs on 2.x (CLI virtualenv) and on 1.4 (Superset's).
pytestmark = pytest.mark.sqlalchemy


def _env(uri: str) -> dict:
    return {**os.environ, URI_ENV: uri}


def test_guardrails_crossed_exit_1_naming_metric_value_threshold_and_team(shop, tmp_path):  # noqa: F811
    write_project(tmp_path)
    # On 2026-11-11 the last complete week is 2026-11-02: a refund of 15 and an order of 5.
    done = run_cli("guardrails", "--end", "2026-11-11", cwd=tmp_path, env=_env(shop))
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [
        "corner-shop: largest_refund crossed its threshold: 15 in the week of 2026-11-02, above max 10; "
        "owner sales (Sales squad)",
        "corner-shop: smallest_order crossed its threshold: 5 in the week of 2026-11-02, below min 7; "
        "owner growth (Growth squad)",
        "2 of 2 guardrails crossed their thresholds",
    ]


def test_guardrails_within_exit_0(shop, tmp_path):  # noqa: F811
    write_project(tmp_path)
    # On 2026-11-18 the last complete week is 2026-11-09: refunds of 7 and 9, orders of 8 and 12.
    done = run_cli("guardrails", "--end", "2026-11-18", cwd=tmp_path, env=_env(shop))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "corner-shop: largest_refund ok: 9 in the week of 2026-11-09 (threshold max 10)",
        "corner-shop: smallest_order ok: 8 in the week of 2026-11-09 (threshold min 7)",
        "2 guardrails, none crossed its threshold",
    ]


def test_guardrails_json_and_the_running_week_is_never_judged(shop, tmp_path):  # noqa: F811
    write_project(tmp_path)
    # On Monday 2026-11-16 a refund... of nothing yet, and the week of 2026-11-09 is complete.
    done = run_cli("guardrails", "--end", "2026-11-16", "--format", "json", cwd=tmp_path, env=_env(shop))
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert [(g["metric"], g["period_start"], g["value"], g["status"], g["team"]) for g in found] == [
        ("largest_refund", "2026-11-09", 9, "ok", "Sales squad"),
        ("smallest_order", "2026-11-09", 8, "ok", "Growth squad"),
    ]
    # The order of 1000 on Monday 2026-11-16 is in the running week: on Wednesday it still does not count.
    done = run_cli("guardrails", "--end", "2026-11-18", "--format", "json", cwd=tmp_path, env=_env(shop))
    assert [g["value"] for g in json.loads(done.stdout)] == [9, 8]


DIGEST = """\
# Corner Shop: weekly digest, the week of 2026-11-09

Our North Star moved from 3 to 2 this week (-33.3%).

**Orders per week** (`weekly_orders`) in the week of 2026-11-09: 2, against 3 the week before. \
Target: 4 by 2027-06-30, 50.0% of the way, 2 to go. \
The outcome it should lead, Paying customers (`paying_customers`): 1 (-66.7%).

## What drove the change

There is not enough data to judge the move (2 earlier periods, at least 6 needed). \
The inputs have too little history to test their leads.

## Inputs, largest move first

| input | owner | should go | before | now | change | against its history |
|---|---|---|---:|---:|---:|---|
| Orders per visit | growth | ↑ | 75.0% | 200.0% | +125.0 pts | not enough data |
| Spread of amounts | sales | ↓ | 35 | 5 | -85.7% | not enough data |
| Customers who came by | growth | ↑ | 3 | 1 | -66.7% | not enough data |
| Order value | sales | ↑ | 60 | 20 | -66.7% | not enough data |
| Average order | sales | ↑ | 20 | 10 | -50.0% | not enough data |

## Guardrails

| guardrail | owner | now | threshold | status |
|---|---|---:|---|---|
| Largest refund | sales | 9 | max 10 | ok |
| Smallest order | growth | 8 | min 7 | ok |

Every guardrail held.

## Reviews

- Input review (growth), weekly: due today
- North Star review (leadership), monthly: due Friday 2026-11-20
- Revalidation review (leadership), annually: **overdue** since 2026-11-01 (17 days)
"""


def test_digest_is_exact_for_a_fixed_day(shop, tmp_path):  # noqa: F811
    write_project(tmp_path)
    done = run_cli("digest", "--today", "2026-11-18", cwd=tmp_path, env=_env(shop))
    assert done.returncode == 0, done.stderr
    assert done.stdout == DIGEST


def test_digest_with_a_crossed_guardrail_and_no_review_due(shop, tmp_path):  # noqa: F811
    write_project(tmp_path)
    done = run_cli("digest", "--today", "2026-11-10", cwd=tmp_path, env=_env(shop))
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "Our North Star moved from 0 to 3 this week.\n" in text  # from 0: no percentage
    assert "| Largest refund | sales | 15 | max 10 | **crossed** |" in text
    assert "**2 guardrails crossed their thresholds**: over to sales, growth." in text
    assert "- North Star review (leadership), monthly: due Friday 2026-11-20" not in text
    assert "- Revalidation review (leadership), annually: **overdue** since 2026-11-01 (9 days)" in text
