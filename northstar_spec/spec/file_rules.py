"""NS0xx: the file itself and its shape. Findings come from the loading and
JSON Schema stages, which import these declarations (so they live here, not
among the lint rules); a file with any of them is not linted further."""

from northstar_spec.spec.diagnostics import Diagnostic, Severity, has_errors
from northstar_spec.spec.rule import declare

E = Severity.ERROR

YAML_SYNTAX = declare(
    "NS001",
    "yaml-syntax",
    E,
    "fix the YAML syntax at this position",
    """
    The file is not valid YAML.

    Why: nothing can be checked in a file that does not parse.

    Bad:

        north_star:
          name: Weekly active teams
         id: weekly_active_teams

    Good:

        north_star:
          name: Weekly active teams
          id: weekly_active_teams
""",
)

DUPLICATE_KEY = declare(
    "NS002",
    "duplicate-key",
    E,
    "remove one of the two entries",
    """
    A mapping has the same key twice.

    Why: YAML parsers silently keep the last value, so a reviewer reading the
    first one is misled about what is deployed.

    Bad:

        north_star:
          owner: growth
          owner: product-leadership

    Good:

        north_star:
          owner: product-leadership
""",
)

TOO_COMPLEX = declare(
    "NS003",
    "document-too-complex",
    E,
    "write the spec out plainly; avoid aliases that multiply nodes",
    """
    The document expands to too many nodes, or nests too deeply.

    Why: YAML aliases can expand a small file into billions of nodes (an
    "alias bomb"); a spec never needs more than a few thousand.

    Bad:

        a: &a [x, x, x, x, x, x, x, x, x]
        b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
        c: [*b, *b, *b, *b, *b, *b, *b, *b, *b]

    Good:

        inputs:
          - id: new_team_activation
""",
)

ENCODING = declare(
    "NS004",
    "encoding",
    E,
    "save the file as UTF-8 text",
    """
    The file is not UTF-8 text (it has invalid bytes or looks binary).

    Why: specs are reviewed as text in pull requests; anything else cannot be
    read reliably by people or tools.

    Bad:

        name: Caf\\xe9 (a Latin-1 byte)

    Good:

        name: Café
""",
)

FILE_TOO_LARGE = declare(
    "NS005",
    "file-too-large",
    E,
    "split the file; one spec describes one product",
    """
    The file is larger than 1 MiB.

    Why: a spec for one product is a few kilobytes; a huge file is a mistake
    (a data dump, a generated file) and would slow every tool that reads it.

    Bad:

        (a 5 MB export pasted into specs/)

    Good:

        (one product per file, a few kilobytes each)
""",
)

NOT_A_MAPPING = declare(
    "NS006",
    "not-a-mapping",
    E,
    "a spec file is one YAML mapping that starts with `apiVersion: northstar/v1`",
    """
    The document is empty or is not a mapping of keys to values.

    Why: a spec is one mapping with `apiVersion`, `kind`, `product` and so on.

    Bad:

        - apiVersion: northstar/v1

    Good:

        apiVersion: northstar/v1
        kind: NorthStar
""",
)

UNREADABLE = declare(
    "NS007",
    "unreadable-file",
    E,
    "check the path and its permissions",
    """
    The file cannot be read.

    Why: a spec that cannot be read cannot be validated; this is never silently
    skipped.

    Bad:

        (a path without read permission)

    Good:

        (a readable file)
""",
)

BIDI_CONTROL = declare(
    "NS008",
    "bidi-control-character",
    E,
    "delete the invisible character; write right-to-left text without direction overrides",
    """
    The file contains a bidirectional control character (U+202A to U+202E,
    U+2066 to U+2069, U+200E, U+200F or U+061C).

    Why: these invisible characters reorder the text around them, so a name,
    a filter or a comment reads one way in a pull request and means another
    ("Trojan Source"); a reversed name on a dashboard misleads every reader.
    Wherever northstar shows spec text it prints them as `⟨U+202E⟩` marks.
    The file is still checked further; a project that needs them for
    right-to-left text can set this rule to `warning`.

    Bad:

        name: "Weekly \\u202eteams active"   (an override that reverses the rest)

    Good:

        name: Weekly active teams
""",
)

