"""Every metric of every spec, per period, computed on the warehouse.

One query per (spec, source, grain) computes all of that source's metrics of
that grain in a single scan of its table: each metric is an aggregate with
its filter inside (northstar_spec.sql), grouped by period. The window is a
number of complete periods before the one containing the end date (today
by default), decided in Python so that every dialect agrees on it.

When a query fails, cheap probes find out why (the table, the time column or
which metric) so that the error names the spec file, the metric and the
cause, never a traceback and never a password.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from northstar_spec.spec.model import Metric, Project, Source, Spec
from northstar_spec.spec.sql import FragmentError, metric_expression, runtime_dialect, source_table
from northstar_spec.warehouse import periods as calendar
from northstar_spec.warehouse import probe
from northstar_spec.warehouse.engines import Warehouse, WarehouseError, Warehouses, timed_out
from northstar_spec.warehouse.guard import StatementRefused

DEFAULT_PERIODS = 12
#: The label of the period column; the source's rows are `northstar_source`.
PERIOD = "northstar_period"
SOURCE_ALIAS = "northstar_source"

Number = float | None  # ints stay ints; None when a period has no value


@dataclass(frozen=True)
class Value:
    """One metric's value in one period: a row of `northstar evaluate`."""

    spec: str
    metric: str
    role: str
    grain: str
    period: dt.date
    value: Number


@dataclass(frozen=True)
class Series:
    """One metric over the window, oldest period first."""

    spec: Spec
    metric: Metric
    grain: str
    periods: tuple[dt.date, ...]
    values: tuple[Number, ...]

    @property
    def last(self) -> Number:
        return self.values[-1] if self.values else None

    @property
    def previous(self) -> Number:
        return self.values[-2] if len(self.values) > 1 else None


@dataclass(frozen=True)
class QueryRun:
    """What one query computed and how long it took (progress and benchmarks read it)."""

    spec: str
    source: str
    table: str
    grain: str
    metrics: tuple[str, ...]
    periods: int
    seconds: float

    def __str__(self) -> str:
        count = len(self.metrics)
        return (
            f"{self.spec}: {self.source} ({self.table}) per {self.grain}: {count} metric{'s' * (count != 1)}, "
            f"{self.periods} periods in {self.seconds:.2f} s"
        )


@dataclass(frozen=True)
class Evaluation:
    end: dt.date
    series: tuple[Series, ...]
    queries: tuple[QueryRun, ...] = ()

    def of(self, spec: Spec, metric: Metric) -> Series:
        """The series of a metric this evaluation computed (LookupError for one it did not)."""
        for series in self.series:
            if series.spec is spec and series.metric.id == metric.id:
                return series
        raise LookupError(f"{spec.product.id}: {metric.id} was not evaluated")

    def outcome_of(self, spec: Spec) -> Series | None:
        return self.of(spec, spec.outcome) if spec.outcome else None

    def values(self) -> list[Value]:
        return [
            Value(s.spec.product.id, s.metric.id, s.metric.role.value, s.grain, period, value)
            for s in self.series
            for period, value in zip(s.periods, s.values)
        ]


GrainOf = Callable[[Spec, Metric], str]
Select = Callable[[Spec, Metric], bool]


def evaluate(
    specs: Sequence[Spec],
    project: Project,
    *,
    periods: int = DEFAULT_PERIODS,
    end: dt.date | None = None,
    environ: Mapping[str, str] | None = None,
    select: Select | None = None,
    grain_of: GrainOf | None = None,
    native: bool = True,
    progress: Callable[[QueryRun], None] | None = None,
    candidates: bool = False,
) -> Evaluation:
    """The values of the selected metrics (all, with the outcome, by default) in `periods` complete periods.

    `grain_of` overrides each metric's grain (the backtest compares series at
    the North Star's grain); `native=False` buckets periods with the portable
    CASE instead of the dialect's date functions; `candidates` adds the
    spec's candidate North Stars to what `select` chooses from. Raises WarehouseError.
    """
    if periods < 1:
        raise ValueError("periods must be at least 1")
    end = end or dt.date.today()
    groups: dict[tuple[int, str, str], list[Metric]] = defaultdict(list)
    order: list[tuple[int, str]] = []
    for index, spec in enumerate(specs):
        for metric in spec.computable if candidates else spec.metrics_and_outcome:
            if select and not select(spec, metric):
                continue
            grain = grain_of(spec, metric) if grain_of else metric.grain
            groups[(index, metric.source, grain)].append(metric)
            order.append((index, metric.id))
    computed: dict[tuple[int, str], Series] = {}
    runs: list[QueryRun] = []
    with Warehouses(project, os.environ if environ is None else environ) as warehouses:
        for (index, source_id, grain), metrics in groups.items():
            spec = specs[index]
            starts = calendar.complete_periods(end, grain, periods)
            series, run = _evaluate_source(warehouses, spec, source_id, grain, metrics, starts, native)
            runs.append(run)
            if progress:
                progress(run)
            for s in series:
                computed[(index, s.metric.id)] = s
    return Evaluation(end, tuple(computed[key] for key in order), tuple(runs))


