"""`northstar explain`: what drove the North Star's change, on data built so that the answer is known.

A lemonade stand: visits lead orders by exactly two weeks (orders in week t
are the visits of week t - 2), and every order beyond the 15 that the US and
France place each week comes from Germany, so the last week's change is
Germany's, all of it. A second table moves a ratio's mix without moving any
segment's rate. Checked on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
import sqlalchemy as sa
from helpers import run_cli
from shop import database

from northstar_spec.spec.pipeline import check
from northstar_spec.warehouse import explain, stats
from northstar_spec.warehouse.evaluate import Series

pytestmark = pytest.mark.sqlalchemy

URI_ENV = "NORTHSTAR_TEST_LEMONADE_URI"
START = dt.date(2026, 1, 5)  # a Monday
VISITS = [20, 24, 22, 27, 21, 30, 25, 23, 28, 33, 26, 24, 31, 45, 35, 40]
ORDERS = [20, 20, *VISITS[:-2]]  # two weeks behind the visits
END = START + dt.timedelta(weeks=len(VISITS), days=2)  # the Wednesday after the last week
#: Orders per country each week: the US and France are steady, Germany takes the rest.
STEADY = {"US": 10, "FR": 5}

SPEC = """\
apiVersion: northstar/v1
kind: NorthStar
product:
  id: lemonade
  name: Lemonade Stand
  category: transaction
  value_moment: A thirsty customer gets a cold lemonade.
sources:
  stand:
    database: warehouse
    table: {table}
    time_column: occurred_at
    dimensions: [country, plan]
    unit: customer_id
north_star:
  id: {ns_id}
  name: The North Star
  definition: Lemonades sold in the week.
{ns_body}
  grain: week
  owner: leadership
  leads_revenue_because: Customers who get a lemonade come back for another.
inputs:
  - id: weekly_visits
    name: Visits
    source: stand
    measure: {{aggregate: count}}
    filter: "event_type = 'visit'"
    lever: breadth
    direction: increase
    owner: growth
  - id: refund_requests
    name: Refund requests
    source: stand
    measure: {{aggregate: count}}
    filter: "event_type = 'refund'"
    lever: quality
    direction: decrease
    owner: growth
  - id: lemons_per_order
    name: Lemons per order
    source: stand
    measure: {{aggregate: avg, column: amount}}
    filter: "event_type = 'order'"
    lever: depth
    direction: increase
    owner: growth
counter_metrics:
  - id: weekly_refunds
    name: Refunds
    guards: {ns_id}
    source: stand
    measure: {{aggregate: count}}
    filter: "event_type = 'refund'"
    threshold: {{max: 100}}
    owner: growth
review:
  inputs: {{cadence: weekly, day: wednesday, owner: growth}}
  north_star: {{cadence: monthly, last: 2026-04-01, owner: leadership}}
  revalidation: {{cadence: annually, last: 2026-03-01, owner: leadership}}
"""
COUNT_NS = """\
  source: stand
  measure: {aggregate: count}
  filter: "event_type = 'order'\""""
RATIO_NS = """\
  source: stand
  ratio:
    numerator: {measure: {aggregate: count}, filter: "event_type = 'order'"}
    denominator: {measure: {aggregate: count}, filter: "event_type = 'visit'"}"""

PROJECT = f"""\
apiVersion: northstar/v1
kind: Project
specs: [specs]
teams:
  leadership: {{name: Leadership}}
  growth: {{name: Growth squad}}
databases:
  warehouse: {{uri_env: {URI_ENV}}}
"""


def write_project(folder, table: str, ns_id: str = "weekly_orders", ns_body: str = COUNT_NS) -> None:
    (folder / "specs").mkdir(parents=True, exist_ok=True)
    (folder / "northstar.yaml").write_text(PROJECT)
    (folder / "specs" / "lemonade.yaml").write_text(SPEC.format(table=table, ns_id=ns_id, ns_body=ns_body))


