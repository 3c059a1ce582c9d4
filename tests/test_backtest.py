"""`northstar backtest`: lags and red flags on series built by hand, then the
whole command on SQLite and PostgreSQL, its formats and its PNG."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import struct
import sys

import pytest
from helpers import run_cli
from shop import SPEC, URI_ENV, database, write_project, write_rows

from northstar_spec.spec.pipeline import check
from northstar_spec.warehouse import backtest
from northstar_spec.warehouse.evaluate import Series

# SQL through SQLAlchemy: runs on 2.x (CLI virtualenv) and on 1.4 (Superset's).
pytestmark = pytest.mark.sqlalchemy

START = dt.date(2026, 1, 5)  # a Monday


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spec")
    write_project(folder)
    result = check([], project_file=folder / "northstar.yaml", today=dt.date(2026, 11, 18))
    assert not result.failed()
    return result.specs[0]


def series(spec, metric_id: str, values) -> Series:
    metric = next(m for m in spec.metrics_and_outcome if m.id == metric_id)
    weeks = tuple(START + dt.timedelta(weeks=i) for i in range(len(values)))
    return Series(spec, metric, "week", weeks, tuple(values))


#: An input by hand, and a North Star that follows it two weeks later.
LEVER = [6, 8, 7, 9, 6, 10, 8, 7, 9, 11, 8, 7, 10, 9]
FOLLOWS = [7, 7, *LEVER[:-2]]


def test_an_input_that_leads_by_two_periods_is_found_at_lag_2(spec):
    ns = series(spec, "weekly_orders", FOLLOWS)
    found = backtest.lead(series(spec, "weekly_visitors", LEVER), ns, max_lag=4)
    assert [c.lag for c in found.correlations] == [0, 1, 2, 3, 4]
    assert found.best.lag == 2 and found.best.r == pytest.approx(1.0)
    assert all(c.r < 0.5 for c in found.correlations if c.lag != 2)


def test_an_input_that_should_decrease_is_inverted(spec):
    spread = [4, 5, 3, 6, 4, 8, 5, 4, 6, 5]
    ns = series(spec, "weekly_orders", [10, *(100 / v for v in spread[:-1])])  # falls one week after spread rises
    found = backtest.lead(series(spec, "amount_spread", spread), ns, max_lag=3, invert=True)
    assert found.inverted and found.best.lag == 1 and found.best.r > 0.9


def test_a_spike_followed_by_a_drop_is_a_red_flag(spec):
    ns = series(spec, "weekly_orders", [100, 102, 101, 104, 103, 160, 110, 104, 106, 105])
    (flag,) = backtest.spikes(ns, backtest.Thresholds())
    assert (flag.kind, flag.metric, flag.period) == ("spike-then-drop", "weekly_orders", dt.date(2026, 2, 9))
    assert flag.message == ("weekly_orders jumped 56.1% in the week of 2026-02-09, then fell 31.2% within 1 week")


def test_a_rise_that_stays_or_a_noisy_series_is_no_spike(spec):
    steps = series(spec, "weekly_orders", [100, 102, 101, 104, 103, 160, 162, 158, 165, 161])
    assert backtest.spikes(steps, backtest.Thresholds()) == []
    noisy = series(spec, "visit_conversion", [0.2, 0.4, 0.1, 0.35, 0.15, 0.45, 0.2, 0.3, 0.12, 0.4])
    assert backtest.spikes(noisy, backtest.Thresholds()) == []


def test_an_input_that_moved_while_the_north_star_did_not_is_a_red_flag(spec):
    ns = series(spec, "weekly_orders", [100, 101, 99, 100, 101, 100, 99, 100])
    moved = series(spec, "weekly_visitors", [10, 10, 11, 12, 13, 14, 15, 16])
    still = series(spec, "order_value", [50, 51, 50, 49, 50, 51, 50, 50])
    result = backtest.analyse(spec, ns, [moved, still], None, max_lag=2)
    assert [(f.kind, f.metric) for f in result.red_flags] == [("input-moved-north-star-flat", "weekly_visitors")]
    assert result.red_flags[0].message == (
        "weekly_visitors rose +55.0% (first 2 weeks of the window against the "
        "last 2 weeks) while the North Star changed -1.0%"
    )
    assert result.notes == ("no outcome declared: add `outcome:` to check that the North Star leads it",)


def test_a_north_star_that_leads_its_outcome_raises_no_flag(spec):
    ns = series(spec, "weekly_orders", FOLLOWS)
    outcome = series(spec, "paying_customers", [7, 7, *FOLLOWS[:-2]])
    result = backtest.analyse(spec, ns, [], outcome, max_lag=4)
    assert result.outcome_lead.best.lag == 2
    assert result.red_flags == ()


def test_a_north_star_that_moves_with_its_outcome_does_not_lead_it(spec):
    ns = series(spec, "weekly_orders", FOLLOWS)
    together = series(spec, "paying_customers", [2 * v for v in FOLLOWS])
    (flag,) = backtest.analyse(spec, ns, [], together, max_lag=4).red_flags
    assert flag.kind == "north-star-does-not-lead"
    assert flag.message == (
        "weekly_orders moves with paying_customers instead of ahead of it (best lag 0 weeks, r = 1.00)"
    )


def test_a_north_star_that_no_longer_leads_its_outcome(spec):
    ns = series(spec, "weekly_orders", FOLLOWS)
    earlier = series(spec, "paying_customers", LEVER)  # moves two weeks *before* the North Star
    result = backtest.analyse(spec, ns, [], earlier, max_lag=3)
    (flag,) = result.red_flags
    assert flag.kind == "north-star-does-not-lead"
    assert flag.message == (
        "weekly_orders does not lead paying_customers: its best correlation (r = 0.43 at lag 2) is below 0.5"
    )


def test_a_metric_that_starts_mid_window_is_not_zero_filled(spec):
    """A product launched in week 22 of 52: the weeks before it are no data, not zero."""
    launched = [0] * 22 + [10 + (i % 5) for i in range(30)]
    ns = series(spec, "weekly_orders", launched)
    result = backtest.analyse(spec, ns, [], series(spec, "paying_customers", launched), max_lag=2)
    assert result.north_star.values[:22] == (None,) * 22
    assert result.north_star.values[22] == 10
    assert result.outcome_lead.correlations[0].pairs == 29  # 30 periods with data: 29 changes
    assert result.input_leads == () and not any(f.kind == "input-moved-north-star-flat" for f in result.red_flags)


def test_a_short_series_gets_not_enough_data_never_a_verdict(spec):
    """Five weeks of data in a 26-week window: no lead, no "does not lead" either."""
    short = [0] * 21 + [10, 14, 11, 15, 12]
    ns = series(spec, "weekly_orders", short)
    outcome = series(spec, "paying_customers", [0] * 21 + [3, 9, 4, 8, 5])
    result = backtest.analyse(spec, ns, [], outcome, max_lag=2)
    assert result.red_flags == ()
    assert result.notes == (
        "not enough data to say whether weekly_orders leads paying_customers: 4 pairs of changes, at least 8 needed",
    )
    assert backtest._verdict(result).startswith(
        "North Star weekly_orders -> outcome paying_customers: not enough data (r = "
    )
    best = json.loads(backtest.as_json([result]))[0]["outcome"]
    assert best["enough_data"] is False and best["best_n"] == 4


def test_every_correlation_has_its_n_interval_and_p_value():
    from northstar_spec.warehouse import stats

    found = stats.correlate([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [2, 1, 4, 3, 6, 5, 8, 7, 10, 9])
    assert found.n == 10 and found.r == pytest.approx(31 / 33)  # swapped neighbours: 1 - 6 * 10 / (10 * 99)
    # Fisher's z: tanh(atanh(31 / 33) -+ 1.96 / sqrt(10 - 3))
    assert (found.low, found.high) == (pytest.approx(0.7582, abs=1e-4), pytest.approx(0.9859, abs=1e-4))
    assert found.p == pytest.approx(2 * stats.normal_sf(math.atanh(found.r) * math.sqrt(7)))
    assert found.significant()
    few = stats.correlate([1, 2, 3, 4, 5], [2, 1, 4, 3, 6])
    assert few.n == 5 and not few.enough and few.text().endswith("not enough data (at least 8 pairs)")


def test_correlation_needs_enough_pairs_and_some_variance():
    assert backtest.correlation([1, 2, 3], [1, 2, 3]) == (None, 3)
    assert backtest.correlation([1, 2, 3, 4], [5, 5, 5, 5]) == (None, 4)
    assert backtest.correlation([1, None, 2, 3, 4], [2, 9, 4, 6, 8]) == (pytest.approx(1.0), 4)


# --- the command on a real database ----------------------------------------------

#: The outcome becomes the 'paid' events: two weeks behind the North Star.
BACKTEST_SPEC = SPEC.replace(
    """  measure: {{aggregate: count_distinct, column: customer_id}}
  filter: "event_type = 'order'"
