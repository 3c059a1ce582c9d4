"""Metric definitions -> SQL rendered from parsed trees, for any dialect.

A metric's filter is applied inside the aggregate (`COUNT(DISTINCT CASE WHEN
<filter> THEN team_id END)`) rather than in a WHERE clause, so that every
metric of a source can be computed in one scan of its table, and so that the
same expression can be a Superset dataset metric.

Every part that comes from a spec is a checked fragment
(northstar_spec.spec.fragments); the metric is assembled as one sqlglot tree
and rendered by sqlglot's generator for the dialect it runs in. No text of
the spec is ever pasted into SQL: a fragment that does not pass its check in
that dialect raises FragmentError, naming file:line:col. SQLAlchemy sees a
metric as one column expression, on 1.4 (inside Superset) and 2.x alike.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlglot import exp

from northstar_spec.spec import fragments
from northstar_spec.spec.fragments import Kind
from northstar_spec.spec.loading import JsonPath
from northstar_spec.spec.model import Measure, Metric, Project, Source, Spec


class FragmentError(Exception):
    """A spec's SQL cannot be rendered for the database it runs on; the message names file:line:col."""


def checked_fragment(spec: Spec, path: JsonPath, text: str, kind: Kind, dialect: str | None) -> exp.Expression:
    """The tree of one fragment of `spec`, checked in `dialect` (FragmentError when it does not pass).

    The one door between spec text and SQL: everything rendered below is built from what it returns.
    """
    try:
        fragment = fragments.parse(text, kind, dialect)
    except fragments.UnknownDialect as exc:
        raise FragmentError(f"{spec.at(path)}: {exc}") from None
    if fragment.problems:
        problem = fragment.problems[0]
        where = spec.document.locate_in(path, problem.offset) if problem.offset is not None else spec.at(path)
        in_dialect = f" (read as {dialect or fragments.PORTABLE})"
        raise FragmentError(f"{where}: {problem.code} {problem.message}{in_dialect}")
    return fragment.checked()


def runtime_dialect(project: Project, database: str, backend: str) -> str:
    """The dialect a database's fragments run in: its URI's (`backend`), which must be the declared one."""
    declared = fragments.dialect_of(project, database)
    try:
        if declared is not None and fragments.sqlglot_dialect(declared) != fragments.sqlglot_dialect(backend):
            raise FragmentError(
                f"{project.file}: database {database!r} declares `dialect: {declared}`, "
                f"but its URI is a {backend} database; fix one of them"
            )
        fragments.sqlglot_dialect(backend)
    except fragments.UnknownDialect as exc:
        raise FragmentError(f"database {database!r}: {exc}") from None
    return backend


def _column(spec: Spec, path: JsonPath, name: str, dialect: str | None) -> exp.Expression:
    return checked_fragment(spec, path, name, Kind.COLUMN, dialect)


def _condition(spec: Spec, dialect: str | None, *filters: tuple[JsonPath, str | None]) -> exp.Expression | None:
    parts = [checked_fragment(spec, path, text, Kind.FILTER, dialect) for path, text in filters if text]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else exp.and_(*parts)


def measure_tree(
    spec: Spec,
    measure: Measure,
    column_path: JsonPath,
    dialect: str | None,
    *filters: tuple[JsonPath, str | None],
) -> exp.Expression:
    """One aggregate over the rows that match every filter."""
    condition = _condition(spec, dialect, *filters)
    if measure.aggregate == "count" and measure.column is None:
        if condition is None:
            return exp.Count(this=exp.Star())
        return exp.Count(this=exp.Case(ifs=[exp.If(this=condition, true=exp.Literal.number(1))]))
    value = _column(spec, column_path, measure.column or "", dialect)
    if condition is not None:
        value = exp.Case(ifs=[exp.If(this=condition, true=value)])
    if measure.aggregate == "count_distinct":
        return exp.Count(this=exp.Distinct(expressions=[value]))
    aggregate = {"count": exp.Count, "sum": exp.Sum, "avg": exp.Avg, "min": exp.Min, "max": exp.Max}
    return aggregate[measure.aggregate](this=value)


