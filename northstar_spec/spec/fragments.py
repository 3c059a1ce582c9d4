"""The SQL fragments of a spec, parsed into trees: the one place spec text becomes SQL.

A spec holds SQL in five places: a metric's `filter` (and each ratio part's),
a metric's `sql`, a measure's `column`, and a source's `table` and
`time_column`. A spec comes by pull request from anyone, so each fragment
is parsed with sqlglot in the dialect of its database, checked against the
allow-list (northstar_spec.spec.sql_allowlist), and only ever reaches a
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

import enum
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

from northstar_spec.spec.loading import JsonPath
from northstar_spec.spec.model import Project, Spec
from northstar_spec.spec.sql_allowlist import (
    AGGREGATES,
    CAST_TYPES,
    FORM_TYPES,
    FUNCTION_TYPES,
    PREDICATES,
    is_system_table,
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

# The rule codes (their documentation is in northstar_spec.spec.rules.sql).
SYNTAX = "NS701"
ONE_STATEMENT = "NS702"
NO_STATEMENT = "NS703"
OWN_TABLE = "NS704"
NO_COMMENT = "NS705"
FUNCTION = "NS706"
FILTER_BOOLEAN = "NS707"
AGGREGATE = "NS708"
FORM = "NS709"

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
#: Nodes that read something other than the current row of the source.
_OTHER_TABLES = (exp.Query, exp.Subquery, exp.Exists, exp.Table, exp.From, exp.Join, exp.Lateral, exp.Values)
_STATEMENTS = (exp.DDL, exp.DML, exp.Command, exp.Set, exp.Transaction, exp.Commit, exp.Rollback, exp.Copy)
_FORM_NAMES = {
    exp.Alias: "an alias (AS)",
    exp.Parameter: "a parameter",
    exp.Placeholder: "a placeholder",
    exp.SessionParameter: "a session variable",
    exp.Bracket: "an array subscript",
    exp.Array: "an array",
    exp.Tuple: "a tuple",
    exp.Collate: "COLLATE",
    exp.Filter: "an aggregate FILTER clause (write CASE WHEN inside the aggregate)",
    exp.Any: "ANY",
    exp.All: "ALL",
    exp.Dot: "a dotted path",
    exp.BitwiseAnd: "the bitwise operator &",
    exp.BitwiseOr: "the bitwise operator |",
    exp.BitwiseXor: "the bitwise operator ^",
    exp.RegexpLike: "a regular expression match",
    exp.Glob: "GLOB",
}


class Kind(str, enum.Enum):
    """What a fragment must be."""

    FILTER = "filter"  # one boolean expression over a row of the source
    AGGREGATE = "sql"  # one aggregate expression over the source's rows
    COLUMN = "column"  # a column of the source
    TABLE = "table"  # a (schema-qualified) table name


class UnknownDialect(ValueError):
    """A database kind northstar has no SQL grammar for: nothing is sent to it."""


@dataclass(frozen=True)
class Problem:
    """Why a fragment is refused: a rule code, a message, and where (None: the whole fragment)."""

    code: str
    message: str
    offset: int | None = None
    hint: str | None = None


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
        found = [(c.name, _offset(c)) for c in self.tree.find_all(exp.Column)]
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
    problems += _check(tree, kind, tokens)
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
    return _offset(node)


def _offset(node: exp.Expression, tokens: list[Token] | tuple[()] = ()) -> int | None:
    """Where a node starts in the text.

    sqlglot remembers positions for names and literals only: a node starts at
    its first remembered descendant, or earlier at its own keyword (SELECT,
    CURRENT_USER, a type name, `@`) when a token spelling it comes before.
    """
    starts = [n.meta["start"] for n in node.walk() if "start" in n.meta]
    first = min(starts) if starts else None
    names = {node.key.upper(), node.sql(comments=False).upper()}
    if isinstance(node, exp.Func):
        names.add(_function_name(node))
    spelled = [
        t.start
        for t in tokens
        if (t.text.upper() in names or t.token_type.name.replace("_", "") == node.key.upper())
        and (first is None or t.start <= first)
    ]
    if spelled:
        return spelled[-1] if first is not None else spelled[0]
    return first


def _snippet(node: exp.Expression) -> str:
    text = node.sql(comments=False)
    return text if len(text) <= 40 else text[:37] + "…"


def _check(tree: exp.Expression, kind: Kind, tokens: list[Token]) -> list[Problem]:
    problems: list[Problem] = []
    _walk(tree, kind, tokens, problems)
    if not problems:
        problems += _shape(tree, kind)
    return sorted(problems, key=lambda p: (p.offset is None, p.offset or 0))


def _walk(node: exp.Expression, kind: Kind, tokens: list[Token], problems: list[Problem]) -> None:
    """Every node against the allow-list; a refused node's children are not looked at."""
    problem = _refusal(node, kind, tokens)
    if problem is not None:
        problems.append(problem)
        return
    for child in node.iter_expressions():
        _walk(child, kind, tokens, problems)


