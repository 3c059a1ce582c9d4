"""The one finding type every stage reports, and the reporters that print it.

YAML syntax errors, schema violations and method lint all end up as a
`Diagnostic`, so a reporter, an exit code or a test never needs to know which
stage found a problem.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field
from pathlib import PurePath
from typing import Callable, Iterable
from urllib.parse import quote


class Severity(str, enum.Enum):
    """How much a finding matters; `off` exists only in configuration."""

    ERROR = "error"
    WARNING = "warning"
    OFF = "off"


@dataclass(frozen=True, order=True)
class Location:
    """Where a finding points: 1-based line and column, like every editor."""

    file: str
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    code: str
    name: str
    severity: Severity
    message: str
    location: Location
    hint: str = ""
    json_path: str = ""
    related: tuple[Location, ...] = field(default=())

    @property
    def sort_key(self) -> tuple:
        return (self.location, self.code, self.message)

    def with_severity(self, severity: Severity) -> "Diagnostic":
        return Diagnostic(
            self.code, self.name, severity, self.message, self.location,
            self.hint, self.json_path, self.related,
        )


def has_errors(diagnostics: Iterable[Diagnostic], strict: bool = False) -> bool:
    failing = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
    return any(d.severity in failing for d in diagnostics)


# --- reporters -------------------------------------------------------------


def format_text(diagnostics: list[Diagnostic]) -> str:
    """`specs/acme.yaml:12:5: NS402 error owner 'x' is not a team …` plus a hint line."""
    lines = []
    for d in diagnostics:
        lines.append(f"{d.location}: {d.code} {d.severity.value} {d.message} [{d.name}]")
        if d.hint:
            lines.append(f"    hint: {d.hint}")
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = sum(d.severity is Severity.WARNING for d in diagnostics)
    files = len({d.location.file for d in diagnostics})
    if diagnostics:
        lines.append(
            f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
            f" in {files} file{'s' * (files != 1)}"
        )
    return "\n".join(lines)


def format_json(diagnostics: list[Diagnostic]) -> str:
    def encode(d: Diagnostic) -> dict:
        data = asdict(d)
        data["severity"] = d.severity.value
        data["related"] = [asdict(r) for r in d.related]
        return data

    return json.dumps([encode(d) for d in diagnostics], indent=2)


def _github_escape(value: str, *, property_: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def format_github(diagnostics: list[Diagnostic]) -> str:
    """GitHub Actions workflow commands, so findings show inline on a pull request."""
    lines = []
    for d in diagnostics:
        level = "error" if d.severity is Severity.ERROR else "warning"
        props = ",".join(
            f"{k}={_github_escape(str(v), property_=True)}"
            for k, v in (
                ("file", d.location.file), ("line", d.location.line),
                ("col", d.location.col), ("title", f"{d.code} {d.name}"),
            )
        )
        text = d.message + (f"\n{d.hint}" if d.hint else "")
        lines.append(f"::{level} {props}::{_github_escape(text)}")
    return "\n".join(lines)


SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_DOCS = "https://github.com/northstar-metrics/northstar/blob/main/docs/rules.md"


def _sarif_uri(file: str) -> str:
    """A relative path stays relative (code scanning resolves it in the repository); others become file URIs."""
    path = PurePath(file)
    return path.as_uri() if path.is_absolute() else quote(path.as_posix())


def _sarif_location(location: Location) -> dict:
    return {"physicalLocation": {
        "artifactLocation": {"uri": _sarif_uri(location.file)},
        "region": {"startLine": location.line, "startColumn": location.col},
    }}


def format_sarif(diagnostics: list[Diagnostic]) -> str:
    """SARIF 2.1.0, what code-scanning services (GitHub code scanning and others) read.

    The rule registry imports this module, so it is imported here, when a
    report is made, rather than at the top.
    """
    from . import __version__
    from .rules import ALL_RULES

    index = {rule.code: i for i, rule in enumerate(ALL_RULES)}
    rules = [
        {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "help": {"text": f"{rule.doc}\n\nHint: {rule.hint}"},
            "helpUri": f"{_DOCS}#{rule.code.lower()}",
            "defaultConfiguration": {"level": rule.default.value},
        }
        for rule in ALL_RULES
    ]
    results = []
    for d in diagnostics:
        result = {
            "ruleId": d.code,
            "level": "error" if d.severity is Severity.ERROR else "warning",
            "message": {"text": d.message + (f"\nhint: {d.hint}" if d.hint else "")},
            "locations": [_sarif_location(d.location)],
        }
        if d.code in index:
            result["ruleIndex"] = index[d.code]
        if d.related:
            result["relatedLocations"] = [{"id": i, **_sarif_location(r)} for i, r in enumerate(d.related)]
        results.append(result)
    run = {
        "tool": {"driver": {"name": "northstar", "version": __version__,
                            "informationUri": "https://github.com/northstar-metrics/northstar", "rules": rules}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2)


REPORTERS: dict[str, Callable[[list[Diagnostic]], str]] = {
    "text": format_text,
    "json": format_json,
    "github": format_github,
    "sarif": format_sarif,
}