review:""",
    """  measure: {{aggregate: count}}
  filter: "event_type = 'paid'"
review:""",
)
PAID = [7, 7, *FOLLOWS[:-2]]
END = START + dt.timedelta(weeks=len(LEVER), days=2)  # the Wednesday after the last week


def history_rows() -> list[tuple]:
    rows = []
    for week, (visits, orders, paid) in enumerate(zip(LEVER, FOLLOWS, PAID)):
        monday = dt.datetime.combine(START + dt.timedelta(weeks=week), dt.time(10))
        rows += [((monday + dt.timedelta(minutes=i)).isoformat(" "), "visit", f"v{i}", None) for i in range(visits)]
        rows += [
            ((monday + dt.timedelta(hours=1, minutes=i)).isoformat(" "), "order", f"c{i}", 10) for i in range(orders)
        ]
        rows += [
            ((monday + dt.timedelta(days=6, hours=13, minutes=i)).isoformat(" "), "paid", f"c{i}", None)
            for i in range(paid)
        ]
    return rows


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def history(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("history")
    uri = write_rows(database(request.param, folder, "northstar_test_backtest"), history_rows())
    write_project(folder, spec=BACKTEST_SPEC)
    return folder, {**os.environ, URI_ENV: uri}


def test_backtest_finds_the_lags_in_the_warehouse(history):
    folder, env = history
    done = run_cli(
        "backtest",
        "--periods",
        str(len(LEVER)),
        "--end",
        END.isoformat(),
        "--max-lag",
        "3",
        "--format",
        "json",
        cwd=folder,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (found,) = json.loads(done.stdout)
    assert found["series"]["weekly_visitors"] == LEVER
    assert found["series"]["weekly_orders"] == FOLLOWS
    assert found["series"]["paying_customers"] == PAID
    leads = {lead["driver"]: lead for lead in found["inputs"]}
    assert leads["weekly_visitors"]["best_lag"] == 2
    assert leads["weekly_visitors"]["best_r"] == pytest.approx(1.0)
    assert leads["order_value"]["best_lag"] == 0  # ten per order: it moves with the North Star
    assert leads["average_order"]["best_lag"] is None  # always 10: nothing to correlate
    assert leads["amount_spread"]["inverted"] is True
    assert (found["outcome"]["best_lag"], found["outcome"]["best_r"]) == (2, pytest.approx(1.0))
    assert found["red_flags"] == []


def test_backtest_text_and_markdown(history):
    folder, env = history
    args = ("backtest", "--periods", str(len(LEVER)), "--end", END.isoformat(), "--max-lag", "3")
    text = run_cli(*args, cwd=folder, env=env)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == "Corner Shop (corner-shop): 14 weeks, 2026-01-05 to 2026-04-12; lags 0 to 3 weeks"
    assert lines[1] == (
        "North Star weekly_orders -> outcome paying_customers: leads by 2 weeks "
        "(r = 1.00, n = 11, 95% CI 1.00 to 1.00, p < 0.001)"
    )
    visitors = next(line for line in lines if line.startswith("weekly_visitors"))
    assert visitors.endswith("lag 2 (1.00, n = 11, p < 0.001)")
    assert lines[-1] == "No red flags."
    markdown = run_cli(*args, "--format", "markdown", cwd=folder, env=env)
    assert markdown.stdout.startswith("## Backtest: Corner Shop (corner-shop): 14 weeks")
    assert "| weekly_visitors ↑ → weekly_orders | " in markdown.stdout


def test_backtest_red_flags_exit_1(history, tmp_path):
    _, env = history
    # An "outcome" that moves before the North Star (the visits it follows) is not led by it.
    write_project(
        tmp_path,
        spec=BACKTEST_SPEC.replace(
            """filter: "event_type = 'paid'"
