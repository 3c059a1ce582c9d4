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

from northstar_spec.spec import fragments
from northstar_spec.spec.fragments import Kind as Fragment
from northstar_spec.spec.loading import JsonPath
from northstar_spec.spec.model import Measure, Metric, Source, Spec
from northstar_spec.spec.sql import checked_fragment, measure_tree, metric_expression, source_table
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
    #: Where that column starts inside the filter's text (for a finding at its line:col).
    offset: int | None = None


def fails(warehouse: Warehouse, query: Any) -> str | None:
    """The cause if `query` fails, on a connection of its own (a failed statement spoils a transaction)."""
    try:
        with warehouse.engine.connect() as connection:
            connection.execute(query).fetchall()
    except Exception as exc:
        return warehouse.cause(exc)
    return None


def diagnose(
    warehouse: Warehouse,
    spec: Spec,
    source: Source,
    metrics: Sequence[Metric],
    dialect: str,
    period: Any,
    window_rows: Any,
) -> list[Problem]:
    """What broke a query over `source`: its table, its time column (`period`, the period
    expression of it), or which metrics and where in them; `window_rows` is the failed query's
    rows, for the errors that only data can raise. Empty when no probe fails.

    Every probe is built from the spec's checked fragments, like the query it stands for."""
    table = source_table(spec, source, dialect)
    nothing = sa.false()
    problem = fails(warehouse, sa.select(sa.func.count()).select_from(table).where(nothing))
    if problem:
        return [Problem(Kind.TABLE, problem, path=source.path + ("table",))]
    problem = fails(warehouse, sa.select(period).select_from(table).where(nothing))
    if problem:
        return [Problem(Kind.TIME_COLUMN, problem, path=source.path + ("time_column",))]
    probes = _Probes(spec, dialect)
    found = []
    for metric in metrics:
        problem = fails(
            warehouse, sa.select(metric_expression(spec, metric, dialect)).select_from(table).where(nothing)
        )
        if problem:
            found.append(
                probes.located(warehouse, metric, problem, lambda p: sa.select(p).select_from(table).where(nothing))
            )
    if found:
        return found
    for metric in metrics:  # errors that only data can raise: each metric alone over the window's rows
        problem = fails(warehouse, sa.select(metric_expression(spec, metric, dialect)).select_from(window_rows))
        if problem:
            found.append(probes.located(warehouse, metric, problem, lambda p: sa.select(p).select_from(window_rows)))
    return found


class _Probes:
    """The parts of a metric as queries of their own, rendered from the spec's checked fragments."""

    def __init__(self, spec: Spec, dialect: str):
        self.spec, self.dialect = spec, dialect

    def _sql(self, tree: Any) -> Any:
        return sa.literal_column(fragments.render(tree, self.dialect))

    def located(self, warehouse: Warehouse, metric: Metric, cause: str, select: Any) -> Problem:
        """The failing metric's first part that fails on its own: columns, then filters, then aggregates.

        `select(probe)` makes a query of one probe (an aggregate) over the rows to probe.
        """
        for path, kind, probe, column in self._parts(metric):
            problem = fails(warehouse, select(probe))
            if problem:
                if kind is Kind.METRIC and path[-1] == "filter":
                    missing = self._missing_column(warehouse, metric, path, select)
                    if missing:
                        name, offset, why = missing
                        return Problem(Kind.COLUMN, why, metric, metric.path + path, name, offset)
                return Problem(kind, problem, metric, metric.path + path, column)
        return Problem(Kind.METRIC, cause, metric, metric.path + (metric.kind,))

    def _parts(self, metric: Metric) -> Iterator[tuple[JsonPath, Kind, Any, str | None]]:
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
                path = at + ("measure", "column")
                column = checked_fragment(self.spec, metric.path + path, measure.column, Fragment.COLUMN, self.dialect)
                yield path, Kind.COLUMN, sa.func.count(self._sql(column)), measure.column
        if metric.filter:
            yield ("filter",), Kind.METRIC, self._condition(metric, ("filter",), metric.filter), None
        for at, _, side_filter in sides:
            if side_filter:
                path = at + ("filter",)
                yield path, Kind.METRIC, self._condition(metric, path, side_filter), None
        for at, measure, side_filter in sides:
            filters = [(metric.path + ("filter",), metric.filter), (metric.path + at + ("filter",), side_filter)]
            tree = measure_tree(self.spec, measure, metric.path + at + ("measure", "column"), self.dialect, *filters)
            yield at + ("measure",), Kind.METRIC, self._sql(tree), None
        if metric.sql:
            yield ("sql",), Kind.METRIC, metric_expression(self.spec, metric, self.dialect), None

    def _condition(self, metric: Metric, path: JsonPath, condition: str) -> Any:
        """A filter alone, inside an aggregate as the metric uses it."""
        tree = measure_tree(self.spec, Measure("count"), (), self.dialect, (metric.path + path, condition))
        return self._sql(tree)

    def _missing_column(
        self, warehouse: Warehouse, metric: Metric, path: JsonPath, select: Any
    ) -> tuple[str, int | None, str] | None:
        """The first column a failing filter names that the table does not have, where, and why."""
        text = metric.filter if path == ("filter",) else getattr(metric.ratio, str(path[1])).filter
        parsed = fragments.parse(text or "", Fragment.FILTER, self.dialect)
        for name, offset in dict.fromkeys(parsed.columns()):
            column = checked_fragment(self.spec, metric.path + path, name, Fragment.COLUMN, self.dialect)
            problem = fails(warehouse, select(sa.func.count(self._sql(column))))
            if problem:
                return name, offset, problem
        return None
