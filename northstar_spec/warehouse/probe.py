"""Why a source's query fails: cheap probes that name the table, the time
column, the metric, and the part of the metric (a column, a filter, an
aggregate, the raw SQL) that the database refuses.

Each probe is a query that reads nothing (`WHERE 1 = 0`): databases check
tables, columns and types when they plan a query, not when they read rows.
Errors that only data can raise (a cast of a value that is no number) are
found by running each metric alone over the rows of the failed query's
window. `northstar evaluate` names the failing metric in its error;
`northstar validate --warehouse` reports the part, at its line and column.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlglot
from sqlglot import exp

from northstar_spec.spec.loading import JsonPath
from northstar_spec.spec.model import Measure, Metric, Source
from northstar_spec.spec.sql import measure_expression, metric_expression
from northstar_spec.warehouse.engines import Warehouse


class Kind(str, enum.Enum):
    TABLE = "table"
    TIME_COLUMN = "time column"
    #: A column a metric names (its measure's, or one in a filter) that the table does not have.
    COLUMN = "column"
    #: The metric fails for another reason: a type, a function, the data.
    METRIC = "metric"


@dataclass(frozen=True)
class Problem:
    kind: Kind
    #: The database's words for why the failing query failed (type and first line, no secrets).
    cause: str
    metric: Metric | None = None
    #: Where in the spec, as finely as a probe could tell: the source's table or time column, or
    #: (relative to the spec, not the metric) the metric's column, filter, aggregate or SQL.
    path: JsonPath = ()
    #: A column of a filter the table does not have, when a probe found it.
    column: str | None = None


def fails(warehouse: Warehouse, query: Any) -> str | None:
    """The cause if `query` fails, on a connection of its own (a failed statement spoils a transaction)."""
    try:
        with warehouse.engine.connect() as connection:
            connection.execute(query).fetchall()
    except Exception as exc:
        return warehouse.cause(exc)
    return None


def diagnose(
    warehouse: Warehouse, source: Source, metrics: Sequence[Metric], period: Any, window_rows: Any
) -> list[Problem]:
    """What broke a query over `source`: its table, its time column (`period`, the period
    expression of it), or which metrics and where in them; `window_rows` is the failed query's
    rows, for the errors that only data can raise. Empty when no probe fails."""
    table = sa.table(source.table, schema=source.schema)
    nothing = sa.text("1 = 0")
    problem = fails(warehouse, sa.select(sa.func.count()).select_from(table).where(nothing))
    if problem:
        return [Problem(Kind.TABLE, problem, path=source.path + ("table",))]
    problem = fails(warehouse, sa.select(period).select_from(table).where(nothing))
    if problem:
        return [Problem(Kind.TIME_COLUMN, problem, path=source.path + ("time_column",))]
    found = []
    for metric in metrics:
        problem = fails(warehouse, sa.select(metric_expression(metric)).select_from(table).where(nothing))
        if problem:
            found.append(
                _located(warehouse, metric, problem, lambda probe: sa.select(probe).select_from(table).where(nothing))
            )
    if found:
        return found
    for metric in metrics:  # errors that only data can raise: each metric alone over the window's rows
        problem = fails(warehouse, sa.select(metric_expression(metric)).select_from(window_rows))
        if problem:
            found.append(_located(warehouse, metric, problem, lambda probe: sa.select(probe).select_from(window_rows)))
    return found


def _located(warehouse: Warehouse, metric: Metric, cause: str, select: Any) -> Problem:
    """The failing metric's first part that fails on its own: columns, then filters, then aggregates.

    `select(probe)` makes a query of one probe (an aggregate) over the rows to probe.
    """
    for path, kind, probe, column in _parts(metric):
        problem = fails(warehouse, select(probe))
        if problem:
            if kind is Kind.METRIC and path[-1] == "filter":
                missing = _missing_column(warehouse, metric, path, select)
                if missing:
                    return Problem(Kind.COLUMN, missing[1], metric, metric.path + path, missing[0])
            return Problem(kind, problem, metric, metric.path + path, column)
    return Problem(Kind.METRIC, cause, metric, metric.path + (metric.kind,))


def _parts(metric: Metric) -> Iterator[tuple[JsonPath, Kind, Any, str | None]]:
    """(path in the metric, what a failure means, a probe (an aggregate), the column it reads)."""
    sides: list[tuple[JsonPath, Measure, str | None]] = []
    if metric.measure is not None:
        sides.append(((), metric.measure, None))
    if metric.ratio is not None:
        for side in ("numerator", "denominator"):
            part = getattr(metric.ratio, side)
            sides.append((("ratio", side), part.measure, part.filter))
    for at, measure, _ in sides:
        if measure.column:
            yield at + ("measure", "column"), Kind.COLUMN, sa.func.count(sa.column(measure.column)), measure.column
    if metric.filter:
        yield ("filter",), Kind.METRIC, _condition_probe(metric.filter), None
    for at, _, side_filter in sides:
        if side_filter:
            yield at + ("filter",), Kind.METRIC, _condition_probe(side_filter), None
    for at, measure, _ in sides:
        yield at + ("measure",), Kind.METRIC, measure_expression(measure), None
    if metric.sql:
        yield ("sql",), Kind.METRIC, metric_expression(metric), None


def _condition_probe(condition: str) -> Any:
    """A filter alone, inside an aggregate as the metric uses it."""
    return measure_expression(Measure("count"), condition)


def _missing_column(warehouse: Warehouse, metric: Metric, path: JsonPath, select: Any) -> tuple[str, str] | None:
    """The first column a failing filter names that the table does not have, and why."""
    text = metric.filter if path == ("filter",) else getattr(metric.ratio, str(path[1])).filter
    for name in _columns(text or ""):
        problem = fails(warehouse, select(sa.func.count(sa.column(name))))
        if problem:
            return name, problem
    return None


def _columns(fragment: str) -> list[str]:
    """The plain column names a SQL fragment reads, in order (none when it does not parse)."""
    try:
        tree = sqlglot.parse_one(fragment)
    except (sqlglot.errors.SqlglotError, RecursionError):
        return []
    names = [column.name for column in tree.find_all(exp.Column) if column.name and not column.table]
    return list(dict.fromkeys(names))
