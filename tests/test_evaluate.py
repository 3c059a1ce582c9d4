"""`northstar evaluate`: exact values of every metric kind per week on SQLite and
PostgreSQL, period bucketing on both against the Python calendar, one scan per
source, and the three output formats through the real CLI."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os

import pytest
from helpers import run_cli
from shop import END, EXPECTED, URI_ENV, WEEKS, database, shop, write_project, write_rows  # noqa: F401

from northstar_spec.spec.pipeline import check
from northstar_spec.warehouse import periods
from northstar_spec.warehouse.evaluate import evaluate

# SQL through SQLAlchemy: runs on 2.x (CLI virtualenv) and on 1.4 (Superset's).
pytestmark = pytest.mark.sqlalchemy


def _same(actual, expected) -> bool:
    if expected is None or actual is None:
        return actual is expected
    return actual == pytest.approx(expected, rel=1e-12)


def _specs(folder):
    result = check([], project_file=folder / "northstar.yaml", today=END)
    assert not result.failed(), [f"{d.location} {d.code} {d.message}" for d in result.diagnostics]
    return result


@pytest.mark.parametrize("native", [True, False], ids=["dialect-dates", "portable-case"])
def test_every_metric_kind_per_week(shop, tmp_path, native):  # noqa: F811
    result = _specs(write_project(tmp_path).parent.parent)
    evaluation = evaluate(result.specs, result.project, periods=4, end=END, environ={URI_ENV: shop}, native=native)
    assert [s.metric.id for s in evaluation.series] == list(EXPECTED)
    for series in evaluation.series:
        assert series.periods == WEEKS
        expected = EXPECTED[series.metric.id]
        assert all(_same(a, e) for a, e in zip(series.values, expected)), (series.metric.id, series.values)
    # Counts are whole numbers on every engine, not 2.0 or Decimal('2').
    assert all(type(v) is int for v in evaluation.of(result.specs[0], result.specs[0].north_star).values)
    assert len(evaluation.queries) == 1  # nine metrics, one source, one grain: one scan


def test_the_metric_kinds_covered_are_all_of_them(tmp_path):
    result = _specs(write_project(tmp_path).parent.parent)
    spec = result.specs[0]
    kinds = {m.measure.aggregate if m.measure else m.kind for m in spec.metrics_and_outcome}
    assert kinds == {"count", "count_distinct", "sum", "avg", "min", "max", "ratio", "sql"}


def test_rows_values_are_typed(shop, tmp_path):  # noqa: F811
    result = _specs(write_project(tmp_path).parent.parent)
    evaluation = evaluate(result.specs, result.project, periods=4, end=END, environ={URI_ENV: shop})
    values = evaluation.values()
    assert len(values) == 9 * 4
    first = values[0]
    assert (first.spec, first.metric, first.role, first.grain, first.period, first.value) == (
        "corner-shop",
        "weekly_orders",
        "north_star",
        "week",
        dt.date(2026, 10, 19),
        2,
    )
    assert {v.role for v in values} == {"north_star", "input", "counter_metric", "outcome"}


# --- periods ------------------------------------------------------------------

EDGES = [
    "2025-12-31 23:59:59",
    "2026-01-01 00:00:00",
    "2026-03-31 23:59:59",
    "2026-04-01 00:00:00",
    "2026-06-28 12:00:00",
    "2026-06-29 00:00:00",
    "2026-07-05 23:59:59",
    "2026-07-06 00:00:00",
    "2026-09-30 23:59:59",
    "2026-10-01 00:00:00",
    "2026-11-01 10:00:00",
    "2026-11-02 00:00:00",
    "2026-11-08 23:59:59",
    "2026-11-09 00:00:00",
    "2026-11-15 23:59:59",
    "2026-11-16 00:00:00",
]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sql_periods_agree_with_the_python_calendar(backend, tmp_path):
    """Every grain, natively and with the portable CASE, against rows on the edges of periods."""
    uri = write_rows(database(backend, tmp_path, "northstar_test_periods"), [(at, "order", "c1", 1) for at in EDGES])
    result = _specs(write_project(tmp_path).parent.parent)
    end = dt.date(2026, 11, 16)  # a Monday: the week of 2026-11-09 is complete, 11-16 is running
    for grain, count in {"day": 40, "week": 25, "month": 12, "quarter": 5}.items():
        starts = periods.complete_periods(end, grain, count)
        expected = [
            sum(1 for at in EDGES if periods.period_start(dt.date.fromisoformat(at[:10]), grain) == start)
            for start in starts
        ]
        assert sum(expected) > 2, grain
        for native in (True, False):
            evaluation = evaluate(
                result.specs,
                result.project,
                periods=count,
                end=end,
                environ={URI_ENV: uri},
                native=native,
                grain_of=lambda spec, metric, grain=grain: grain,
                select=lambda spec, metric: metric.id == "weekly_orders",
            )
            (series,) = evaluation.series
            assert series.periods == starts
            assert list(series.values) == expected, (grain, native)


def test_the_python_calendar():
    sunday = dt.date(2026, 11, 22)
    assert periods.complete_periods(sunday, "week", 2) == (dt.date(2026, 11, 2), dt.date(2026, 11, 9))
    assert periods.complete_periods(dt.date(2026, 11, 23), "week", 1) == (dt.date(2026, 11, 16),)
    assert periods.complete_periods(sunday, "month", 2) == (dt.date(2026, 9, 1), dt.date(2026, 10, 1))
    assert periods.complete_periods(dt.date(2026, 2, 14), "quarter", 2) == (dt.date(2025, 7, 1), dt.date(2025, 10, 1))
    assert periods.complete_periods(sunday, "day", 1) == (dt.date(2026, 11, 21),)
    assert periods.label(dt.date(2026, 11, 9), "week") == "2026-W46"
    assert periods.label(dt.date(2025, 12, 29), "week") == "2026-W01"
    assert periods.label(dt.date(2026, 10, 1), "quarter") == "2026-Q4"
    assert periods.last_day(dt.date(2026, 2, 1), "month") == dt.date(2026, 2, 28)


# --- the CLI ------------------------------------------------------------------


def _env(uri: str) -> dict:
    return {**os.environ, URI_ENV: uri}


def test_cli_json(shop, tmp_path):  # noqa: F811
    write_project(tmp_path)
    done = run_cli(
        "evaluate", "--periods", "4", "--end", END.isoformat(), "--format", "json", cwd=tmp_path, env=_env(shop)
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert len(rows) == 36
    assert rows[0] == {
        "spec": "corner-shop",
        "metric": "weekly_orders",
        "role": "north_star",
        "grain": "week",
        "period_start": "2026-10-19",
        "value": 2,
    }
    by_metric = {}
    for row in rows:
        by_metric.setdefault(row["metric"], []).append(row["value"])
    assert all(_same(a, e) for m, values in by_metric.items() for a, e in zip(values, EXPECTED[m]))


def test_cli_csv(shop, tmp_path):  # noqa: F811
    write_project(tmp_path)
    done = run_cli(
        "evaluate", "--periods", "4", "--end", END.isoformat(), "--format", "csv", cwd=tmp_path, env=_env(shop)
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(rows) == 36
    spread = [r["value"] for r in rows if r["metric"] == "amount_spread"]
    assert spread == ["26", "", "35", "5"]
    assert {r["period_start"] for r in rows} == {w.isoformat() for w in WEEKS}


def test_cli_table_and_progress(shop, tmp_path):  # noqa: F811
    write_project(tmp_path)
    done = run_cli("evaluate", "--periods", "4", "--end", END.isoformat(), "--progress", cwd=tmp_path, env=_env(shop))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Corner Shop (corner-shop), per week: 4 complete weeks, 2026-10-19 to 2026-11-15"
    assert lines[1].split() == ["metric", "2026-W43", "2026-W44", "2026-W45", "2026-W46"]
    assert lines[2].split() == ["★", "weekly_orders", "2", "0", "3", "2"]
    assert lines[6].split() == ["visit_conversion", "66.7%", "–", "75.0%", "200.0%"]  # a ratio reads as a percent
    progress = done.stderr.strip().splitlines()
    assert len(progress) == 1
    assert progress[0].startswith("· corner-shop: shop (shop_events) per week: 9 metrics, 4 periods in ")
    quiet = run_cli("evaluate", "--end", END.isoformat(), cwd=tmp_path, env=_env(shop))
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_default_window_is_twelve_complete_periods(shop, tmp_path):  # noqa: F811
    write_project(tmp_path)
    done = run_cli("evaluate", "--end", END.isoformat(), "--format", "json", cwd=tmp_path, env=_env(shop))
    rows = [r for r in json.loads(done.stdout) if r["metric"] == "weekly_orders"]
    assert [r["period_start"] for r in rows][-1] == "2026-11-09"
    assert len(rows) == 12 and sum(r["value"] for r in rows) == 8  # the order of 2026-10-18 counts now
