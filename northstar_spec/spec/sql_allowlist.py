"""The SQL a spec may write: every function, operator and form a fragment may use.

A spec comes by pull request from anyone, so its SQL is allowed what a
metric needs and nothing else: anything not listed here is refused, which
keeps server-side and file functions (pg_sleep, pg_read_file, lo_import,
dblink, set_config, load_extension, …), statements (COPY, ATTACH, SET …),
subqueries and system catalogs out by default rather than by a list of
known dangers. This one module is read by the fragment check
(northstar_spec.spec.fragments), by the statement guard every warehouse
connection runs (northstar_spec.warehouse.guard), and printed in the rules'
documentation and the README.

Functions are matched by the expression type sqlglot parses them into, never
by name, so one spelling of an allowed function cannot smuggle in another.
"""

from __future__ import annotations

from sqlglot import exp

#: Function spellings by family, each with the sqlglot expression types it parses into.
FUNCTIONS: dict[str, dict[str, tuple[type[exp.Expression], ...]]] = {
    "aggregate": {
        "COUNT": (exp.Count,),
        "SUM": (exp.Sum,),
        "AVG": (exp.Avg,),
        "MIN": (exp.Min,),
        "MAX": (exp.Max,),
        "STDDEV": (exp.Stddev,),
        "STDDEV_POP": (exp.StddevPop,),
        "STDDEV_SAMP": (exp.StddevSamp,),
        "VARIANCE": (exp.Variance,),
        "VAR_POP": (exp.VariancePop,),
    },
    "arithmetic": {
        "ABS": (exp.Abs,),
        "ROUND": (exp.Round,),
        "CEIL": (exp.Ceil,),
        "CEILING": (exp.Ceil,),
        "FLOOR": (exp.Floor,),
        "GREATEST": (exp.Greatest,),
        "LEAST": (exp.Least,),
        "POWER": (exp.Pow,),
        "SQRT": (exp.Sqrt,),
        "LN": (exp.Ln,),
        "LOG": (exp.Log, exp.Ln),
        "EXP": (exp.Exp,),
        "SIGN": (exp.Sign,),
        "MOD": (exp.Mod,),
    },
    "conditional": {
        "CASE": (exp.Case, exp.If),
        "COALESCE": (exp.Coalesce,),
        "IFNULL": (exp.Coalesce,),
        "NULLIF": (exp.Nullif,),
        "IF": (exp.If,),
        "IIF": (exp.If,),
    },
    "conversion": {
        "CAST": (exp.Cast,),
    },
    "string": {
        "LOWER": (exp.Lower,),
        "UPPER": (exp.Upper,),
        "LENGTH": (exp.Length,),
        "CHAR_LENGTH": (exp.Length,),
        "TRIM": (exp.Trim,),
        "LTRIM": (exp.Trim,),
        "RTRIM": (exp.Trim,),
        "SUBSTRING": (exp.Substring,),
        "SUBSTR": (exp.Substring,),
        "CONCAT": (exp.Concat,),
        "REPLACE": (exp.Replace,),
        "LEFT": (exp.Left,),
        "RIGHT": (exp.Right,),
        "POSITION": (exp.StrPosition,),
        "STRPOS": (exp.StrPosition,),
        "INSTR": (exp.StrPosition,),
    },
    "date": {
        "DATE": (exp.Date, exp.TsOrDsToDate),
        "DATE_TRUNC": (exp.TimestampTrunc, exp.DateTrunc),
        "EXTRACT": (exp.Extract,),
        "DATE_PART": (exp.Extract,),
        "CURRENT_DATE": (exp.CurrentDate,),
        "CURRENT_TIMESTAMP": (exp.CurrentTimestamp,),
        "NOW": (exp.CurrentTimestamp,),
        "DATE_ADD": (exp.DateAdd,),
        "DATE_SUB": (exp.DateSub,),
        "DATEDIFF": (exp.DateDiff,),
        "DATE_DIFF": (exp.DateDiff,),
        "YEAR": (exp.Year,),
        "QUARTER": (exp.Quarter,),
        "MONTH": (exp.Month,),
        "DAY": (exp.Day,),
        "DAYOFWEEK": (exp.DayOfWeek,),
        "STRFTIME": (exp.TimeToStr,),
        "TO_CHAR": (exp.TimeToStr, exp.ToChar),
    },
}

