"""The SQL fragments of a spec, parsed into trees: the one place spec text becomes SQL.

A spec holds SQL in five places: a metric's `filter` (and each ratio part's),
a metric's `sql`, a measure's `column`, and a source's `table` and
`time_column`. A spec comes by pull request from anyone, so each fragment
is parsed with sqlglot in the dialect of its database, checked against the
allow-list (northstar_spec.spec.sql_allowlist; the tree check is
northstar_spec.spec.sql_tree), and only ever reaches a
database or a Superset dataset rendered from its tree (`render`): never as
the text that was written.

The API, for the lint rules (NS7xx), the metric SQL (northstar_spec.spec.sql)
and anything that needs to know what a fragment says:

- `parse(text, kind, dialect)` -> `Fragment`: the tree and every `Problem`,
  each with the rule code and the character offset in the text it is about;
- `sites(spec)`: every fragment of a spec with its JSON path, kind and database;
- `dialect_of(project, database)`: the dialect a database declares in
  northstar.yaml (None: the portable default), `sqlglot_dialect(name)`;
- `render(tree, dialect)`: the SQL text of a checked tree for a dialect;
- `Fragment.columns()`: the columns a fragment reads, with their offsets
  (where a "no such column" from the warehouse points); `node_offset(node)`
  for any other node of a tree.

A dialect is named like SQLAlchemy names the database (postgresql, mysql,
sqlite …, see DIALECTS); None is the portable default, sqlglot's own
standard SQL, which offline `validate` uses when northstar.yaml does not say.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.dialects.sqlite import SQLite
from sqlglot.errors import ParseError, TokenError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.tokens import Token, TokenType

from northstar_spec.spec import sql_tree
from northstar_spec.spec.loading import JsonPath
from northstar_spec.spec.model import Project, Spec
from northstar_spec.spec.sql_allowlist import is_system_table
from northstar_spec.spec.sql_tree import (
    FORM,
    NO_COMMENT,
    NO_STATEMENT,
    ONE_STATEMENT,
    OWN_TABLE,
    SYNTAX,
    Kind,
    Problem,
)

#: The SQL dialect of each kind of database: SQLAlchemy's backend name -> sqlglot's dialect.
DIALECTS: dict[str, str] = {
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
    "duckdb": "duckdb",
    "mssql": "tsql",
    "oracle": "oracle",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "redshift": "redshift",
    "trino": "trino",
    "presto": "presto",
    "databricks": "databricks",
    "clickhouse": "clickhouse",
    "hive": "hive",
    "awsathena": "athena",
}
#: The name the portable default goes by in messages.
PORTABLE = "portable SQL"

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: Words that start a statement: a fragment beginning (or failing) with one is a statement, not an expression.
_STATEMENT_TOKENS = frozenset(
    getattr(TokenType, name)
    for name in [
        *("SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "DROP", "ALTER", "TRUNCATE", "COPY"),
        *("SET", "GRANT", "REVOKE", "BEGIN", "COMMIT", "ROLLBACK", "ATTACH", "DETACH", "PRAGMA", "CALL", "EXECUTE"),
        *("VACUUM", "ANALYZE", "LOAD", "USE", "SHOW", "DESCRIBE", "REPLACE", "COMMAND", "INTO", "UNION"),
        *("INTERSECT", "EXCEPT", "FROM", "WHERE", "GROUP_BY", "HAVING", "ORDER_BY", "LIMIT", "RETURNING"),
    ]
    if hasattr(TokenType, name)
)


class UnknownDialect(ValueError):
    """A database kind northstar has no SQL grammar for: nothing is sent to it."""


class FragmentRefused(Exception):
    def __init__(self, problem: Problem):
        super().__init__(f"{problem.code} {problem.message}")
        self.problem = problem


@dataclass(frozen=True)
class Fragment:
    """One fragment: what was written, its tree when it parses, and every problem with it."""

    text: str
    kind: Kind
    dialect: str | None
    tree: exp.Expression | None
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems and self.tree is not None

    def checked(self) -> exp.Expression:
        """A copy of the tree, to build on or render; FragmentRefused when the fragment has a problem."""
        if self.problems:
            raise FragmentRefused(self.problems[0])
        assert self.tree is not None
        return self.tree.copy()

    def sql(self, dialect: str | None = None) -> str:
        """The fragment rendered from its tree, for its own dialect unless told another."""
        return render(self.checked(), self.dialect if dialect is None else dialect)

    def columns(self) -> tuple[tuple[str, int | None], ...]:
        """Every column the fragment reads, in order, with the offset of its name in the text."""
        if self.tree is None:
            return ()
        found = [(c.name, sql_tree.offset(c)) for c in self.tree.find_all(exp.Column)]
        return tuple(sorted(found, key=lambda c: (c[1] is None, c[1] or 0)))


def sqlglot_dialect(dialect: str | None) -> str:
    """sqlglot's name for a dialect named like SQLAlchemy names databases ('' for the portable default)."""
    if dialect is None:
        return ""
    if dialect not in DIALECTS:
        raise UnknownDialect(
            f"northstar has no SQL grammar for {dialect!r} databases, so it cannot check their SQL "
            f"(it knows: {', '.join(sorted(DIALECTS))})"
        )
    return DIALECTS[dialect]


