"""Reporters: the same findings for people (text), tools (json), GitHub
workflow annotations and code scanning (SARIF), picked by name."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import PurePath
from urllib.parse import quote

from northstar_spec import __version__
from northstar_spec.spec.bidi import escape_bidi
from northstar_spec.spec.diagnostics import Diagnostic, Location, Severity
from northstar_spec.spec.registry import ALL_RULES


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
    return escape_bidi("\n".join(lines))


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
                ("file", d.location.file),
                ("line", d.location.line),
                ("col", d.location.col),
                ("title", f"{d.code} {d.name}"),
            )
        )
        text = d.message + (f"\n{d.hint}" if d.hint else "")
        lines.append(f"::{level} {props}::{_github_escape(text)}")
    return escape_bidi("\n".join(lines))


SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_DOCS = "https://github.com/northstar-metrics/northstar/blob/main/docs/rules.md"


def _sarif_uri(file: str) -> str:
    """A relative path stays relative (code scanning resolves it in the repository); others become file URIs."""
    path = PurePath(file)
    return path.as_uri() if path.is_absolute() else quote(path.as_posix())


def _sarif_location(location: Location) -> dict:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": _sarif_uri(location.file)},
            "region": {"startLine": location.line, "startColumn": location.col},
        }
    }


def format_sarif(diagnostics: list[Diagnostic]) -> str:
    """SARIF 2.1.0, what code-scanning services (GitHub code scanning and others) read."""
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
        result: dict[str, object] = {
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
        "tool": {
            "driver": {
                "name": "northstar",
                "version": __version__,
                "informationUri": "https://github.com/northstar-metrics/northstar",
                "rules": rules,
            }
        },
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