UNKNOWN_KEY = declare(
    "NS010",
    "unknown-key",
    E,
    "remove the key or fix its spelling",
    """
    A key that the spec format does not define.

    Why: a misspelt key (`ownr:`) would otherwise be silently ignored and the
    value it was meant to set would be missing.

    Bad:

        north_star:
          ownr: product-leadership

    Good:

        north_star:
          owner: product-leadership
""",
)

MISSING_KEY = declare(
    "NS011",
    "missing-key",
    E,
    "add the key; see `northstar rules NS011` and the schema",
    """
    A required key is missing.

    Why: without it the spec cannot be compiled (an id, a name, a source, …).

    Bad:

        north_star:
          name: Weekly active teams

    Good:

        north_star:
          id: weekly_active_teams
          name: Weekly active teams
""",
)

WRONG_TYPE = declare(
    "NS012",
    "wrong-type",
    E,
    "check the value's type against the schema",
    """
    A value has the wrong type (a list where a mapping is expected, text where
    a number is expected, …).

    Why: the compiler and the evaluator rely on the shape the schema describes.

    Bad:

        target: {value: "twelve hundred"}

    Good:

        target: {value: 1200}
""",
)

INVALID_VALUE = declare(
    "NS013",
    "invalid-value",
    E,
    "use one of the allowed values",
    """
    A value is not allowed: not one of the listed choices, not a valid date,
    not a valid id, out of range.

    Why: ids become Superset names and UUIDs, dates drive review reminders,
    enumerations drive the method's checks.

    Bad:

        grain: weekly

    Good:

        grain: week
""",
)

INVALID_SHAPE = declare(
    "NS014",
    "invalid-shape",
    E,
    "a metric has exactly one of `measure`, `ratio` or `sql`",
    """
    A mapping does not match any of the allowed shapes.

    Why: a metric is defined by exactly one of a measure, a ratio or a raw SQL
    aggregate; two of them would be ambiguous.

    Bad:

        measure: {aggregate: count}
        sql: COUNT(*)

    Good:

        measure: {aggregate: count}
""",
)

NUMBER_OUT_OF_RANGE = declare(
    "NS017",
    "number-out-of-range",
    E,
    "write a plain number between -1e15 and 1e15",
    """
    A target or threshold is not a finite number within -1e15 to 1e15
    (`.nan`, `.inf`, `1e400`, a 400-digit integer).

    Why: YAML reads `.nan`, `.inf` and numbers too large for a float without
    complaint, but no chart can draw them and no arithmetic survives them: a
    NaN target breaks the dashboard's chart, a 400-digit one stops the
    compiler. The bounds are far beyond any real metric and within what a
    float (and the browser) holds exactly.

    Bad:

        target: {value: .nan}
        threshold: {max: 1e400}

    Good:

        target: {value: 1200}
        threshold: {max: 40}
""",
)

UNKNOWN_RULE = declare(
    "NS016",
    "unknown-rule",
    E,
    "see `northstar rules` for every code and name",
    """
    northstar.yaml sets the severity of a rule that does not exist.

    Why: a misspelt rule code would silently leave the rule at its default.

    Bad:

        rules:
          NS999: off

    Good:

        rules:
          NS502: error
""",
)

RULES = [
    YAML_SYNTAX,
    DUPLICATE_KEY,
    TOO_COMPLEX,
    ENCODING,
    FILE_TOO_LARGE,
    NOT_A_MAPPING,
    UNREADABLE,
    BIDI_CONTROL,
    UNKNOWN_KEY,
    MISSING_KEY,
    WRONG_TYPE,
    INVALID_VALUE,
    INVALID_SHAPE,
    UNKNOWN_RULE,
    NUMBER_OUT_OF_RANGE,
]

#: Findings about a file that can still be read as a spec: it is built and
#: linted like any other, so that turning the rule off never hides the spec.
ADVISORY = frozenset({BIDI_CONTROL.code})


def blocks(diagnostics: list[Diagnostic]) -> bool:
    """Whether the file's findings stop it from being built into a model."""
    return has_errors(d for d in diagnostics if d.code not in ADVISORY)