def row(**cells) -> dict:
    """One row of the stand's table (no amount unless given)."""
    return {"amount": None, **cells}


def stand_rows() -> list[dict]:
    rows = []
    for week, (visits, orders) in enumerate(zip(VISITS, ORDERS)):
        monday = dt.datetime.combine(START + dt.timedelta(weeks=week), dt.time(9))
        for i in range(visits):
            at = monday + dt.timedelta(minutes=i)
            rows.append(row(occurred_at=at, event_type="visit", customer_id=f"v{i}", country="US", plan="free"))
        countries = ["US"] * STEADY["US"] + ["FR"] * STEADY["FR"] + ["DE"] * (orders - sum(STEADY.values()))
        for i, country in enumerate(countries):
            at = monday + dt.timedelta(days=2, minutes=i)
            rows.append(
                row(occurred_at=at, event_type="order", customer_id=f"c{i}", country=country, plan="free", amount=2)
            )
        rows.append(row(occurred_at=monday, event_type="refund", customer_id="r", country="US", plan="free"))
    return rows


#: A ratio (orders per visit) whose segments keep their rates while their shares move:
#: pro converts half its visits, free a tenth; pro's share of visits goes from 50 % to 75 %.
MIX = {  # week -> plan -> (visits, orders)
    0: {"pro": (100, 50), "free": (100, 10)},
    1: {"pro": (150, 75), "free": (50, 5)},
}


def mix_rows() -> list[dict]:
    rows = []
    for week, plans in MIX.items():
        monday = dt.datetime.combine(START + dt.timedelta(weeks=week), dt.time(9))
        for plan, (visits, orders) in plans.items():
            for i in range(visits):
                at = monday + dt.timedelta(minutes=i)
                rows.append(row(occurred_at=at, event_type="visit", customer_id=f"{plan}{i}", country="US", plan=plan))
            for i in range(orders):
                at = monday + dt.timedelta(days=1, minutes=i)
                rows.append(row(occurred_at=at, event_type="order", customer_id=f"{plan}{i}", country="US", plan=plan))
    return rows


