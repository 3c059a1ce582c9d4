"""NS9xx: the specs work: every installed target compiles them (NS901) and,
with `northstar validate --warehouse` (and before every deploy), every
metric runs on its database (NS902-NS906).

Findings come from stages after lint, not from lint checks: the targets'
compile checks, registered under the `northstar.checks` entry point, and the
warehouse preflight (northstar_spec.warehouse.preflight). They run only on
specs without errors, so they never repeat what lint already said.
"""

from northstar_spec.spec.diagnostics import Severity
from northstar_spec.spec.rule import declare

E, W = Severity.ERROR, Severity.WARNING

COMPILES = declare(
    "NS901",
    "target-compiles",
    E,
    "fix what the target names; `northstar compile` shows the same error",
    """
    Every installed target (the Superset compiler) compiles the specs.

    Why: "valid" must mean "deployable": `northstar validate` runs each
    target's compiler with the output thrown away, so a spec that validates
    also compiles. Database URIs are not needed: where the environment does
    not set one, a placeholder of a portable dialect stands in.

    Bad:

        # northstar.yaml, with NORTHSTAR_WAREHOUSE_URI=warehouse.example/db
        databases:
          warehouse: {uri_env: NORTHSTAR_WAREHOUSE_URI}

    Good:

        # NORTHSTAR_WAREHOUSE_URI=postgresql://reader@warehouse.example/db
        databases:
          warehouse: {uri_env: NORTHSTAR_WAREHOUSE_URI}
""",
)

TABLE_MISSING = declare(
    "NS902",
    "warehouse-table",
    E,
    "check the table's name and schema, and that the database user may read it",
    """
    A source's table cannot be read on its database.

    Why: every metric of the source would show "Data error" on every chart.
    Found by `northstar validate --warehouse` and before `northstar deploy`.

    Bad:

        sources:
          events: {database: warehouse, table: analytics.event, time_column: occurred_at}

    Good:

        sources:
          events: {database: warehouse, table: analytics.events, time_column: occurred_at}
""",
)

COLUMN_FAILS = declare(
    "NS903",
    "warehouse-column",
    E,
    "use a column the table has (and, for the time column, one with dates or timestamps)",
    """
    A column a spec names does not exist in its source's table, or cannot be
    used as written: a measure's column, a column in a filter, a time
    column that does not hold dates, a source's `dimensions` or `unit`, or
    a column in the `retained:` filter.

    Why: the metric's query fails on the warehouse and its chart shows
    "Data error" (or `northstar explain` and `northstar candidates` fail).
    Found by `northstar validate --warehouse` and before `northstar deploy`,
    at the column.

    Bad:

        measure: {aggregate: count_distinct, column: team_idd}

    Good:

        measure: {aggregate: count_distinct, column: team_id}
""",
)

METRIC_FAILS = declare(
    "NS904",
    "warehouse-metric",
    E,
    "run the metric's SQL on the database to see the error, and fix the expression",
    """
    A metric's expression fails on its database: a type error, a function
    the database does not have, an error only the data raises (a cast of a
    value that is no number).

    Why: the chart would show "Data error". Found by `northstar validate
    --warehouse`, which runs every metric over the last day, and before
    `northstar deploy`.

    Bad:

        sql: "SUM(CAST(event_type AS INTEGER))"

    Good:

        sql: "SUM(duration_ms) / 3600000.0"
""",
)

DENOMINATOR_ZERO = declare(
    "NS905",
    "warehouse-denominator",
    W,
    "check the denominator's filter against the data: no recent row matches it",
    """
    A ratio's denominator matches no row in the recent periods shown on the
    dashboard, so the ratio has no value in any of them.

    Why: a denominator that is always zero is usually a filter on a value
    the data does not have (`event_type = 'team_create'` for
    `'team_created'`); the chart stays empty and nobody notices why. Found
    by `northstar validate --warehouse` and before `northstar deploy`; a
    warning, since a new product may simply have no data yet.

    Bad:

        denominator: {measure: {aggregate: count}, filter: "event_type = 'team_create'"}

    Good:

        denominator: {measure: {aggregate: count}, filter: "event_type = 'team_created'"}
""",
)

WAREHOUSE_WRITABLE = declare(
    "NS906",
    "warehouse-read-only",
    W,
    "connect as a user that may only read (GRANT SELECT), or open SQLite files read-only",
    """
    The database user northstar connects as may write to the warehouse.

    Why: specs come from pull requests; northstar runs every query read-only
    and parses every fragment, but a user that can only read is the
    guarantee that holds whatever else fails. Found by `northstar validate
    --warehouse` and before `northstar deploy`.

    Bad:

        NORTHSTAR_WAREHOUSE_URI=postgresql://postgres@warehouse/analytics

    Good:

        NORTHSTAR_WAREHOUSE_URI=postgresql://northstar_reader@warehouse/analytics
""",
)

RULES = [COMPILES, TABLE_MISSING, COLUMN_FAILS, METRIC_FAILS, DENOMINATOR_ZERO, WAREHOUSE_WRITABLE]
