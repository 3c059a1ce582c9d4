"""The one finding type every stage reports.

YAML syntax errors, schema violations and method lint all end up as a
`Diagnostic`, so a reporter, an exit code or a test never needs to know which
stage found a problem.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field


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

    def with_severity(self, severity: Severity) -> Diagnostic:
        return Diagnostic(
            self.code,
            self.name,
            severity,
            self.message,
            self.location,
            self.hint,
            self.json_path,
            self.related,
        )


def has_errors(diagnostics: Iterable[Diagnostic], strict: bool = False) -> bool:
    failing = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
    return any(d.severity in failing for d in diagnostics)
