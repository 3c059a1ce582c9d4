"""Aggregates that `explain` and `candidates` push down to the warehouse.

Beyond the per-period series of `evaluate`, driver analysis needs a few
aggregates of its own: a metric per segment of a dimension in two periods,
and per-unit facts (did the action early in the window, came back late in
it, how much of the metric each unit produced). Each is one SQLAlchemy
construct over the rows of a date range (evaluate.window_rows), built from
the spec's checked fragments (northstar_spec.spec.sql), sent through the
guarded, read-only connection with its statement timeout; only the small
aggregated result comes back to Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from northstar_spec.spec.loading import JsonPath
from northstar_spec.spec.model import Metric, Source, Spec
from northstar_spec.spec.sql import FragmentError, runtime_dialect
from northstar_spec.warehouse import periods as calendar
from northstar_spec.warehouse.engines import Warehouse, WarehouseError, Warehouses, timed_out
from northstar_spec.warehouse.evaluate import PERIOD, connection_for, number, window_rows
from northstar_spec.warehouse.guard import StatementRefused


class Query:
    """A source's warehouse and dialect, to build and run aggregates over its rows."""

    def __init__(self, warehouses: Warehouses, spec: Spec, source_id: str, about: Metric | None = None):
        source = spec.sources.get(source_id)
        if source is None:
            where = spec.at(about.path + ("source",)) if about else spec.file
            raise WarehouseError(f"{where}: source {source_id!r} is not declared")
        try:
            self.warehouse: Warehouse = warehouses.get(source.database)
        except WarehouseError as exc:
            raise WarehouseError(f"{spec.at(source.path + ('database',))}: source {source.id!r}: {exc}") from None
        self.spec, self.source = spec, source
        try:
            self.dialect = runtime_dialect(warehouses.project, source.database, self.warehouse.engine.dialect.name)
        except FragmentError as exc:
            raise WarehouseError(str(exc)) from None

    def rows(self, grain: str, starts: Sequence[dt.date]) -> Any:
        """The source's rows in the periods of `starts` (consecutive), each with its period."""
        return window_rows(self.spec, self.source, self.dialect, grain, starts, True)

    def period(self, rows: Any) -> Any:
        return rows.c[PERIOD]

    def fetch(self, query: sa.sql.Select, what: str, path: JsonPath | None = None) -> list[tuple]:
        """Run one aggregate; WarehouseError at `path` (default: the source), naming the source and
        `what`, when it fails."""
        source, warehouse = self.source, self.warehouse
        where = self.spec.at(path or source.path)
        with connection_for(warehouse, self.spec, source) as connection:
            try:
                return [tuple(row) for row in connection.execute(query).fetchall()]
            except StatementRefused as exc:
                raise WarehouseError(
                    f"{where}: {what} was refused before it reached database {warehouse.name!r}: {exc}"
                ) from None
            except Exception as exc:
                if timed_out(exc):
                    raise WarehouseError(
                        f"{where}: {what} (source {source.id!r}) did not finish within "
                        f"{warehouse.timeout:g} s, the statement timeout of database {warehouse.name!r}"
                    ) from None
                raise WarehouseError(f"{where}: {what} (source {source.id!r}) failed: {warehouse.cause(exc)}") from None


def as_number(raw: Any) -> float | None:
    return number(raw)


def period_key(raw: Any, grain: str, starts: Sequence[dt.date]) -> dt.date | None:
    return calendar.period_of(raw, grain, starts)


def source_of(spec: Spec, metric: Metric) -> Source | None:
    return spec.sources.get(metric.source)