class _SQLiteBackticks(SQLite):
    """SQLite, writing identifiers in backticks: SQLite reads a "double-quoted" name that matches
    no column as a string, so a misspelled column would count a constant instead of failing."""

    class Tokenizer(SQLite.Tokenizer):
        IDENTIFIERS = ["`", '"', ("[", "]")]  # noqa: RUF012 (sqlglot's own declaration)


#: Where rendering a dialect needs more than sqlglot's own generator for it.
_RENDERERS: dict[str, Dialect] = {"sqlite": _SQLiteBackticks()}


def render(tree: exp.Expression, dialect: str | None) -> str:
    """SQL text for a checked tree: identifiers normalized as the dialect folds them, then all quoted."""
    name = sqlglot_dialect(dialect)
    normalized = normalize_identifiers(tree.copy(), dialect=name)
    return normalized.sql(dialect=_RENDERERS.get(name, name), identify=True, comments=False)


@functools.lru_cache(maxsize=4096)
def parse(text: str, kind: Kind, dialect: str | None = None) -> Fragment:
    """Parse and check one fragment; never raises for anything a spec can contain.

    The result is cached and shared: use `Fragment.checked()` for a tree to change.
    """
    name = sqlglot_dialect(dialect)
    if kind is Kind.COLUMN:
        return _column(text, dialect)
    if kind is Kind.TABLE:
        return _table(text, dialect)
    semicolon = text.find(";")
    if semicolon >= 0:
        return Fragment(
            text,
            kind,
            dialect,
            None,
            (
                Problem(
                    ONE_STATEMENT,
                    "`;` ends a statement: a fragment is one expression and has none, not even inside quotes",
                    semicolon,
                ),
            ),
        )
    parsed = Dialect.get_or_raise(name)
    tokenizer = parsed.tokenizer()
    try:
        tokens = tokenizer.tokenize(text)
    except TokenError:
        where = getattr(tokenizer, "_start", None)
        return Fragment(text, kind, dialect, None, (Problem(SYNTAX, _token_error(text, where), where),))
    problems: list[Problem] = []
    strings = (t for t in tokens if t.token_type.name.endswith("STRING"))
    escaped = next((t for t in strings if "\\" in text[t.start : t.end + 1]), None)
    if escaped is not None:
        problems.append(
            Problem(
                FORM,
                "a backslash in a string: databases read it differently (standard_conforming_strings, "
                "NO_BACKSLASH_ESCAPES), so a reviewer cannot tell where the string ends",
                escaped.start,
                "remove the backslash",
            )
        )
    comment = _comment(text, tokens)
    if comment is not None:
        problems.append(
            Problem(
                NO_COMMENT,
                "a comment in a fragment: what a reviewer reads must be all that runs",
                comment,
                "remove the comment; explain the metric in `description:`",
            )
        )
    if not tokens:
        problems.append(Problem(SYNTAX, "the fragment has no SQL in it", None))
        return Fragment(text, kind, dialect, None, tuple(problems))
    try:
        trees = parsed.parser(error_message_context=len(text) + 1).parse_into(exp.Condition, tokens, text)
    except ParseError as error:
        problems.append(_parse_error(text, tokens, error, dialect))
        return Fragment(text, kind, dialect, None, tuple(problems))
    tree = trees[0] if trees else None
    if tree is None:
        problems.append(Problem(SYNTAX, "the fragment has no SQL in it", None))
        return Fragment(text, kind, dialect, None, tuple(problems))
    problems += sql_tree.check(tree, kind, tokens)
    return Fragment(text, kind, dialect, tree, tuple(problems))


def _column(text: str, dialect: str | None) -> Fragment:
    if not _IDENTIFIER.match(text):
        problem = Problem(FORM, f"{text!r} is not a column name", 0, "letters, digits and underscores")
        return Fragment(text, Kind.COLUMN, dialect, None, (problem,))
    return Fragment(text, Kind.COLUMN, dialect, exp.column(exp.to_identifier(text, quoted=True)))


def _table(text: str, dialect: str | None) -> Fragment:
    parts = text.split(".")
    if len(parts) > 2 or not all(_IDENTIFIER.match(p) for p in parts):
        problem = Problem(FORM, f"{text!r} is not a table name", 0, "write `table` or `schema.table`")
        return Fragment(text, Kind.TABLE, dialect, None, (problem,))
    schema, table = (None, parts[0]) if len(parts) == 1 else (parts[0], parts[1])
    tree = exp.table_(exp.to_identifier(table, quoted=True), db=exp.to_identifier(schema, quoted=True))
    if is_system_table(schema, table):
        problem = Problem(
            OWN_TABLE,
            f"{text!r} is a system catalog of the database, not a table of data",
            0,
            "read a table of your data; catalogs (pg_*, information_schema, sqlite_master, mysql.*) are refused",
        )
        return Fragment(text, Kind.TABLE, dialect, tree, (problem,))
    return Fragment(text, Kind.TABLE, dialect, tree)


