"""A corner shop's warehouse, written by hand, for the tests of evaluate and its readers.

Every value the tests assert can be worked out from ROWS with pencil and
paper (see EXPECTED). The rows sit on the edges that matter: Monday 00:00:00
and Sunday 23:59:59, a week without a single row, a row the day before the
window and rows in the running week, both of which must be left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pytest
import sqlalchemy as sa
from warehouses import postgres_uri

URI_ENV = "NORTHSTAR_TEST_SHOP_URI"
#: A Wednesday: the running week (from Monday 2026-11-16) is left out.
END = dt.date(2026, 11, 18)
WEEKS = (dt.date(2026, 10, 19), dt.date(2026, 10, 26), dt.date(2026, 11, 2), dt.date(2026, 11, 9))


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


ROWS = [
    # The Sunday before the window: left out.
    ("2026-10-18 23:59:59", "order", "c1", 100),
    # Week of 2026-10-19.
    ("2026-10-19 00:00:00", "visit", "c1", None),
    ("2026-10-19 09:00:00", "visit", "c2", None),
    ("2026-10-20 10:00:00", "visit", "c1", None),
    ("2026-10-21 11:00:00", "order", "c1", 10),
    ("2026-10-22 12:00:00", "refund", "c1", 4),
    ("2026-10-25 23:59:59", "order", "c2", 30),
    # Week of 2026-10-26: not a single row.
    # Week of 2026-11-02.
    ("2026-11-02 00:00:00", "visit", "c1", None),
    ("2026-11-03 08:00:00", "visit", "c2", None),
    ("2026-11-04 08:00:00", "visit", "c3", None),
    ("2026-11-05 08:00:00", "visit", "c3", None),
    ("2026-11-03 09:00:00", "order", "c1", 5),
    ("2026-11-04 09:00:00", "order", "c2", 15),
    ("2026-11-05 09:00:00", "order", "c3", 40),
    ("2026-11-06 10:00:00", "refund", "c2", 15),
    # Week of 2026-11-09.
    ("2026-11-09 07:00:00", "visit", "c1", None),
    ("2026-11-10 09:00:00", "order", "c1", 8),
    ("2026-11-12 09:00:00", "order", "c1", 12),
    ("2026-11-13 10:00:00", "refund", "c1", 7),
    ("2026-11-15 23:59:59", "refund", "c3", 9),
    # The running week: left out.
    ("2026-11-16 00:00:00", "order", "c9", 1000),
    ("2026-11-17 10:00:00", "visit", "c9", None),
]

#: Per week of WEEKS, worked out by hand from ROWS. None: the period has no value.
EXPECTED = {
    "weekly_orders": [2, 0, 3, 2],  # count
    "weekly_visitors": [2, 0, 3, 1],  # count_distinct
    "order_value": [40, None, 60, 20],  # sum
    "average_order": [20, None, 20, 10],  # avg
    "visit_conversion": [2 / 3, None, 3 / 4, 2 / 1],  # ratio: orders / visits
    "amount_spread": [26, None, 35, 5],  # raw SQL: MAX(amount) - MIN(amount) over every row
    "largest_refund": [4, None, 15, 9],  # max
    "smallest_order": [10, None, 5, 8],  # min
    "paying_customers": [2, 0, 3, 1],  # the outcome: count_distinct
}

SPEC = """\
# yaml-language-server: $schema=../schemas/northstar.schema.json
apiVersion: northstar/v1
kind: NorthStar
product:
  id: corner-shop
  name: Corner Shop
  category: transaction
  value_moment: A customer receives the order they placed.
sources:
  shop:
    database: warehouse
    table: {table}
    time_column: occurred_at
north_star:
  id: weekly_orders
  name: Orders per week
  definition: Orders that customers placed in the week.
  source: shop
  measure: {{aggregate: count}}
  filter: "event_type = 'order'"
  grain: week
  target: {{value: 4, by: 2027-06-30}}
  owner: leadership
  leads_revenue_because: Customers whose orders arrive come back and order again.
