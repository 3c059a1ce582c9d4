"""Metric definitions -> SQLAlchemy expressions, rendered for any dialect.

A metric's filter is applied inside the aggregate (`COUNT(DISTINCT CASE WHEN
<filter> THEN team_id END)`) rather than in a WHERE clause, so that every
metric of a source can be computed in one scan of its table, and so that the
same expression can be a Superset dataset metric. Works on SQLAlchemy 1.4
(inside Superset) and 2.x (the CLI).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement

from northstar_spec.spec.model import Measure, Metric


class DialectError(Exception):
    pass


def dialect_from_uri(uri: str) -> Dialect:
    """The SQLAlchemy dialect a URI names; its database driver need not be installed."""
    try:
        url = sa.engine.make_url(uri)
        return url.get_dialect()()
    except Exception as exc:  # ArgumentError, NoSuchModuleError, ...
        raise DialectError(f"cannot tell the SQL dialect of this URI ({type(exc).__name__})") from None


def dialect_named(name: str) -> Dialect:
    return dialect_from_uri(f"{name}://")


def _condition(*filters: str | None) -> Any:
    parts = [sa.text(f"({f})") for f in filters if f]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else sa.and_(*parts)


def measure_expression(measure: Measure, *filters: str | None) -> ColumnElement:
    """One aggregate over the rows that match every filter."""
    condition = _condition(*filters)
    if measure.aggregate == "count" and measure.column is None:
        return sa.func.count(sa.case((condition, sa.literal_column("1")))) if condition is not None else sa.func.count()
    value: Any = sa.column(measure.column or "")
    if condition is not None:
        value = sa.case((condition, value))
    if measure.aggregate == "count_distinct":
        return sa.func.count(sa.distinct(value))
    return getattr(sa.func, measure.aggregate)(value)


def metric_expression(metric: Metric) -> ColumnElement:
    """The aggregate expression of one metric over its source's rows."""
    if metric.measure is not None:
        return measure_expression(metric.measure, metric.filter)
    if metric.ratio is not None:
        numerator = measure_expression(metric.ratio.numerator.measure, metric.filter, metric.ratio.numerator.filter)
        denominator = measure_expression(
            metric.ratio.denominator.measure, metric.filter, metric.ratio.denominator.filter
        )
        # `* 1.0` keeps integer counts from integer division on every engine,
        # NULLIF makes a period without a denominator NULL instead of an error.
        # Generic operators, because SQLAlchemy's own `/` adds casts that
        # differ between 1.4 and 2.x (and between dialects).
        as_real = numerator.op("*")(sa.literal_column("1.0"))
        return as_real.op("/")(sa.func.nullif(denominator, 0))
    return sa.literal_column(f"({metric.sql})")


def render(expression: ColumnElement, dialect: Dialect) -> str:
    """SQL text with literals inlined, as a Superset metric or a report shows it."""
    return str(expression.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def metric_sql(metric: Metric, dialect: Dialect) -> str:
    return render(metric_expression(metric), dialect)