# --- one source -------------------------------------------------------------


Window = tuple[dt.date, dt.date]


def window_rows(
    spec: Spec,
    source: Source,
    dialect: str,
    grain: str,
    starts: Sequence[dt.date],
    native: bool,
    window: Window | None = None,
):
    """The source's rows in the window (the periods of `starts`, or the days of `window`), each with
    its period: a subquery.

    The period is computed once, in a subquery, and grouped on by name: no
    dialect has to match an expression in GROUP BY to one in SELECT.
    """
    table = source_table(spec, source, dialect).alias(SOURCE_ALIAS)
    column: Any = sa.column(source.time_column)
    period = calendar.bucket(dialect, native)(column, grain, starts)
    lo, hi = window or (starts[0], calendar.shift(starts[-1], grain, 1))
    return (
        sa.select(sa.literal_column(f"{SOURCE_ALIAS}.*"), period.label(PERIOD))
        .select_from(table)
        .where(column >= sa.literal(lo, sa.Date), column < sa.literal(hi, sa.Date))
        .subquery("northstar_rows")
    )


def statement(
    spec: Spec,
    source: Source,
    metrics: Sequence[Metric],
    dialect: str,
    grain: str,
    starts: Sequence[dt.date],
    native: bool = True,
    window: Window | None = None,
) -> sa.sql.Select:
    """One scan of the source: every metric per period (of the rows in `window` when given).

    Raises FragmentError for SQL that does not pass its check."""
    rows = window_rows(spec, source, dialect, grain, starts, native, window)
    period = rows.c[PERIOD]
    columns = [metric_expression(spec, m, dialect).label(f"m{i}") for i, m in enumerate(metrics)]
    return sa.select(period, *columns).select_from(rows).group_by(period)


def _evaluate_source(
    warehouses: Warehouses,
    spec: Spec,
    source_id: str,
    grain: str,
    metrics: list[Metric],
    starts: tuple[dt.date, ...],
    native: bool,
) -> tuple[list[Series], QueryRun]:
    source = spec.sources.get(source_id)
    if source is None:
        where = spec.at(metrics[0].path + ("source",))
        raise WarehouseError(f"{where}: metric {metrics[0].id!r} reads source {source_id!r}, which is not declared")
    try:
        warehouse = warehouses.get(source.database)
    except WarehouseError as exc:
        raise WarehouseError(f"{spec.at(source.path + ('database',))}: source {source.id!r}: {exc}") from None
    try:
        dialect = runtime_dialect(warehouses.project, source.database, warehouse.engine.dialect.name)
        query = statement(spec, source, metrics, dialect, grain, starts, native)
    except FragmentError as exc:
        raise WarehouseError(str(exc)) from None
    started = time.perf_counter()
    with connection_for(warehouse, spec, source) as connection:
        try:
            result = connection.execute(query).fetchall()
        except StatementRefused as exc:
            raise WarehouseError(
                f"{spec.at(source.path)}: the query for metrics {', '.join(m.id for m in metrics)} was refused "
                f"before it reached database {warehouse.name!r}: {exc}"
            ) from None
        except Exception as exc:
            if timed_out(exc):
                raise _too_slow(warehouse, spec, source, metrics) from None
            raise _diagnose(warehouse, spec, source, metrics, dialect, grain, starts, native, exc) from None
    seconds = time.perf_counter() - started
    found: dict[dt.date, tuple] = {}
    for row in result:
        period = calendar.period_of(row[0], grain, starts)
        if period is not None:
            found[period] = tuple(row[1:])
    series = []
    for i, metric in enumerate(metrics):
        values = tuple(_number(found[p][i], spec, metric) if p in found else _empty(metric) for p in starts)
        series.append(Series(spec, metric, grain, starts, values))
    run = QueryRun(
        spec.product.id,
        source.id,
        source.table if not source.schema else f"{source.schema}.{source.table}",
        grain,
        tuple(m.id for m in metrics),
        len(starts),
        seconds,
    )
    return series, run