def metric_tree(spec: Spec, metric: Metric, dialect: str | None) -> exp.Expression:
    """The aggregate expression of one metric over its source's rows, as a tree."""
    own = (metric.path + ("filter",), metric.filter)
    if metric.measure is not None:
        return measure_tree(spec, metric.measure, metric.path + ("measure", "column"), dialect, own)
    if metric.ratio is not None:
        sides = []
        for side in ("numerator", "denominator"):
            part = getattr(metric.ratio, side)
            at = metric.path + ("ratio", side)
            filters = (own, (at + ("filter",), part.filter))
            sides.append(measure_tree(spec, part.measure, at + ("measure", "column"), dialect, *filters))
        numerator, denominator = sides
        # `* 1.0` keeps integer counts from integer division on every engine (so
        # the division is "typed": sqlglot need not add a cast of its own),
        # NULLIF makes a period without a denominator NULL instead of an error.
        as_real = exp.Paren(this=exp.Mul(this=numerator, expression=exp.Literal.number("1.0")))
        safe_denominator = exp.Nullif(this=denominator, expression=exp.Literal.number(0))
        return exp.Div(this=as_real, expression=safe_denominator, typed=True)
    return checked_fragment(spec, metric.path + ("sql",), metric.sql or "", Kind.AGGREGATE, dialect)


def metric_sql(spec: Spec, metric: Metric, dialect: str) -> str:
    """A metric's SQL for a dialect (SQLAlchemy's name: postgresql, sqlite …), as a Superset metric shows it."""
    return fragments.render(metric_tree(spec, metric, dialect), dialect)


def share_sql(spec: Spec, metric: Metric, whole: float, dialect: str) -> str:
    """The metric as a share of a constant (its target), rebuilt from the metric's tree: `(metric * 1.0) / whole`."""
    as_real = exp.Paren(this=exp.Mul(this=metric_tree(spec, metric, dialect), expression=exp.Literal.number("1.0")))
    return fragments.render(
        exp.Div(this=as_real, expression=exp.Literal.number(repr(float(whole))), typed=True), dialect
    )


def metric_expression(spec: Spec, metric: Metric, dialect: str) -> ColumnElement:
    """The metric as a SQLAlchemy column expression: its rendered SQL, opaque to SQLAlchemy."""
    return sa.literal_column(metric_sql(spec, metric, dialect))


def ratio_expressions(spec: Spec, metric: Metric, dialect: str) -> tuple[ColumnElement, ColumnElement]:
    """A ratio's numerator and denominator, each with the metric's own filter, as column expressions."""
    assert metric.ratio is not None
    own = (metric.path + ("filter",), metric.filter)
    sides: list[ColumnElement] = []
    for side in ("numerator", "denominator"):
        part = getattr(metric.ratio, side)
        at = metric.path + ("ratio", side)
        column = at + ("measure", "column")
        tree = measure_tree(spec, part.measure, column, dialect, own, (at + ("filter",), part.filter))
        sides.append(sa.literal_column(fragments.render(tree, dialect)))
    return sides[0], sides[1]


def column_expression(spec: Spec, path: JsonPath, name: str, dialect: str) -> ColumnElement:
    """A column a spec names (a dimension, a unit), once it passed its check."""
    return sa.literal_column(fragments.render(_column(spec, path, name, dialect), dialect))


def condition_expression(spec: Spec, dialect: str, *filters: tuple[JsonPath, str | None]) -> ColumnElement | None:
    """The conjunction of a spec's filters, parenthesised, once each passed its check (None without any)."""
    condition = _condition(spec, dialect, *filters)
    if condition is None:
        return None
    return sa.literal_column(fragments.render(exp.Paren(this=condition), dialect))


def action_condition(spec: Spec, metric: Metric, dialect: str) -> ColumnElement | None:
    """The rows a measure or ratio counts as its action: its filter (and a ratio's numerator's)."""
    filters = [(metric.path + ("filter",), metric.filter)]
    if metric.ratio is not None:
        filters.append((metric.path + ("ratio", "numerator", "filter"), metric.ratio.numerator.filter))
    return condition_expression(spec, dialect, *filters)


def source_table(spec: Spec, source: Source, dialect: str) -> sa.TableClause:
    """The table a source reads, once its name passed its check (no catalogs)."""
    name = f"{source.schema}.{source.table}" if source.schema else source.table
    checked_fragment(spec, source.path + ("table",), name, Kind.TABLE, dialect)
    checked_fragment(spec, source.path + ("time_column",), source.time_column, Kind.COLUMN, dialect)
    return sa.table(source.table, schema=source.schema)
