"""The registry: every rule code, in order. Codes are stable and never reused.

Families: NS0xx the file and its shape, NS1xx the North Star and its product,
NS2xx inputs, NS3xx counter-metrics, NS4xx ownership and references, NS5xx
review rituals, NS6xx history, NS7xx SQL fragments, NS8xx the values a metric can
take, NS9xx whether the specs work: compiled for every target (NS901) and run on
the warehouse (`validate --warehouse`, NS902-NS906).
"""

from __future__ import annotations

from northstar_spec.spec import file_rules
from northstar_spec.spec.rule import Rule, did_you_mean
from northstar_spec.spec.rules import (
    counter_metrics,
    history,
    inputs,
    north_star,
    references,
    review,
    sql,
    values,
    works,
)

ALL_RULES: list[Rule] = [
    *file_rules.RULES,
    *north_star.RULES,
    *inputs.RULES,
    *counter_metrics.RULES,
    *references.RULES,
    *review.RULES,
    *history.RULES,
    *sql.RULES,
    *values.RULES,
    *works.RULES,
]
LINT_RULES: list[Rule] = [r for r in ALL_RULES if r.check is not None]
BY_CODE: dict[str, Rule] = {r.code: r for r in ALL_RULES}
BY_NAME: dict[str, Rule] = {r.name: r for r in ALL_RULES}


def find(code_or_name: str) -> Rule | None:
    return BY_CODE.get(code_or_name.upper()) or BY_NAME.get(code_or_name.lower())


def unknown_rule_hint(code_or_name: str) -> str:
    """The hint for a rule code or name that names no rule."""
    return did_you_mean(code_or_name, [*BY_CODE, *BY_NAME], "`northstar rules` lists every code and name")