#: The aggregate functions: what makes an expression an aggregate (`sql`), and what a filter may not use.
AGGREGATES: frozenset[type[exp.Expression]] = frozenset(t for ts in FUNCTIONS["aggregate"].values() for t in ts)
#: Every function type a fragment may call.
FUNCTION_TYPES: frozenset[type[exp.Expression]] = frozenset(
    t for family in FUNCTIONS.values() for ts in family.values() for t in ts
)

#: Operators and forms by family, as documentation: the types below are what the check reads.
FORMS: dict[str, str] = {
    "comparison": "= <> != < <= > >=, IS [NOT] NULL, IS [NOT] DISTINCT FROM, [NOT] IN (a list of values), "
    "[NOT] BETWEEN, [NOT] LIKE and ILIKE (with ESCAPE), AND, OR, NOT, TRUE, FALSE",
    "arithmetic": "+ - * / %, unary minus",
    "string": "|| (concatenation)",
    "values": "numbers, 'strings' (without backslashes) and N'strings', NULL, DATE 'yyyy-mm-dd', INTERVAL",
    "columns": "columns of the source, quoted or not, never qualified by a table",
    "aggregates": "COUNT(*), DISTINCT inside an aggregate; in `sql` only, windows: "
    "OVER (PARTITION BY … ORDER BY … ROWS|RANGE …)",
}

#: The only forms a filter's top may take: a condition over a row.
PREDICATES: frozenset[type[exp.Expression]] = frozenset(
    {
        exp.EQ,
        exp.NEQ,
        exp.GT,
        exp.GTE,
        exp.LT,
        exp.LTE,
        exp.NullSafeEQ,
        exp.NullSafeNEQ,
        exp.Is,
        exp.In,
        exp.Between,
        exp.Like,
        exp.ILike,
        exp.Escape,
        exp.And,
        exp.Or,
        exp.Not,
        exp.Boolean,
        # A column alone is a boolean column: the warehouse tells whether it is one.
        exp.Column,
    }
)

#: Expression types a fragment may contain besides the functions (where each may appear is checked too).
FORM_TYPES: frozenset[type[exp.Expression]] = PREDICATES | frozenset(
    {
        exp.Identifier,
        exp.Literal,
        exp.National,
        exp.Null,
        exp.Paren,
        exp.Neg,
        exp.Add,
        exp.Sub,
        exp.Mul,
        exp.Div,
        exp.Mod,
        exp.DPipe,
        exp.Distinct,
        exp.Star,
        exp.DataType,
        exp.DataTypeParam,
        exp.Var,
        exp.Interval,
        exp.Window,
        exp.WindowSpec,
        exp.Order,
        exp.Ordered,
    }
)

_T = exp.DataType.Type
#: The types CAST may convert to: numbers, text, dates and times, booleans. Not the ones that look
#: things up in a catalog (regclass, oid …) or build documents (json, xml).
CAST_TYPES: frozenset[exp.DataType.Type] = frozenset(
    {
        _T.TINYINT,
        _T.SMALLINT,
        _T.INT,
        _T.BIGINT,
        _T.UTINYINT,
        _T.USMALLINT,
        _T.UINT,
        _T.UBIGINT,
        _T.DECIMAL,
        _T.FLOAT,
        _T.DOUBLE,
        _T.CHAR,
        _T.NCHAR,
        _T.VARCHAR,
        _T.NVARCHAR,
        _T.TEXT,
        _T.DATE,
        _T.DATETIME,
        _T.TIME,
        _T.TIMESTAMP,
        _T.TIMESTAMPTZ,
        _T.TIMESTAMPLTZ,
        _T.BOOLEAN,
    }
)

#: What no table a source reads may be: the databases' own catalogs.
SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema", "mysql", "performance_schema", "sys", "pg_toast"})
SYSTEM_TABLE_PREFIXES = ("pg_", "sqlite_")


def is_system_table(schema: str | None, table: str) -> bool:
    """A catalog or system table: what a source must never read."""
    schema, table = (schema or "").lower(), table.lower()
    return schema in SYSTEM_SCHEMAS or schema.startswith("pg_") or table.startswith(SYSTEM_TABLE_PREFIXES)


def functions_list() -> str:
    """The functions a fragment may call, by family, as a markdown list (documentation)."""
    return "\n".join(f"- {family}: {', '.join(names)}" for family, names in FUNCTIONS.items())


def forms_list() -> str:
    """The operators and forms a fragment may use, and the types CAST may convert to, as a markdown list."""
    lines = [f"- {family}: {text}" for family, text in FORMS.items()]
    lines.append(f"- CAST and :: convert to: {', '.join(sorted(t.value for t in CAST_TYPES))}")
    return "\n".join(lines)
