"""Valid means it works: every metric of every spec run on its database over
the last day, before anyone relies on it.

`northstar validate --warehouse` reports what this finds, and `northstar
deploy` runs it first and sends nothing when it finds an error. Per source
and grain, one query computes every metric (candidate North Stars too)
over the last day before `end`
(as `northstar evaluate` would, on a tiny window); when it fails, the probes
of northstar_spec.warehouse.probe say where, and the finding points at the
table, the time column, the column or the fragment (NS902-NS904); the
columns a source names for `explain` and `candidates` (its dimensions and
unit) and what `retained:` means are read once per source the same way. Each
ratio without a value on that day has its denominator computed over the
periods the dashboard shows (one more scan): zero in all of them is a
warning (NS905). Last, each database user that could write is a warning
(NS906).

A database that cannot be reached at all is no finding about a spec: it
raises WarehouseError, an environment problem, like `northstar evaluate`.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from northstar_spec.spec import fragments
from northstar_spec.spec.diagnostics import Diagnostic, Location
from northstar_spec.spec.loading import JsonPath
from northstar_spec.spec.model import Metric, Project, Source, Spec
from northstar_spec.spec.rules import works
from northstar_spec.spec.sql import (
    FragmentError,
    column_expression,
    condition_expression,
    measure_tree,
    runtime_dialect,
)
from northstar_spec.warehouse import periods as calendar
from northstar_spec.warehouse import probe
from northstar_spec.warehouse.engines import Warehouse, WarehouseError, Warehouses, write_access
from northstar_spec.warehouse.evaluate import (
    DEFAULT_PERIODS,
    Window,
    connection_for,
    number,
    statement,
    window_rows,
)

#: The days each metric is run over: enough to run it on real rows, little enough to be quick.
LAST_DAYS = 1

_RULE = {
    probe.Kind.TABLE: works.TABLE_MISSING,
    probe.Kind.TIME_COLUMN: works.COLUMN_FAILS,
    probe.Kind.COLUMN: works.COLUMN_FAILS,
    probe.Kind.METRIC: works.METRIC_FAILS,
}


def preflight(
    specs: Sequence[Spec],
    project: Project,
    *,
    environ: Mapping[str, str] | None = None,
    end: dt.date | None = None,
    periods: int = DEFAULT_PERIODS,
    native: bool = True,
) -> list[Diagnostic]:
    """Findings about the specs on their warehouse (NS902-NS906), for specs that passed validation.

    `end` is the day after the last day run (default: today); `periods` how
    many complete periods a ratio's denominator is checked over.
    """
    end = end or dt.date.today()
    window = (end - dt.timedelta(days=LAST_DAYS), end)
    groups: dict[tuple[int, str, str], list[Metric]] = defaultdict(list)
    for index, spec in enumerate(specs):
        for metric in spec.computable:
            groups[(index, metric.source, metric.grain)].append(metric)
    findings: list[Diagnostic] = []
    tables: dict[str, set[str]] = defaultdict(set)
    read_columns: set[tuple[int, str]] = set()
    with Warehouses(project, os.environ if environ is None else environ) as warehouses:
        for (index, source_id, grain), metrics in groups.items():
            spec = specs[index]
            source = spec.sources[source_id]
            try:
                warehouse = warehouses.get(source.database)
            except WarehouseError as exc:
                raise WarehouseError(f"{spec.at(source.path + ('database',))}: source {source.id!r}: {exc}") from None
            try:
                group = _Group(warehouse, project, spec, source, grain, metrics, native)
                problems = group.run(window)
            except FragmentError as exc:  # the URI's dialect reads a fragment otherwise than the declared one
                raise WarehouseError(str(exc)) from None
            findings += [group.finding(p) for p in problems]
            table_read = not any(p.kind in (probe.Kind.TABLE, probe.Kind.TIME_COLUMN) for p in problems)
            if table_read and (index, source_id) not in read_columns:
                read_columns.add((index, source_id))
                findings += group.columns(window)
            if not problems:
                findings += group.denominators(calendar.complete_periods(end, grain, periods))
                tables[source.database].add(f"{source.schema}.{source.table}" if source.schema else source.table)
        for name, read in sorted(tables.items()):
            findings += _writable(project, warehouses.get(name), sorted(read))
    return findings


class _Group:
    """The metrics of one spec on one source at one grain: what one query computes."""

    def __init__(
        self,
        warehouse: Warehouse,
        project: Project,
        spec: Spec,
        source: Source,
        grain: str,
        metrics: list[Metric],
        native: bool,
    ):
        self.warehouse, self.spec, self.source, self.grain, self.metrics = warehouse, spec, source, grain, metrics
        self.dialect = runtime_dialect(project, source.database, warehouse.engine.dialect.name)
        self.native = native
        #: The metrics that had a value over the window `run` ran them over.
        self.measured: set[str] = set()

    def run(self, window: Window) -> list[probe.Problem]:
        """Every metric over `window`: what fails, and each value that is not a number."""
        starts = (calendar.period_start(window[0], self.grain),)
        query = statement(self.spec, self.source, self.metrics, self.dialect, self.grain, starts, self.native, window)
        with connection_for(self.warehouse, self.spec, self.source) as connection:
            try:
                rows = connection.execute(query).fetchall()
            except Exception as exc:
                error: BaseException | None = exc
            else:
                error = None
        if error is not None:
            column: Any = sa.column(self.source.time_column)
            period = calendar.bucket(self.dialect, self.native)(column, self.grain, starts)
            rows_in_window = window_rows(self.spec, self.source, self.dialect, self.grain, starts, self.native, window)
            found = probe.diagnose(
                self.warehouse, self.spec, self.source, self.metrics, self.dialect, period, rows_in_window
            )
            # No probe failing alone: the metrics fail together; say so at the source.
            return found or [probe.Problem(probe.Kind.METRIC, self.warehouse.cause(error), path=self.source.path)]
        found = []
        for metric, values in zip(self.metrics, zip(*(row[1:] for row in rows))):
            for raw in values:
                try:
                    if number(raw) is not None:
                        self.measured.add(metric.id)
                except ValueError as exc:
                    found.append(probe.Problem(probe.Kind.METRIC, str(exc), metric, metric.path + (metric.kind,)))
                    break
        return found

    def _named(self) -> list[tuple[JsonPath, Any, str]]:
        """The source's dimensions and unit, and the `retained:` filter on it: (path, expression, what)."""
        spec, source, dialect = self.spec, self.source, self.dialect
        named: list[tuple[JsonPath, Any, str]] = []
        for i, dimension in enumerate(source.dimensions):
            path = source.path + ("dimensions", i)
            named.append((path, column_expression(spec, path, dimension, dialect), f"dimension {dimension!r}"))
        if source.unit:
            path = source.path + ("unit",)
            named.append((path, column_expression(spec, path, source.unit, dialect), f"unit column {source.unit!r}"))
        retained = spec.retained
        if retained is not None and retained.source == source.id:
            path = retained.path + ("filter",)
            condition = condition_expression(spec, dialect, (path, retained.filter))
            assert condition is not None  # the schema wants a filter
            named.append((path, sa.case((condition, 1), else_=0), "the `retained:` filter"))
        return named

    def columns(self, window: Window) -> list[Diagnostic]:
        """Read the source's dimensions, unit and `retained:` filter over `window`: one query, and one
        per column to find which fails when it does (NS903 at that column)."""
        named = self._named()
        if not named:
            return []
        starts = (calendar.period_start(window[0], self.grain),)
        rows = window_rows(self.spec, self.source, self.dialect, self.grain, starts, self.native, window)

        def fails(expressions: Sequence[Any]) -> str | None:
            query = sa.select(*(sa.func.count(e).label(f"c{i}") for i, e in enumerate(expressions))).select_from(rows)
            with connection_for(self.warehouse, self.spec, self.source) as connection:
                try:
                    connection.execute(query).fetchall()
                except Exception as exc:
                    return self.warehouse.cause(exc)
            return None

        if fails([e for _, e, _ in named]) is None:
            return []
        table = f"{self.source.schema}.{self.source.table}" if self.source.schema else self.source.table
        found = []
        for path, expression, what in named:
            cause = fails([expression])
            if cause is not None:
                found.append(
                    works.COLUMN_FAILS.diagnostic(
                        self.spec.at(path),
                        f"source {self.source.id!r}: {what} fails on table {table} in database "
                        f"{self.warehouse.name!r}: {cause}",
                    )
                )
        return found

    def _denominator(self, metric: Metric) -> Any:
        assert metric.ratio is not None
        side, at = metric.ratio.denominator, metric.path + ("ratio", "denominator")
        filters = [(metric.path + ("filter",), metric.filter), (at + ("filter",), side.filter)]
        return measure_tree(self.spec, side.measure, at + ("measure", "column"), self.dialect, *filters)

    def finding(self, problem: probe.Problem) -> Diagnostic:
        table = f"{self.source.schema}.{self.source.table}" if self.source.schema else self.source.table
        where = f"table {table} in database {self.warehouse.name!r}"
        if problem.kind is probe.Kind.TABLE:
            message = f"source {self.source.id!r} cannot read {where}: {problem.cause}"
        elif problem.kind is probe.Kind.TIME_COLUMN:
            message = f"source {self.source.id!r}: time column {self.source.time_column!r} of {where}: {problem.cause}"
        elif problem.metric is None:
            metrics = ", ".join(m.id for m in self.metrics)
            message = f"the query for metrics {metrics} of source {self.source.id!r} fails on {where}: {problem.cause}"
        else:
            within = " in this filter" if problem.path[-1] == "filter" else ""
            column = f"column {problem.column!r}{within}: " if problem.column else ""
            message = f"metric {problem.metric.id!r} fails on {where}: {column}{problem.cause}"
        at = (
            self.spec.document.locate_in(problem.path, problem.offset)
            if problem.offset is not None
            else self.spec.at(problem.path)
        )
        return _RULE[problem.kind].diagnostic(at, message)

    def denominators(self, starts: Sequence[dt.date]) -> list[Diagnostic]:
        """Ratios whose denominator is zero (or has no value) in every period of `starts`; one scan,
        and none when every ratio had a value over the window `run` ran (the usual case)."""
        ratios = [m for m in self.metrics if m.ratio is not None and m.id not in self.measured]
        if not ratios:
            return []
        rows = window_rows(self.spec, self.source, self.dialect, self.grain, starts, self.native)
        columns: list[Any] = [
            sa.literal_column(fragments.render(self._denominator(metric), self.dialect)).label(f"d{i}")
            for i, metric in enumerate(ratios)
        ]
        with connection_for(self.warehouse, self.spec, self.source) as connection:
            try:
                values = connection.execute(sa.select(*columns).select_from(rows)).one()
            except Exception as exc:
                raise WarehouseError(
                    f"{self.spec.at(self.source.path)}: source {self.source.id!r}: the ratios' denominators "
                    f"failed: {self.warehouse.cause(exc)}"
                ) from None
        last = calendar.last_day(starts[-1], self.grain)
        return [
            works.DENOMINATOR_ZERO.diagnostic(
                self.spec.at(metric.path + ("ratio", "denominator")),
                f"metric {metric.id!r}: the denominator is {value or 0} from {starts[0]} to {last} "
                f"({len(starts)} {self.grain}s): the ratio has no value in any of them",
            )
            for metric, value in zip(ratios, values)
            if not value
        ]


def _writable(project: Project, warehouse: Warehouse, tables: Sequence[str]) -> list[Diagnostic]:
    reasons = write_access(warehouse, tables)
    if not reasons:
        return []
    where = (
        project.document.locate(("databases", warehouse.name), key=True) if project.document else Location(project.file)
    )
    return [
        works.WAREHOUSE_WRITABLE.diagnostic(
            where, f"database {warehouse.name!r}: the user northstar connects as can write: {'; '.join(reasons)}"
        )
    ]
