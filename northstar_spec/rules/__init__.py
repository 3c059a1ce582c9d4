"""The registry: every rule code, in order. Codes are stable and never reused.

Families: NS0xx the file and its shape, NS1xx the North Star and its product,
NS2xx inputs, NS3xx counter-metrics, NS4xx ownership and references, NS5xx
review rituals, NS6xx history.
"""

from . import counter_metrics, files, history, inputs, north_star, references, review
from .base import Finding, Rule

ALL_RULES: list[Rule] = [
    *files.RULES,
    *north_star.RULES,
    *inputs.RULES,
    *counter_metrics.RULES,
    *references.RULES,
    *review.RULES,
    *history.RULES,
]
LINT_RULES: list[Rule] = [r for r in ALL_RULES if r.check is not None]
BY_CODE: dict[str, Rule] = {r.code: r for r in ALL_RULES}
BY_NAME: dict[str, Rule] = {r.name: r for r in ALL_RULES}


def find(code_or_name: str) -> Rule | None:
    return BY_CODE.get(code_or_name.upper()) or BY_NAME.get(code_or_name.lower())


__all__ = ["ALL_RULES", "LINT_RULES", "BY_CODE", "BY_NAME", "Finding", "Rule", "find"]