inputs:
  - id: weekly_visitors
    name: Customers who came by
    source: shop
    measure: {{aggregate: count_distinct, column: customer_id}}
    filter: "event_type = 'visit'"
    lever: breadth
    direction: increase
    owner: growth
  - id: order_value
    name: Order value
    source: shop
    measure: {{aggregate: sum, column: amount}}
    filter: "event_type = 'order'"
    lever: depth
    direction: increase
    owner: sales
  - id: average_order
    name: Average order
    source: shop
    measure: {{aggregate: avg, column: {average_column}}}
    filter: "event_type = 'order'"
    lever: depth
    direction: increase
    owner: sales
  - id: visit_conversion
    name: Orders per visit
    source: shop
    ratio:
      numerator: {{measure: {{aggregate: count}}, filter: "event_type = 'order'"}}
      denominator: {{measure: {{aggregate: count}}, filter: "event_type = 'visit'"}}
    lever: efficiency
    direction: increase
    owner: growth
  - id: amount_spread
    name: Spread of amounts
    source: shop
    sql: "{spread_sql}"
    lever: quality
    direction: decrease
    owner: sales
counter_metrics:
  - id: largest_refund
    name: Largest refund
    guards: weekly_orders
    source: shop
    measure: {{aggregate: max, column: amount}}
    filter: "event_type = 'refund'"
    threshold: {{max: 10}}
    owner: sales
  - id: smallest_order
    name: Smallest order
    guards: average_order
    source: shop
    measure: {{aggregate: min, column: amount}}
    filter: "event_type = 'order'"
    threshold: {{min: 7}}
    owner: growth
outcome:
  id: paying_customers
  name: Paying customers
  source: shop
  measure: {{aggregate: count_distinct, column: customer_id}}
  filter: "event_type = 'order'"
review:
  inputs: {{cadence: weekly, day: wednesday, owner: growth}}
  north_star: {{cadence: monthly, last: 2026-10-20, owner: leadership}}
  revalidation: {{cadence: annually, last: 2025-11-01, owner: leadership}}
"""

PROJECT = f"""\
apiVersion: northstar/v1
kind: Project
specs: [specs]
teams:
  leadership: {{name: Leadership}}
  growth: {{name: Growth squad}}
  sales: {{name: Sales squad}}
databases:
  warehouse: {{uri_env: {URI_ENV}}}
"""


def write_project(
    folder: Path,
    *,
    table: str = "shop_events",
    average_column: str = "amount",
    spread_sql: str = "MAX(amount) - MIN(amount)",
    spec: str = SPEC,
) -> Path:
    """northstar.yaml and specs/corner-shop.yaml in `folder`; returns the spec file."""
    (folder / "specs").mkdir(parents=True, exist_ok=True)
    (folder / "northstar.yaml").write_text(PROJECT)
    path = folder / "specs" / "corner-shop.yaml"
    path.write_text(spec.format(table=table, average_column=average_column, spread_sql=spread_sql))
    return path


def write_rows(uri: str, rows: Sequence[tuple] = ROWS, table: str = "shop_events") -> str:
    engine = sa.create_engine(uri)
    metadata = sa.MetaData()
    target = sa.Table(
        table,
        metadata,
        sa.Column("occurred_at", sa.DateTime()),
        sa.Column("event_type", sa.String(16)),
        sa.Column("customer_id", sa.String(8)),
        sa.Column("amount", sa.Integer()),
    )
    try:
        with engine.begin() as conn:
            target.drop(conn, checkfirst=True)
            target.create(conn)
            conn.execute(
                target.insert(),
                [
                    {"occurred_at": _at(at), "event_type": kind, "customer_id": customer, "amount": amount}
                    for at, kind, customer, amount in rows
                ],
            )
    finally:
        engine.dispose()
    return uri


def database(kind: str, folder: Path, name: str) -> str:
    """An empty database: a SQLite file in `folder`, or a fresh PostgreSQL database (failing without a server)."""
    if kind == "sqlite":
        return f"sqlite:///{folder / (name + '.db')}"
    return postgres_uri(f"{name}_sa{sa.__version__.split('.')[0]}")


BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="module", params=BACKENDS)
def shop(request, tmp_path_factory) -> str:
    """The shop's warehouse on SQLite and on PostgreSQL: its URI."""
    return write_rows(database(request.param, tmp_path_factory.mktemp("shop"), "northstar_test_shop"))
