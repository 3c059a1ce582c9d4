"""Run the method's lint rules over a set of built specs.

Rules see every spec at once, because some of the method's rules are about
the portfolio (one North Star per product, ids unique across specs), and the
previous version of the specs when one is given, because "a changed North Star
has a history entry" needs something to compare with.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from northstar_spec.spec.diagnostics import Diagnostic, Location, Severity
from northstar_spec.spec.loading import Document, JsonPath
from northstar_spec.spec.model import Project, Spec
from northstar_spec.spec.rule import Rule
from northstar_spec.spec.schema import json_path


@dataclass(frozen=True)
class Finding:
    """What a check yields: where, relative to a document, and what is wrong."""

    document: Document
    path: JsonPath
    message: str
    hint: str | None = None
    key: bool = False
    related: tuple[Location, ...] = ()
    #: A character of the text value at `path` to point at (e.g. inside a SQL fragment).
    offset: int | None = None


@dataclass(frozen=True)
class LintContext:
    """What every check sees."""

    specs: tuple[Spec, ...]
    project: Project
    today: dt.date
    #: product id -> that product's spec at the base revision, when comparing.
    previous: dict[str, Spec] | None = field(default=None)


def lint(context: LintContext, rules: Iterable[Rule]) -> list[Diagnostic]:
    """Run each rule's check; the registry (northstar_spec.spec.registry) lists them."""
    diagnostics = []
    for rule in rules:
        if rule.check is None:
            continue
        for finding in rule.check(context):
            if finding.offset is not None:
                where = finding.document.locate_in(finding.path, finding.offset)
            else:
                where = finding.document.locate(finding.path, key=finding.key)
            diagnostics.append(
                rule.diagnostic(
                    where,
                    finding.message,
                    hint=finding.hint,
                    json_path=json_path(finding.path),
                    related=finding.related,
                )
            )
    return diagnostics


def apply_severities(diagnostics: list[Diagnostic], severities: dict[str, Severity]) -> list[Diagnostic]:
    """Project configuration overrides each rule's default; `off` drops its findings."""
    result = []
    for d in diagnostics:
        severity = severities.get(d.code) or severities.get(d.name) or d.severity
        if severity is not Severity.OFF:
            result.append(d.with_severity(severity))
    return result
