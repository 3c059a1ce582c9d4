"""The statement guard: the last look at every statement before it reaches a warehouse.

Spec SQL reaches a statement only as a fragment rendered from its checked
tree (northstar_spec.spec.fragments). This guard does not trust that: it
parses the statement about to be sent, as text, in the engine's dialect, and
refuses it unless it is one SELECT with no `;` and no comment, reading only
the tables northstar's own query construct names, calling only allowed
functions (northstar_spec.spec.sql_allowlist, plus what the period
bucketing uses). Behind it, the connection itself is read-only with a
statement timeout (northstar_spec.warehouse.engines): should text slip past
both checks, the database refuses to write and stops a long query.

Statements northstar writes without any spec text (the grant probes of
`write_access`) say so with the execution option `northstar_trusted`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import sqlalchemy as sa
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError

from northstar_spec.spec import fragments
from northstar_spec.spec.sql_allowlist import CAST_TYPES, FORM_TYPES, FUNCTION_TYPES

TRUSTED = "northstar_trusted"
#: What the period bucketing of northstar_spec.warehouse.periods calls besides the allow-list.
SCAFFOLD_FUNCTIONS = frozenset({exp.Date, exp.TimeToStr, exp.TsOrDsToTimestamp, exp.TimestampTrunc, exp.DateTrunc})
SCAFFOLD_NAMES = frozenset({"printf"})
_PLACEHOLDERS = {
    "pyformat": re.compile(r"%%|%\(\w+\)s|%s"),
    "format": re.compile(r"%%|%s"),
    "qmark": re.compile(r"\?"),
    "named": re.compile(r"(?<![:\w]):\w+"),
    "numeric": re.compile(r"(?<![:\w]):\d+"),
    "numeric_dollar": re.compile(r"\$\d+"),
}


class StatementRefused(Exception):
    """A statement the guard would not send; nothing reached the database."""


def _neutral(statement: str, paramstyle: str) -> str:
    """The statement with its bind placeholders as NULL, as the database will parse it (values apart)."""
    pattern = _PLACEHOLDERS.get(paramstyle)
    if pattern is None:
        raise StatementRefused(f"cannot read statements with {paramstyle!r} placeholders")
    return pattern.sub(lambda m: "%" if m.group(0) == "%%" else "NULL", statement)


def tables_of(construct: object) -> frozenset[tuple[str, str]]:
    """The (schema, table) pairs a SQLAlchemy construct itself names, lowercased ('' for no schema)."""
    found = set()
    if isinstance(construct, sa.sql.ClauseElement):
        for element in sa.sql.visitors.iterate(construct):
            if isinstance(element, sa.sql.expression.TableClause):
                found.add(((element.schema or "").lower(), element.name.lower()))
    return frozenset(found)


def check(statement: str, dialect: str, paramstyle: str, tables: Iterable[tuple[str, str]]) -> None:
    """Refuse (StatementRefused) anything but one SELECT over `tables` with allowed functions."""
    if ";" in statement:
        raise StatementRefused("it contains `;`, which could start a second statement")
    try:
        name = fragments.sqlglot_dialect(dialect)
    except fragments.UnknownDialect as exc:
        raise StatementRefused(str(exc)) from None
    text = _neutral(statement, paramstyle)
    reader = Dialect.get_or_raise(name)
    try:
        tokens = reader.tokenize(text)
        trees = reader.parser().parse(tokens, text)
    except (ParseError, TokenError) as exc:
        raise StatementRefused(f"it cannot be parsed as {dialect} SQL ({str(exc).splitlines()[0][:120]})") from None
    if any(t.comments for t in tokens):
        raise StatementRefused("it contains a comment")
    statements = [t for t in trees if t is not None]
    if len(statements) != 1 or not isinstance(statements[0], exp.Select):
        raise StatementRefused("it is not one SELECT statement")
    allowed = set(tables)
    for node in statements[0].walk():
        if isinstance(node, exp.Table):
            key = (node.db.lower(), node.name.lower())
            if key not in allowed:
                raise StatementRefused(f"it reads {node.sql(comments=False)}, which is not its source")
        elif isinstance(node, (exp.SessionParameter, exp.Parameter, exp.Placeholder)):
            raise StatementRefused(f"it reads {node.sql(comments=False)}")
        elif isinstance(node, exp.Cast):
            target = node.args.get("to")
            if type(target) is not exp.DataType or target.this not in CAST_TYPES:
                raise StatementRefused(f"it casts to {target.sql(comments=False) if target else '?'}")
        elif isinstance(node, exp.Func) and not _allowed_function(node):
            name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
            raise StatementRefused(f"it calls {name.upper()}, which is not on the allow-list")


def _allowed_function(node: exp.Func) -> bool:
    kind = type(node)
    if kind in FUNCTION_TYPES or kind in FORM_TYPES or kind in SCAFFOLD_FUNCTIONS:
        return True
    return isinstance(node, exp.Anonymous) and node.name.lower() in SCAFFOLD_NAMES


def install(engine: sa.engine.Engine) -> None:
    """Check every statement an engine executes, unless it carries the `northstar_trusted` option."""

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _guard(conn, cursor, statement, parameters, context, executemany) -> None:
        if context is not None and context.execution_options.get(TRUSTED):
            return
        compiled = getattr(context, "compiled", None)
        construct = compiled.statement if compiled is not None else None
        check(statement, engine.dialect.name, engine.dialect.paramstyle, tables_of(construct))
