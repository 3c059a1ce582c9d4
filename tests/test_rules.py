"""The rule registry: stable codes, documentation for each, a test case for each."""

from __future__ import annotations

import re

import pytest
from helpers import FIXTURES, ROOT
from test_fixtures import announced, invalid_fixtures

from northstar_spec.spec import ruledocs
from northstar_spec.spec.diagnostics import Severity
from northstar_spec.spec.registry import ALL_RULES

#: Codes whose case cannot be a fixture file, and the test that covers each.
COVERED_ELSEWHERE = {
    "NS005": "test_loading.py::test_oversized_file_is_refused_without_reading_it",
    "NS007": "test_loading.py::test_unreadable_file_is_a_finding",
    "NS601": "test_cli.py::test_changed_north_star_needs_a_history_entry",
    # A fixture is validated offline: what a target's compiler or the warehouse finds needs them.
    "NS901": "test_validity.py::test_what_only_the_compiler_knows_is_a_located_finding",
    "NS902": "test_preflight.py::test_a_missing_table",
    "NS903": "test_preflight.py::test_a_misspelled_measure_column_is_found_at_the_column",
    "NS904": "test_preflight.py::test_an_error_only_the_data_raises",
    "NS905": "test_preflight.py::test_a_denominator_that_is_always_zero_is_a_warning",
    "NS906": "test_preflight.py::test_postgresql_users_that_can_write_and_one_that_cannot",
}


def test_codes_and_names_are_unique_and_well_formed():
    codes = [r.code for r in ALL_RULES]
    names = [r.name for r in ALL_RULES]
    assert len(set(codes)) == len(codes) and len(set(names)) == len(names)
    assert all(re.fullmatch(r"NS\d{3}", c) for c in codes)
    assert all(re.fullmatch(r"[a-z][a-z0-9-]+", n) for n in names)
    assert codes == sorted(codes)
    assert all(r.default in (Severity.ERROR, Severity.WARNING) for r in ALL_RULES)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_every_rule_is_documented(rule):
    assert rule.summary.endswith("."), rule.summary
    assert rule.hint
    for section in ("Why:", "Bad:", "Good:"):
        assert f"\n{section}" in f"\n{rule.doc}", f"{rule.code} has no {section} section"


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_every_rule_has_a_test_case(rule):
    tested = {code for fixture in invalid_fixtures() for _, code, _, _ in announced(fixture)}
    if rule.code in COVERED_ELSEWHERE:
        module, name = COVERED_ELSEWHERE[rule.code].split("::")
        assert f"def {name}(" in (ROOT / "tests" / module).read_text()
    else:
        assert rule.code in tested, f"no fixture in {FIXTURES / 'invalid'} announces {rule.code}"


def test_rules_reference_is_generated_from_the_docstrings():
    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == ruledocs.markdown() + "\n", "docs/rules.md is stale: run `make docs`"
