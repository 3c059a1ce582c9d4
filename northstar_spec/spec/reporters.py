"""Reporters: the same findings for people (text), tools (json), GitHub
workflow annotations and code scanning (SARIF), picked by name."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path, PurePath
from urllib.parse import quote

from northstar_spec import __version__
from northstar_spec.spec import ruledocs
from northstar_spec.spec.bidi import escape_bidi
from northstar_spec.spec.diagnostics import Diagnostic, Location, Severity
from northstar_spec.spec.registry import ALL_RULES


def _plain(text: str, role: str) -> str:
    return text


def format_text(diagnostics: list[Diagnostic], style: Callable[[str, str], str] = _plain) -> str:
    """`specs/acme.yaml:12:5: NS402 error owner 'x' is not a team …` plus a hint line.

    `style(text, role)` marks up each part (roles: location, code, error, warning, name, hint):
    the CLI colours them on a terminal; the default leaves them plain.
    """
    lines = []
    for d in diagnostics:
        severity = d.severity.value
        lines.append(
            f"{style(str(d.location), 'location')}: {style(d.code, 'code')} {style(severity, severity)} "
            f"{d.message} {style(f'[{d.name}]', 'name')}"
        )
        if d.hint:
            lines.append(style(f"    hint: {d.hint}", "hint"))
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = sum(d.severity is Severity.WARNING for d in diagnostics)
    files = len({d.location.file for d in diagnostics})
    if diagnostics:
        lines.append(
            style(f"{errors} error{'s' * (errors != 1)}", "error" if errors else "")
            + ", "
            + style(f"{warnings} warning{'s' * (warnings != 1)}", "warning" if warnings else "")
            + f" in {files} file{'s' * (files != 1)}"
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


def from_root(diagnostics: list[Diagnostic], root: Path, cwd: Path | None = None) -> list[Diagnostic]:
    """Findings with paths relative to `root` (the top of the git repository) instead of the
    working directory: what GitHub annotations and code scanning resolve paths against, whatever
    folder northstar ran in. Paths outside `root` stay as they are (absolute)."""
    cwd, root = (cwd or Path.cwd()).resolve(), root.resolve()

    def moved(location: Location) -> Location:
        if location.file.startswith("<"):  # <stdin>
            return location
        try:
            relative = (cwd / location.file).resolve().relative_to(root)
        except ValueError:
            return location
        return replace(location, file=relative.as_posix())

    return [replace(d, location=moved(d.location), related=tuple(map(moved, d.related))) for d in diagnostics]


SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_DOCS = "https://github.com/northstar-metrics/northstar/blob/main/docs/rules.md"
#: What relative URIs in a report are relative to: the top of the repository (SARIF's conventional name).
SRCROOT = "%SRCROOT%"
#: Code scanning keeps one set of results per category; upload-sarif's `category` input overrides it.
CATEGORY = "northstar/"
FINGERPRINT = "northstarFinding/v1"


def _sarif_uri(file: str) -> dict:
    """A relative path stays relative to the repository's top; others become file URIs."""
    path = PurePath(file)
    if path.is_absolute():
        return {"uri": path.as_uri()}
    return {"uri": quote(path.as_posix()), "uriBaseId": SRCROOT}


def _sarif_location(location: Location) -> dict:
    return {
        "physicalLocation": {
            "artifactLocation": _sarif_uri(location.file),
            "region": {"startLine": location.line, "startColumn": location.col},
        }
    }


def _fingerprints(diagnostics: list[Diagnostic]) -> list[str]:
    """One hash per finding that stays the same when unrelated lines move it: the rule, the file,
    where in the document (its JSON path) and the message without the line numbers it may
    quote; identical ones are told apart by their order."""
    seen: Counter[str] = Counter()
    found = []
    for d in diagnostics:
        message = re.sub(r"(\S):\d+(?::\d+)?\b", r"\1", d.message)
        key = "\0".join((d.code, d.location.file, d.json_path, message))
        seen[key] += 1
        found.append(hashlib.sha256(f"{key}\0{seen[key]}".encode()).hexdigest()[:32])
    return found


def _sarif_rule(rule) -> dict:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": ruledocs.why(rule)},
        "help": {"text": f"{rule.doc}\n\nHint: {rule.hint}", "markdown": ruledocs.markdown_one(rule)},
        "helpUri": f"{_DOCS}#{rule.code.lower()}",
        "defaultConfiguration": {"level": rule.default.value},
        "properties": {"tags": ["northstar"]},
    }


def format_sarif(diagnostics: list[Diagnostic], root: Path | None = None) -> str:
    """SARIF 2.1.0 for GitHub code scanning (and other code-scanning services): relative URIs are
    relative to `root` (%SRCROOT%; paths are expected relative to it, see `from_root`)."""
    index = {rule.code: i for i, rule in enumerate(ALL_RULES)}
    results = []
    for d, fingerprint in zip(diagnostics, _fingerprints(diagnostics)):
        result: dict[str, object] = {
            "ruleId": d.code,
            "level": "error" if d.severity is Severity.ERROR else "warning",
            "message": {"text": d.message + (f"\nhint: {d.hint}" if d.hint else "")},
            "locations": [_sarif_location(d.location)],
            "partialFingerprints": {FINGERPRINT: fingerprint},
        }
        if d.code in index:
            result["ruleIndex"] = index[d.code]
        if d.related:
            result["relatedLocations"] = [{"id": i, **_sarif_location(r)} for i, r in enumerate(d.related)]
        results.append(result)
    base: dict[str, object] = {"description": {"text": "The top of the repository."}}
    if root is not None:
        base["uri"] = root.resolve().as_uri().rstrip("/") + "/"
    run = {
        "tool": {
            "driver": {
                "name": "northstar",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": "https://github.com/northstar-metrics/northstar",
                "rules": [_sarif_rule(rule) for rule in ALL_RULES],
            }
        },
        "automationDetails": {"id": CATEGORY},
        "originalUriBaseIds": {SRCROOT: base},
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