def _token_error(text: str, where: int | None) -> str:
    if where is not None and where < len(text) and text[where] in "'\"`[":
        return f"the quote {text[where]} here is never closed"
    return "the fragment cannot be read as SQL here"


def _comment(text: str, tokens: list[Token]) -> int | None:
    """The offset where the first comment starts: SQL text between tokens is whitespace or comments."""
    if not any(t.comments for t in tokens) and tokens:
        return None
    gaps = [(0, tokens[0].start if tokens else len(text))]
    gaps += [(a.end + 1, b.start) for a, b in itertools.pairwise(tokens)]
    gaps.append((tokens[-1].end + 1 if tokens else len(text), len(text)))
    for start, end in gaps:
        for offset in range(start, end):
            if not text[offset].isspace():
                return offset
    return 0 if any(t.comments for t in tokens) else None


def _parse_error(text: str, tokens: list[Token], error: ParseError, dialect: str | None) -> Problem:
    detail = error.errors[0] if error.errors else {}
    at = next((t for t in tokens if t.line == detail.get("line") and t.col == detail.get("col")), None)
    offset = at.start if at is not None else (len(detail["start_context"]) if "start_context" in detail else None)
    first = tokens[0]
    if first.token_type in _STATEMENT_TOKENS:
        return Problem(
            NO_STATEMENT,
            f"{first.text.upper()} starts a statement; a fragment is one expression",
            first.start,
            "write an expression over the source's columns; statements never run",
        )
    if at is not None and at.token_type in _STATEMENT_TOKENS:
        return Problem(
            NO_STATEMENT,
            f"{at.text.upper()} belongs to a statement; a fragment is one expression",
            at.start,
            "write an expression over the source's columns; statements never run",
        )
    where = f" near {at.text!r}" if at is not None else ""
    why = str(detail.get("description") or "").rstrip(".")
    return Problem(
        SYNTAX,
        f"not valid SQL in {dialect or PORTABLE}{where}" + (f": {why}" if why else ""),
        offset,
        "check parentheses and quotes" + ("" if dialect else "; declare the database's `dialect:` in northstar.yaml"),
    )


def node_offset(node: exp.Expression) -> int | None:
    """Where a node of a parsed fragment starts in its text (None when sqlglot kept no position for it)."""
    return sql_tree.offset(node)


@dataclass(frozen=True)
class Site:
    """Where a fragment sits in a spec: its JSON path, what it must be, and the database it runs on."""

    path: JsonPath
    kind: Kind
    text: str
    database: str | None


def sites(spec: Spec) -> Iterator[Site]:
    """Every SQL fragment of a spec: sources' tables, time columns, dimensions and units, what
    "retained" means, then each metric's (candidates' too)."""
    for source in spec.sources.values():
        table = f"{source.schema}.{source.table}" if source.schema else source.table
        yield Site(source.path + ("table",), Kind.TABLE, table, source.database)
        yield Site(source.path + ("time_column",), Kind.COLUMN, source.time_column, source.database)
        for i, dimension in enumerate(source.dimensions):
            yield Site(source.path + ("dimensions", i), Kind.COLUMN, dimension, source.database)
        if source.unit:
            yield Site(source.path + ("unit",), Kind.COLUMN, source.unit, source.database)
    if spec.retained is not None:
        read = spec.sources.get(spec.retained.source)
        database = read.database if read else None
        yield Site(spec.retained.path + ("filter",), Kind.FILTER, spec.retained.filter, database)
    for metric in spec.computable:
        read = spec.sources.get(metric.source)
        database = read.database if read else None
        if metric.measure and metric.measure.column:
            yield Site(metric.path + ("measure", "column"), Kind.COLUMN, metric.measure.column, database)
        if metric.ratio:
            for side in ("numerator", "denominator"):
                part = getattr(metric.ratio, side)
                if part.measure.column:
                    path = metric.path + ("ratio", side, "measure", "column")
                    yield Site(path, Kind.COLUMN, part.measure.column, database)
                if part.filter:
                    yield Site(metric.path + ("ratio", side, "filter"), Kind.FILTER, part.filter, database)
        if metric.filter:
            yield Site(metric.path + ("filter",), Kind.FILTER, metric.filter, database)
        if metric.sql:
            yield Site(metric.path + ("sql",), Kind.AGGREGATE, metric.sql, database)


def dialect_of(project: Project, database: str | None) -> str | None:
    """The dialect northstar.yaml declares for a database; None (the portable default) when it does not."""
    declared = project.databases.get(database) if database else None
    return declared.dialect if declared else None
