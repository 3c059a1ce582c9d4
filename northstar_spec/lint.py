"""Run the method's lint rules over a set of built specs.

Rules see every spec at once, because some of the method's rules are about
the portfolio (one North Star per product, ids unique across specs), and the
previous version of the specs when one is given, because "a changed North Star
has a history entry" needs something to compare with.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Optional

from .diagnostics import Diagnostic, Severity
from .model import Project, Spec
from .rules import LINT_RULES
from .schema import json_path


@dataclass(frozen=True)
class LintContext:
    specs: tuple[Spec, ...]
    project: Project
    today: dt.date
    #: product id -> that product's spec at the base revision, when comparing.
    previous: Optional[dict[str, Spec]] = field(default=None)


def lint(context: LintContext) -> list[Diagnostic]:
    diagnostics = []
    for rule in LINT_RULES:
        for finding in rule.check(context):
            diagnostics.append(
                rule.diagnostic(
                    finding.document.locate(finding.path, key=finding.key), finding.message,
                    hint=finding.hint, json_path=json_path(finding.path), related=finding.related,
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
