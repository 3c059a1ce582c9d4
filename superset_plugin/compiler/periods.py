"""Periods as Superset sees them: time grains, complete-period time ranges, and
the cut-off that keeps the unfinished current period off every chart.

Two facts drive this module (see shared/reference/superset-6.1.md §8): on
SQLite Superset's `P1W` grain starts weeks on Sunday, and a native time
filter replaces a chart's own time range. So weeks use a Monday-anchored
grain on SQLite, and every chart also carries a SQL cut-off at the start of
the current period, which no time filter can replace: an incomplete period
is never shown as a drop.
"""

from __future__ import annotations

#: Superset time grain expressions, by spec grain and dialect.
_GRAINS = {
    "day": "P1D",
    "week": "P1W",
    "month": "P1M",
    "quarter": "P3M",
}
_SQLITE_MONDAY_WEEK = "1969-12-29T00:00:00Z/P1W"

ADJECTIVE = {"day": "daily", "week": "weekly", "month": "monthly", "quarter": "quarterly"}
COMPARE_SUFFIX = {
    "day": "vs previous day",
    "week": "vs previous week",
    "month": "vs previous month",
    "quarter": "vs previous quarter",
}


def time_grain(grain: str, dialect: str) -> str:
    if grain == "week" and dialect == "sqlite":
        return _SQLITE_MONDAY_WEEK
    return _GRAINS[grain]


def complete_periods(grain: str, count: int) -> str:
    """A Superset time range of the last `count` complete periods, ending where the current one starts."""
    if grain == "day":
        return f'DATEADD(DATETIME("today"), -{count}, day) : DATETIME("today")'
    start = f'DATETRUNC(DATETIME("today"), {grain})'
    return f"DATEADD({start}, -{count}, {grain}) : {start}"


def current_period_start_sql(grain: str, dialect: str) -> str:
    """SQL for the first instant of the current period, in the database's own clock."""
    if dialect == "sqlite":
        return {
            "day": "DATE('now')",
            # 'weekday 0' moves to the coming Sunday (today if Sunday); 6 days back is Monday.
            "week": "DATE('now', 'weekday 0', '-6 days')",
            "month": "DATE('now', 'start of month')",
            "quarter": (
                "DATE('now', 'start of month', '-' || ((CAST(STRFTIME('%m', 'now') AS INTEGER) - 1) % 3) || ' months')"
            ),
        }[grain]
    if dialect == "mysql":
        return {
            "day": "CURDATE()",
            "week": "DATE_SUB(CURDATE(), INTERVAL WEEKDAY(CURDATE()) DAY)",
            "month": "DATE_FORMAT(CURDATE(), '%Y-%m-01')",
            "quarter": "MAKEDATE(YEAR(CURDATE()), 1) + INTERVAL QUARTER(CURDATE()) - 1 QUARTER",
        }[grain]
    # PostgreSQL and the many engines that share its DATE_TRUNC (Redshift,
    # Snowflake, DuckDB, Trino); weeks start on Monday in all of them.
    return f"DATE_TRUNC('{grain}', CURRENT_DATE)"


def complete_periods_only(time_column: str, grain: str, dialect: str) -> str:
    """The WHERE clause every chart carries: rows before the current, unfinished period."""
    return f"{time_column} < {current_period_start_sql(grain, dialect)}"


def previous_period_start_sql(grain: str, dialect: str) -> str:
    """SQL for the first instant of the last complete period: one period before the current one starts."""
    current = current_period_start_sql(grain, dialect)
    if dialect == "sqlite":
        step = {"day": "-1 day", "week": "-7 days", "month": "-1 month", "quarter": "-3 months"}[grain]
        return f"DATE({current}, '{step}')"
    if dialect == "mysql":
        return f"DATE_SUB({current}, INTERVAL 1 {grain.upper()})"
    return f"{current} - INTERVAL '{'3 month' if grain == 'quarter' else '1 ' + grain}'"
