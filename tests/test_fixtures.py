"""Every fixture spec runs through the real CLI and must produce exactly the
findings its comments announce.

An expectation is written where it points, so a reviewer can check it by eye:

    owner: activaton-squad
#          ^ NS402

the caret's column is the expected column, on the line above the caret line
(consecutive caret lines all point at the same line). Findings at places a
caret cannot reach (column 1, whole files) are announced in a header line:

    # expect: NS011 1:1

A fixture may be a folder of specs (for rules about several specs); each file
in it carries its own expectations.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from helpers import FIXTURES, TODAY, run_cli

CARET = re.compile(r"^\s*#(\s*)\^\s+(NS\d{3})\s*$")
HEADER = re.compile(r"^#\s*expect:\s*(NS\d{3})\s+(\d+):(\d+)\s*$")


def expectations(path: Path) -> Counter:
    """(file, code, line, col) announced in the fixture file's comments, with repeats.

    Lines are split on newlines only (as editors and northstar count them);
    caret lines are ASCII, so a caret's column is a character column.
    """
    lines = path.read_bytes().decode("utf-8", "surrogateescape").split("\n")
    found: Counter = Counter()
    target = None
    for number, line in enumerate(lines, start=1):
        header = HEADER.match(line)
        caret = CARET.match(line)
        if header:
            found[(path.name, header[1], int(header[2]), int(header[3]))] += 1
        elif caret:
            col = line.index("^") + 1
            found[(path.name, caret[2], target, col)] += 1
        else:
            target = number
    return found


def invalid_fixtures() -> list[Path]:
    return sorted(p for p in (FIXTURES / "invalid").iterdir() if not p.name.startswith("."))


def valid_fixtures() -> list[Path]:
    return sorted((FIXTURES / "valid").glob("*.yaml"))


def announced(fixture: Path) -> Counter:
    files = sorted(fixture.glob("*.yaml")) if fixture.is_dir() else [fixture]
    return sum((expectations(f) for f in files), Counter())


def validate_json(target: Path):
    done = run_cli("validate", target, "--format", "json", "--today", TODAY.isoformat())
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode in (0, 1), (done.returncode, done.stderr)
    return done, json.loads(done.stdout)


@pytest.mark.parametrize("fixture", invalid_fixtures(), ids=lambda p: p.name)
def test_invalid_fixture_reports_exactly_what_it_announces(fixture: Path):
    expected = announced(fixture)
    assert expected, f"{fixture.name} announces no finding"
    done, findings = validate_json(fixture)
    actual = Counter(
        (Path(f["location"]["file"]).name, f["code"], f["location"]["line"], f["location"]["col"]) for f in findings
    )
    assert actual == expected, "\n" + done.stdout
    has_error = any(f["severity"] == "error" for f in findings)
    assert done.returncode == (1 if has_error else 0)
    for finding in findings:
        assert finding["message"] and finding["hint"], finding


@pytest.mark.parametrize("fixture", valid_fixtures(), ids=lambda p: p.name)
def test_valid_fixture_has_no_findings(fixture: Path):
    done, findings = validate_json(fixture)
    assert findings == [] and done.returncode == 0


def test_fixture_count_meets_the_bar():
    assert len(invalid_fixtures()) >= 60