def _refusal(node: exp.Expression, kind: Kind, tokens: list[Token]) -> Problem | None:
    where = _offset(node, tokens)
    kind_of = type(node)
    parent = node.parent
    if isinstance(node, _STATEMENTS):
        return Problem(NO_STATEMENT, f"{node.key.upper()} is a statement; a fragment is one expression", where)
    if isinstance(node, exp.In) and node.args.get("query") is not None:
        node = node.args["query"]
    if isinstance(node, _OTHER_TABLES):
        query = node.this if isinstance(node, exp.Subquery) else node
        opening = query.args.get("with_") or query  # a query starts at its WITH, when it has one
        return Problem(
            OWN_TABLE,
            f"a subquery ({_snippet(query)}): a fragment reads the rows of its source and nothing else",
            _offset(opening, tokens),
            "use the source's columns; put other data in the source's table or view",
        )
    if isinstance(node, exp.Column):
        if node.args.get("table") or node.args.get("db") or node.args.get("catalog"):
            return Problem(
                OWN_TABLE,
                f"column {node.sql(comments=False)} names a table: a fragment reads only its source's columns",
                where,
                f"write the column alone: {node.name}",
            )
        if not isinstance(node.this, exp.Identifier):
            return Problem(FORM, f"{_snippet(node)} is not a column", where)
        return None
    if kind_of in FUNCTION_TYPES:
        if kind_of is exp.Cast:
            target = node.args.get("to")
            if type(target) is not exp.DataType or target.this not in CAST_TYPES:
                return Problem(
                    FUNCTION,
                    f"CAST to {target.sql(comments=False) if target else '?'} is not allowed",
                    _offset(target, tokens) if target is not None else where,
                    "cast to a number, text, date, time, timestamp or boolean type",
                )
        return None
    if kind_of in FORM_TYPES:  # before Func: AND and OR are functions to sqlglot
        return _misplaced(node, kind, parent, where)
    if isinstance(node, exp.Func):
        return Problem(
            FUNCTION,
            f"function {_function_name(node)} is not on the allow-list",
            where,
            "`northstar rules NS706` lists the functions a fragment may call",
        )
    inner = node.find(exp.SessionParameter, exp.Parameter, exp.Placeholder)
    if inner is not None:
        node, where = inner, _offset(inner, tokens)
    what = _FORM_NAMES.get(type(node), f"{node.key.upper()} ({_snippet(node)})")
    return Problem(FORM, f"{what} is not allowed in a fragment", where, "`northstar rules NS709` lists the forms")


def _function_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Func) and not isinstance(node, exp.Anonymous):
        return node.sql_name().upper()
    return node.name.upper()


