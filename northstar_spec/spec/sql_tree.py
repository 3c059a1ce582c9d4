"""What a parsed fragment may contain: its tree checked node by node against the allow-list.

The vocabulary of the fragment check (`Kind`, `Problem`, the NS7xx codes) and
the check itself: every node is allowed by northstar_spec.spec.sql_allowlist,
in a place it may appear; a filter is a condition on a row; `sql` aggregates
every column it reads. Each problem carries the offset in the fragment's text
it is about. northstar_spec.spec.fragments parses and renders; this judges.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.tokens import Token

from northstar_spec.spec.sql_allowlist import AGGREGATES, CAST_TYPES, FORM_TYPES, FUNCTION_TYPES, PREDICATES

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


class Kind(str, enum.Enum):
    """What a fragment must be."""

    FILTER = "filter"  # one boolean expression over a row of the source
    AGGREGATE = "sql"  # one aggregate expression over the source's rows
    COLUMN = "column"  # a column of the source
    TABLE = "table"  # a (schema-qualified) table name


@dataclass(frozen=True)
class Problem:
    """Why a fragment is refused: a rule code, a message, and where (None: the whole fragment)."""

    code: str
    message: str
    offset: int | None = None
    hint: str | None = None


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


def offset(node: exp.Expression, tokens: list[Token] | tuple[()] = ()) -> int | None:
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


def check(tree: exp.Expression, kind: Kind, tokens: list[Token]) -> list[Problem]:
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
    where = offset(node, tokens)
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
            offset(opening, tokens),
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
                    offset(target, tokens) if target is not None else where,
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
        node, where = inner, offset(inner, tokens)
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
                offset(node),
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
                    offset(top),
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
                    offset(top),
                    "wrap it in an aggregate: SUM(…), COUNT(…), AVG(…)",
                )
            ]
        return [
            Problem(
                AGGREGATE,
                f"column {column.name} is read outside any aggregate; `sql` computes one value per period",
                offset(column),
                f"aggregate it: SUM({column.name}), MAX({column.name}) …",
            )
            for column in tree.find_all(exp.Column)
            if not _aggregated(column)
        ]
    return []
