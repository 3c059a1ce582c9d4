"""What a metric computes, as something to compare and to reason about.

Two metrics compute the same thing when they aggregate the same table the
same way over the same rows, whatever their ids and source names; a filter
that can never be true makes a metric a constant. Both are read from the SQL
fragments parsed with sqlglot (spacing and keyword case do not matter); a
fragment that does not parse is compared as text, and the SQL rules report it.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.simplify import simplify

from northstar_spec.spec.model import Metric, Spec


@functools.lru_cache(maxsize=4096)
def _parsed(fragment: str) -> exp.Expression | None:
    try:
        return sqlglot.parse_one(fragment)
    except (sqlglot.errors.SqlglotError, RecursionError):
        return None


def _normal(fragment: str | None) -> str | None:
    """A fragment in one spelling: `event_type='a'` and `EVENT_TYPE = 'a'` read the same
    (unquoted identifiers are case-insensitive in SQL)."""
    if fragment is None:
        return None
    tree = _parsed(fragment)
    return normalize_identifiers(tree.copy()).sql() if tree is not None else " ".join(fragment.split())


def computation(spec: Spec, metric: Metric) -> Hashable:
    """What `metric` computes: its table, aggregate, filters and SQL, without names."""
    source = spec.sources.get(metric.source)
    table = (source.database, source.schema, source.table) if source else ("source", metric.source)
    ratio = None
    if metric.ratio is not None:
        ratio = tuple(
            (part.measure, _normal(part.filter)) for part in (metric.ratio.numerator, metric.ratio.denominator)
        )
    return (table, metric.measure, ratio, _normal(metric.sql), _normal(metric.filter))


def never_true(*filters: str | None) -> bool:
    """Whether rows can never match every one of `filters` together, whatever the data.

    True only when it is certain: constant falsehoods (`1 = 0`), a condition
    and its negation, ranges that cannot meet (`x > 5 AND x < 3`), or one
    column equal to two different values.
    """
    trees = [_parsed(f) for f in filters if f]
    if not trees or any(t is None for t in trees):
        return False
    both = exp.and_(*(exp.paren(t.copy()) for t in trees if t is not None))
    try:
        simplified = simplify(normalize_identifiers(both))
    except (sqlglot.errors.SqlglotError, RecursionError):
        return False
    if isinstance(simplified, exp.Boolean) and not simplified.this:
        return True
    return _conflicting_equalities(simplified)


def _conflicting_equalities(condition: exp.Expression) -> bool:
    """`x = 'a' AND x = 'b'`: the one contradiction sqlglot's simplifier leaves alone."""
    if not isinstance(condition, exp.And):
        return False
    seen: dict[str, Hashable] = {}
    for part in condition.flatten():
        if isinstance(part, exp.EQ):
            column, value = part.this, part.expression
            if isinstance(value, exp.Column) and isinstance(column, exp.Literal):
                column, value = value, column
            if isinstance(column, exp.Column) and isinstance(value, exp.Literal):
                literal = _literal(value)
                if literal is not None and seen.setdefault(column.sql(), literal) != literal:
                    return True
    return False


def _literal(value: exp.Literal) -> Hashable:
    """A literal's value: text as written, numbers as numbers (`1` is `1.0`)."""
    if value.is_string:
        return ("text", value.this)
    try:
        return ("number", float(value.this))
    except ValueError:
        return None