def connection_for(warehouse: Warehouse, spec: Spec, source: Source) -> sa.engine.Connection:
    """A connection to the source's database; WarehouseError, naming the spec and source, when there is none."""
    try:
        return warehouse.engine.connect()
    except Exception as exc:
        raise WarehouseError(
            f"{spec.at(source.path + ('database',))}: source {source.id!r}: cannot connect to database "
            f"{warehouse.name!r} ({warehouse.uri_env}={warehouse.shown}): {warehouse.cause(exc)}"
        ) from None


def _empty(metric: Metric) -> Number:
    """The value of a period without a single row: counting nothing is 0; anything else has no value."""
    if metric.measure is not None and metric.measure.aggregate in ("count", "count_distinct"):
        return 0
    return None


def number(raw) -> Number:
    """A value as the database returned it, as a number; ValueError for what is none (text)."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        return int(raw)
    if isinstance(raw, (int, float)):
        return raw
    if isinstance(raw, decimal.Decimal):
        exponent = raw.as_tuple().exponent
        whole = isinstance(exponent, int) and exponent >= 0 and raw == raw.to_integral_value()
        return int(raw) if whole else float(raw)
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"the database returned {type(raw).__name__} {str(raw)[:40]!r}, not a number") from None


def _number(raw, spec: Spec, metric: Metric) -> Number:
    try:
        return number(raw)
    except ValueError as exc:
        raise WarehouseError(f"{spec.at(metric.path)}: metric {metric.id!r}: {exc}") from None


# --- why a query failed ------------------------------------------------------


def _too_slow(warehouse: Warehouse, spec: Spec, source: Source, metrics: Sequence[Metric]) -> WarehouseError:
    """A query the statement timeout stopped: which metrics, and the limit (no probes: each could be as slow)."""
    if len(metrics) == 1:
        where, what = spec.at(metrics[0].path), f"metric {metrics[0].id!r}"
    else:
        where, what = spec.at(source.path), f"the query for metrics {', '.join(m.id for m in metrics)}"
    return WarehouseError(
        f"{where}: {what} (source {source.id!r}) did not finish within {warehouse.timeout:g} s, the statement "
        f"timeout of database {warehouse.name!r}; raise `statement_timeout:` in northstar.yaml if it must run longer"
    )


def _diagnose(
    warehouse: Warehouse,
    spec: Spec,
    source: Source,
    metrics: Sequence[Metric],
    dialect: str,
    grain: str,
    starts: Sequence[dt.date],
    native: bool,
    error: BaseException,
) -> WarehouseError:
    """Find what broke a source's query: the table, its time column, or which metrics."""
    table_name = f"{source.schema}.{source.table}" if source.schema else source.table
    where = f"table {table_name} in database {warehouse.name!r}"
    about = f"source {source.id!r} ({where})"
    period = calendar.bucket(dialect, native)(sa.column(source.time_column), grain, starts)
    rows = window_rows(spec, source, dialect, grain, starts, native)
    problems = probe.diagnose(warehouse, spec, source, metrics, dialect, period, rows)
    for problem in problems:
        if problem.kind is probe.Kind.TABLE:
            return WarehouseError(f"{spec.at(problem.path)}: {about}: {problem.cause}")
        if problem.kind is probe.Kind.TIME_COLUMN:
            return WarehouseError(
                f"{spec.at(problem.path)}: {about}, time column {source.time_column!r}: {problem.cause}"
            )
    if problems:
        return WarehouseError(
            "\n".join(
                f"{spec.at(p.metric.path)}: metric {p.metric.id!r} (source {source.id!r}, {where}): {p.cause}"
                for p in problems
                if p.metric is not None
            )
        )
    return WarehouseError(
        f"{spec.at(source.path)}: {about}: the query for metrics "
        f"{', '.join(m.id for m in metrics)} failed: {warehouse.cause(error)}"
    )