def _misplaced(node: exp.Expression, kind: Kind, parent: exp.Expression | None, where: int | None) -> Problem | None:
    """Forms allowed only in some places: `*` in COUNT, DISTINCT in an aggregate, windows in `sql` …"""
    key = node.arg_key
    allowed = True
    if isinstance(node, exp.Star):
        allowed = isinstance(parent, exp.Count) and key == "this"
    elif isinstance(node, exp.Distinct):
        allowed = type(parent) in AGGREGATES and key == "this" and not node.args.get("on")
    elif isinstance(node, exp.Var):
        allowed = key == "unit" or (isinstance(parent, exp.Extract) and key == "this")
    elif isinstance(node, exp.Identifier):
        allowed = isinstance(parent, exp.Column)
    elif isinstance(node, (exp.DataType, exp.DataTypeParam)):
        allowed = isinstance(parent, (exp.Cast, exp.DataType, exp.DataTypeParam))
    elif isinstance(node, exp.Window):
        if kind is not Kind.AGGREGATE:
            return Problem(FORM, "a window function belongs in `sql`, not in a filter", where)
        allowed = not node.args.get("alias") and type(node.this) in AGGREGATES
    elif isinstance(node, (exp.WindowSpec, exp.Order, exp.Ordered)):
        allowed = any(isinstance(p, exp.Window) for p in _ancestors(node))
    elif isinstance(node, exp.In):
        allowed = not node.args.get("unnest") and not node.args.get("field")
    if allowed:
        return None
    return Problem(FORM, f"{_snippet(node)} is not allowed here", where, "`northstar rules NS709` lists the forms")


def _ancestors(node: exp.Expression) -> Iterator[exp.Expression]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def _aggregated(node: exp.Expression) -> bool:
    """Inside an aggregate (a window's own function does not count: it runs over the aggregated rows)."""
    for ancestor in _ancestors(node):
        window_function = isinstance(ancestor.parent, exp.Window) and ancestor.arg_key == "this"
        if type(ancestor) in AGGREGATES and not window_function:
            return True
    return False


def _shape(tree: exp.Expression, kind: Kind) -> list[Problem]:
    """A filter is a condition over one row; `sql` aggregates every column it reads."""
    top = tree.unnest() if isinstance(tree, exp.Paren) else tree
    if kind is Kind.FILTER:
        problems = [
            Problem(
                FILTER_BOOLEAN,
                f"{_function_name(node)} aggregates rows; a filter picks single rows",
                _offset(node),
                "move the aggregate to `sql`",
            )
            for node in tree.walk()
            if type(node) in AGGREGATES
        ]
        if type(top) not in PREDICATES:
            problems.append(
                Problem(
                    FILTER_BOOLEAN,
                    f"a filter is a condition (true or false for a row); {_snippet(top)} is not",
                    _offset(top),
                    "compare a column: event_type = 'signup'",
                )
            )
        return problems
    if kind is Kind.AGGREGATE:
        if not any(type(n) in AGGREGATES for n in tree.walk()):
            return [
                Problem(
                    AGGREGATE,
                    f"`sql` is an aggregate over the period's rows; {_snippet(top)} aggregates nothing",
                    _offset(top),
                    "wrap it in an aggregate: SUM(…), COUNT(…), AVG(…)",
                )
            ]
        return [
            Problem(
                AGGREGATE,
                f"column {column.name} is read outside any aggregate; `sql` computes one value per period",
                _offset(column),
                f"aggregate it: SUM({column.name}), MAX({column.name}) …",
            )
            for column in tree.find_all(exp.Column)
            if not _aggregated(column)
        ]
    return []


@dataclass(frozen=True)
class Site:
    """Where a fragment sits in a spec: its JSON path, what it must be, and the database it runs on."""

    path: JsonPath
    kind: Kind
    text: str
    database: str | None


def sites(spec: Spec) -> Iterator[Site]:
    """Every SQL fragment of a spec: sources' tables and time columns, then each metric's."""
    for source in spec.sources.values():
        table = f"{source.schema}.{source.table}" if source.schema else source.table
        yield Site(source.path + ("table",), Kind.TABLE, table, source.database)
        yield Site(source.path + ("time_column",), Kind.COLUMN, source.time_column, source.database)
    for metric in spec.metrics_and_outcome:
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
