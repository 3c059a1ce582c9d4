"""Periods: the calendar of grains in Python, and the same calendar in SQL.

A value is reported per period (day, week starting on Monday, month,
quarter). Python decides which periods make up a window, so that every
dialect agrees on where a window starts and ends; the database only has to
say which period a row falls in. Each dialect does that its own way
(SQLite's date functions, PostgreSQL's date_trunc); any other database gets
a portable CASE over the window's bounds, which is slower but needs no date
function at all.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

GRAINS = ("day", "week", "month", "quarter")
#: English whatever the locale: reports must read the same everywhere.
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def period_start(day: dt.date, grain: str) -> dt.date:
    """The first day of the period that contains `day`."""
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    raise ValueError(f"unknown grain {grain!r}")


def shift(start: dt.date, grain: str, periods: int) -> dt.date:
    """The start of the period `periods` after (or before, when negative) the one starting on `start`."""
    if grain == "day":
        return start + dt.timedelta(days=periods)
    if grain == "week":
        return start + dt.timedelta(weeks=periods)
    months = {"month": 1, "quarter": 3}[grain] * periods
    index = start.month - 1 + months
    return dt.date(start.year + index // 12, index % 12 + 1, 1)


def last_day(start: dt.date, grain: str) -> dt.date:
    """The last day of the period starting on `start`."""
    return shift(start, grain, 1) - dt.timedelta(days=1)


def complete_periods(end: dt.date, grain: str, count: int) -> tuple[dt.date, ...]:
    """The starts of the `count` complete periods before the one containing `end`, oldest first.

    The period containing `end` is still running (its last day is not over),
    so it is never part of a window: an unfinished week must not read as a drop.
    """
    current = period_start(end, grain)
    return tuple(shift(current, grain, -n) for n in range(count, 0, -1))


def label(start: dt.date, grain: str) -> str:
    """A short name for a period: 2026-11-09, 2026-W46, 2026-11, 2026-Q4."""
    if grain == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if grain == "month":
        return start.strftime("%Y-%m")
    if grain == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return start.isoformat()


def name(start: dt.date, grain: str) -> str:
    """A period as a noun: 2026-11-21, the week of 2026-11-09, November 2026, 2026-Q4."""
    if grain == "week":
        return f"the week of {start.isoformat()}"
    if grain == "month":
        return f"{MONTHS[start.month - 1]} {start.year}"
    return label(start, grain)


def phrase(start: dt.date, grain: str) -> str:
    """A period in a sentence: on 2026-11-21, in the week of 2026-11-09, in November 2026."""
    return f"{'on' if grain == 'day' else 'in'} {name(start, grain)}"


def as_date(value) -> dt.date:
    """A period key as a database returns it (date, datetime or ISO text) as a date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


# --- SQL --------------------------------------------------------------------
#
# A bucket expression maps a row's time column to its period. It is used in a
# subquery and grouped on by its label, so it appears once in the statement.


def _sqlite(column: ColumnElement, grain: str, starts: Sequence[dt.date]) -> ColumnElement:
    # date() understands every text format SQLAlchemy and most loaders write.
    if grain == "day":
        return sa.func.date(column)
    if grain == "week":
        # Back six days, then forward to the next Monday ('weekday 1'), which
        # stays put on a Monday: the Monday on or before the day.
        return sa.func.date(column, sa.literal_column("'-6 days'"), sa.literal_column("'weekday 1'"))
    if grain == "month":
        return sa.func.date(column, sa.literal_column("'start of month'"))
    month = sa.cast(sa.func.strftime(sa.literal_column("'%m'"), column), sa.Integer)
    months_into_quarter = (month - sa.literal_column("1")).self_group().op("%")(sa.literal_column("3"))
    return sa.func.date(
        column,
        sa.literal_column("'start of month'"),
        sa.func.printf(sa.literal_column("'-%d months'"), months_into_quarter),
    )


def _postgresql(column: ColumnElement, grain: str, starts: Sequence[dt.date]) -> ColumnElement:
    # PostgreSQL's weeks are ISO weeks: they start on Monday.
    return sa.cast(sa.func.date_trunc(sa.literal_column(f"'{grain}'"), column), sa.Date)


def generic(column: ColumnElement, grain: str, starts: Sequence[dt.date]) -> ColumnElement:
    """Any SQL database: the index of the window's period the row falls in, by comparison alone."""
    bounds = [*starts, shift(starts[-1], grain, 1)] if starts else []
    whens: list[tuple[Any, Any]] = [
        ((column >= sa.literal(lo, sa.Date)) & (column < sa.literal(hi, sa.Date)), sa.literal_column(str(i)))
        for i, (lo, hi) in enumerate(itertools.pairwise(bounds))
    ]
    return sa.case(*whens) if whens else sa.null()


Bucket = Callable[[ColumnElement, str, Sequence[dt.date]], ColumnElement]
#: Native bucketing by dialect name; anything else uses `generic`.
BUCKETS: dict[str, Bucket] = {"sqlite": _sqlite, "postgresql": _postgresql}


def bucket(dialect_name: str, native: bool = True) -> Bucket:
    return BUCKETS.get(dialect_name, generic) if native else generic


def period_of(value, grain: str, starts: Sequence[dt.date]) -> dt.date | None:
    """The period start a bucket expression's result stands for (generic buckets return an index)."""
    if value is None:
        return None
    if isinstance(value, (int, float, decimal.Decimal)) or (isinstance(value, str) and value.isdigit()):
        index = int(value)
        return starts[index] if 0 <= index < len(starts) else None
    return period_start(as_date(value), grain)