def write_table(uri: str, table: str, rows: list[dict]) -> None:
    engine = sa.create_engine(uri)
    target = sa.Table(
        table,
        sa.MetaData(),
        sa.Column("occurred_at", sa.DateTime()),
        sa.Column("event_type", sa.String(16)),
        sa.Column("customer_id", sa.String(8)),
        sa.Column("country", sa.String(4)),
        sa.Column("plan", sa.String(8)),
        sa.Column("amount", sa.Integer()),
    )
    try:
        with engine.begin() as conn:
            target.drop(conn, checkfirst=True)
            target.create(conn)
            conn.execute(target.insert(), rows)
    finally:
        engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stand(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("stand")
    uri = database(request.param, folder, "northstar_test_explain")
    write_table(uri, "stand_events", stand_rows())
    write_table(uri, "mix_events", mix_rows())
    return folder, {**os.environ, URI_ENV: uri}


def _explain(folder, env, *args: str) -> dict:
    done = run_cli("explain", "--format", "json", *args, cwd=folder, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    (found,) = json.loads(done.stdout)
    return found


def test_a_change_caused_by_one_country_is_attributed_to_it_exactly(stand, tmp_path):
    _, env = stand
    write_project(tmp_path, "stand_events")
    found = _explain(tmp_path, env, "--end", END.isoformat(), "--history", "16")
    assert (found["before"], found["after"]) == (31, 45)
    by_country = next(b for b in found["breakdowns"] if b["dimension"] == "country")
    assert by_country["method"] == "additive"
    germany, *others = by_country["segments"]
    assert (germany["value"], germany["before"], germany["after"]) == ("DE", 16, 30)
    assert germany["contribution"] == 14 and germany["share"] == pytest.approx(1.0)
    assert {s["value"]: s["contribution"] for s in others} == {"FR": 0, "US": 0}
    assert by_country["not_attributed"] == 0
    assert "By country, DE contributed +14 (100.0% of the change)." in found["summary"]


def test_an_input_that_leads_by_two_periods_is_named_as_the_driver(stand, tmp_path):
    _, env = stand
    write_project(tmp_path, "stand_events")
    found = _explain(tmp_path, env, "--end", END.isoformat(), "--history", "16")
    assert found["driver"] == "weekly_visits"
    visits = next(x for x in found["inputs"] if x["id"] == "weekly_visits")
    assert visits["lag"] == 2 and visits["correlation"]["r"] == pytest.approx(1.0)
    assert visits["correlation"]["n"] == 12  # 15 changes, two lost to the lag, the explained one left out
    assert visits["change"] == pytest.approx(45 / 31 - 1)  # the visits' move two weeks before
    assert visits["expected"] == pytest.approx(45 / 31 - 1)  # is exactly the North Star's move now
    assert not any(x["explains"] for x in found["inputs"] if x["id"] != "weekly_visits")


def test_a_mix_shift_in_a_ratio_is_reported_as_mix_not_rate(stand, tmp_path):
    _, env = stand
    write_project(tmp_path, "mix_events", ns_id="orders_per_visit", ns_body=RATIO_NS)
    end = START + dt.timedelta(weeks=2, days=2)
    found = _explain(tmp_path, env, "--end", end.isoformat(), "--history", "3")
    assert (found["before"], found["after"]) == (pytest.approx(0.3), pytest.approx(0.4))
    by_plan = next(b for b in found["breakdowns"] if b["dimension"] == "plan")
    assert by_plan["method"] == "mix and rate"
    assert by_plan["rate"] == pytest.approx(0.0, abs=1e-12)
    assert by_plan["mix"] == pytest.approx(0.1)
    segments = {s["value"]: s for s in by_plan["segments"]}
    assert segments["pro"]["mix"] == pytest.approx(0.5 * 0.25) and segments["free"]["mix"] == pytest.approx(-0.025)
    assert found["move"]["verdict"] == "not enough data"
    assert "the move is mostly mix" in found["summary"]


def test_explain_text_and_markdown(stand, tmp_path):
    _, env = stand
    write_project(tmp_path, "stand_events")
    args = ("explain", "--end", END.isoformat(), "--history", "16")
    text = run_cli(*args, cwd=tmp_path, env=env)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == (
        "Lemonade Stand (lemonade): weekly_orders, the week of 2026-04-20 against the week of 2026-04-13 "
        "(16 weeks of history)"
    )
    assert lines[1].startswith(
        "The North Star (weekly_orders) moved from 31 to 45 (+45.2%) in the week of 2026-04-20: "
    )
    assert "  By country: DE +14 (100.0% of the change), FR 0 (0.0% of the change), US 0 (0.0% of the change)." in lines
    assert lines[-1] == "Driver: weekly_visits"
    markdown = run_cli(*args, "--format", "markdown", "--top", "1", cwd=tmp_path, env=env)
    assert markdown.returncode == 0, markdown.stderr
    assert "### By country (additive)" in markdown.stdout
    assert "| DE | 16 | 30 | +14 | 100.0% |" in markdown.stdout
    assert "| FR |" not in markdown.stdout  # --top 1
    assert (
        "  - refund_requests: no correlation: one of the series never changed (n = 14); "
        "its last move: normal variation (z +0.0)" in lines
    )


# --- the arithmetic on series and segments built by hand -------------------------


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spec")
    write_project(folder, "stand_events")
    (folder / "northstar.yaml").write_text(PROJECT)
    result = check([], project_file=folder / "northstar.yaml", today=END)
    assert not result.failed(), result
    return result.specs[0]


def test_a_seasonal_monday_bump_is_normal_variation():
    """A daily metric with Monday 40 % above the rest of the week: this Monday's jump from Sunday is no news."""
    week = [140, 100, 101, 99, 100, 98, 102]
    values = [v + (i % 3) for i, v in enumerate(week * 9)]  # nine weeks, a little noise
    monday = values[:-6]  # ends on a Monday
    found = stats.move(monday, "day")
    assert found.verdict == "normal variation", found
    assert found.change == pytest.approx(monday[-1] / monday[-8] - 1)
    # The same jump on a Wednesday is news.
    wednesday = values[:-4]
    wednesday[-1] = 140
    assert stats.move(wednesday, "day").verdict == "significant"


def test_a_short_history_is_not_enough_data_for_a_move():
    assert stats.move([10, 12, 11, 30], "week").verdict == "not enough data"


def test_mix_and_rate_add_up_to_the_change_exactly():
    found = explain.split_ratio("plan", "stand", {"a": (10, 40, 30, 60), "b": (5, 60, 2, 20), "c": (0, 0, 4, 20)})
    total = sum(s.contribution for s in found.segments)
    assert total == pytest.approx(36 / 100 - 15 / 100)
    assert (found.rate or 0) + (found.mix or 0) == pytest.approx(found.delta)


def test_the_driver_is_the_input_whose_lead_explains_the_move(spec):
    def series(metric_id, values):
        metric = next(m for m in spec.metrics if m.id == metric_id)
        weeks = tuple(START + dt.timedelta(weeks=i) for i in range(len(values)))
        return Series(spec, metric, "week", weeks, tuple(values))

    ns = series("weekly_orders", ORDERS)
    visits = series("weekly_visits", VISITS)
    noise = series("refund_requests", [3, 5, 4, 4, 6, 3, 5, 4, 6, 5, 3, 4, 5, 4, 6, 3])
    found = explain.analyse(spec, ns, [visits, noise], [], max_lag=3)
    assert found.driver is not None and found.driver.metric.id == "weekly_visits" and found.driver.lag == 2
    assert not found.inputs[1].explains


# --- the demo warehouse ------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_demo_digest_names_what_drove_the_week(backend, tmp_path):
    """The demo data takes Germany's teams out of Teamspace's last week: the digest puts the dip on Germany.

    (At the tests' scale, a tenth of the demo's, the dip is within the noise of so few teams; at full
    scale the digest also calls it significant, as the README shows.)"""
    from helpers import ROOT, TODAY
    from warehouses import demo_warehouse

    uri = demo_warehouse(database(backend, tmp_path, "northstar_test_explain_demo"), end=TODAY)
    env = {**os.environ, "NORTHSTAR_WAREHOUSE_URI": uri}
    digest = run_cli("digest", "--today", TODAY.isoformat(), "specs/teamspace.yaml", cwd=ROOT, env=env)
    assert digest.returncode == 0, digest.stderr
    drove = digest.stdout.split("## What drove the change\n\n", 1)[1].split("\n", 1)[0]
    assert "By country, DE contributed -" in drove, drove
    done = run_cli("explain", "--end", TODAY.isoformat(), "--format", "json", "specs/teamspace.yaml", cwd=ROOT, env=env)
    (found,) = json.loads(done.stdout)
    for breakdown in found["breakdowns"]:  # a team is in one country and one plan: the segments add up exactly
        assert breakdown["not_attributed"] == 0
        assert sum(s["contribution"] for s in breakdown["segments"]) == found["after"] - found["before"]


def test_a_dimension_the_table_lacks_is_a_located_error(stand, tmp_path):
    _, env = stand
    write_project(tmp_path, "stand_events")
    spec = tmp_path / "specs" / "lemonade.yaml"
    spec.write_text(spec.read_text().replace("dimensions: [country, plan]", "dimensions: [country, region]"))
    done = run_cli("explain", "--end", END.isoformat(), cwd=tmp_path, env=env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("northstar: specs/lemonade.yaml:13:27: the breakdown of 'weekly_orders' by 'region'")
