"""Expected metric values computed independently of the compiler.

The compiler puts a metric's filter inside its aggregate and lets Superset
bucket periods; the oracle does neither: one plain query per metric and
week, with the filter in WHERE and the week's bounds computed in Python. A
shared mistake would have to be made twice, in two different ways.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from northstar_spec.spec.model import Measure, Metric, Source

AGGREGATES = {
    "sum": "SUM({})",
    "avg": "AVG({})",
    "min": "MIN({})",
    "max": "MAX({})",
    "count": "COUNT({})",
    "count_distinct": "COUNT(DISTINCT {})",
}


def _measure_value(
    conn, source: Source, measure: Measure, filters: list[str], start: dt.datetime, end: dt.datetime
) -> float | None:
    expression = AGGREGATES[measure.aggregate].format(measure.column or "*")
    where = " AND ".join(
        [f"{source.time_column} >= :start", f"{source.time_column} < :end", *(f"({f})" for f in filters if f)]
    )
    sql = f"SELECT {expression} FROM {source.table} WHERE {where}"
    return conn.execute(sa.text(sql), {"start": start, "end": end}).scalar()


def value(conn, source: Source, metric: Metric, start: dt.date, end: dt.date) -> float | None:
    """The metric over [start, end), as a plain SQL query."""
    lo = dt.datetime.combine(start, dt.time())
    hi = dt.datetime.combine(end, dt.time())
    if metric.measure is not None:
        return _measure_value(conn, source, metric.measure, [metric.filter], lo, hi)
    if metric.ratio is not None:
        numerator = _measure_value(
            conn, source, metric.ratio.numerator.measure, [metric.filter, metric.ratio.numerator.filter], lo, hi
        )
        denominator = _measure_value(
            conn, source, metric.ratio.denominator.measure, [metric.filter, metric.ratio.denominator.filter], lo, hi
        )
        return None if not denominator else (numerator or 0) / denominator
    sql = (
        f"SELECT {metric.sql} FROM {source.table} WHERE {source.time_column} >= :start AND {source.time_column} < :end"
    )
    return conn.execute(sa.text(sql), {"start": lo, "end": hi}).scalar()


def same(actual, expected, tolerance: float = 1e-9) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    return abs(float(actual) - float(expected)) <= tolerance * max(1.0, abs(float(expected)))