review:""",
            """filter: "event_type = 'visit'"
review:""",
        ),
    )
    done = run_cli(
        "backtest", "--periods", str(len(LEVER)), "--end", END.isoformat(), "--max-lag", "3", cwd=tmp_path, env=env
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines()[-2:] == [
        "Red flags (1):",
        "  ! north-star-does-not-lead: weekly_orders does not lead paying_customers: its best correlation "
        "(r = 0.43 at lag 2) is below 0.5",
    ]


def test_backtest_png(history, tmp_path):
    folder, env = history
    png = tmp_path / "backtest.png"
    done = run_cli(
        "backtest", "--periods", str(len(LEVER)), "--end", END.isoformat(), "--png", png, cwd=folder, env=env
    )
    assert done.returncode == 0, done.stderr
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1100, 360)
    assert 10_000 < len(data) < 1_000_000
    assert data.endswith(b"IEND\xaeB`\x82")


def test_backtest_png_without_matplotlib_exits_2(history, tmp_path, monkeypatch):
    folder, env = history
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now raises ImportError
    done = run_cli("backtest", "--png", tmp_path / "x.png", cwd=folder, env=env)
    assert done.returncode == 2
    assert done.stderr.strip() == "northstar: --png needs matplotlib: pip install 'northstar-spec[plot]'"
    assert not (tmp_path / "x.png").exists()


def test_the_demo_data_north_stars_lead_their_outcomes_by_two_weeks(tmp_path):
    """The demo warehouse is designed so that every example North Star leads its outcome by two weeks."""
    from helpers import ROOT, TODAY
    from warehouses import demo_warehouse

    uri = demo_warehouse(f"sqlite:///{tmp_path / 'warehouse.db'}", end=TODAY)
    done = run_cli(
        "backtest",
        "--end",
        TODAY.isoformat(),
        "--format",
        "json",
        cwd=ROOT,
        env={**os.environ, "NORTHSTAR_WAREHOUSE_URI": uri},
    )
    assert done.returncode in (0, 1), done.stderr
    found = {b["spec"]: b["outcome"] for b in json.loads(done.stdout)}
    assert sorted(found) == ["acme-invoicing", "staybnb", "teamspace", "tunewave"]
    assert {spec: outcome["best_lag"] for spec, outcome in found.items()} == dict.fromkeys(found, 2)
