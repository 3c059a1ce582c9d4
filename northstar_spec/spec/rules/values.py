"""NS8xx: the values a metric can take: targets and thresholds it can reach,
filters that can match a row."""

from __future__ import annotations

from collections.abc import Iterator

from northstar_spec.spec.computation import never_true
from northstar_spec.spec.diagnostics import Severity
from northstar_spec.spec.lint import Finding, LintContext
from northstar_spec.spec.loading import JsonPath
from northstar_spec.spec.model import CounterMetric, Metric
from northstar_spec.spec.rule import rule

E = Severity.ERROR
COUNTS = ("count", "count_distinct")


def _never_negative(metric: Metric) -> bool:
    """Counts, and ratios of counts, are never below zero."""
    counts = lambda measure: measure is not None and measure.aggregate in COUNTS  # noqa: E731
    if metric.ratio is not None:
        return counts(metric.ratio.numerator.measure) and counts(metric.ratio.denominator.measure)
    return counts(metric.measure)


@rule("NS801", "value-possible", E, "a count (or a ratio of counts) is never negative: use a value from 0 up")
def value_possible(ctx: LintContext) -> Iterator[Finding]:
    """Targets and thresholds are values the metric can take.

    Why: a count, or a ratio of two counts, is never below zero: a negative
    target is met before anyone starts, a negative `max` breaches in every
    period and a negative `min` never does. Such a number is a typo (a sign,
    a misplaced decimal) that would make the dashboard and the alerts lie.
    Sums, averages and raw SQL may be negative and are not checked.

    Bad:

        measure: {aggregate: count_distinct, column: team_id}
        threshold: {max: -40}

    Good:

        measure: {aggregate: count_distinct, column: team_id}
        threshold: {max: 40}
    """
    for spec in ctx.specs:
        for metric in spec.metrics:
            if not _never_negative(metric):
                continue
            values: list[tuple[JsonPath, str, float | None]] = []
            if metric.target is not None:
                values.append((("target", "value"), "target", metric.target.value))
            if isinstance(metric, CounterMetric) and metric.threshold is not None:
                values.append((("threshold", "max"), "threshold max", metric.threshold.max))
                values.append((("threshold", "min"), "threshold min", metric.threshold.min))
            for path, label, value in values:
                if value is not None and value < 0:
                    kind = "a ratio of counts" if metric.ratio else "a count"
                    yield Finding(
                        spec.document,
                        metric.path + path,
                        f"metric {metric.id!r} is {kind}, never negative, but its {label} is {value:g}",
                    )


def _filtered(metric: Metric) -> Iterator[tuple[JsonPath, str, tuple[str | None, ...]]]:
    """Each aggregate of a metric: where to point, what it is, and the filters its rows must pass."""
    if metric.ratio is not None:
        for side in ("numerator", "denominator"):
            part = getattr(metric.ratio, side)
            where = ("ratio", side, "filter") if part.filter else ("filter",)
            yield where, f"the {side}", (metric.filter, part.filter)
    elif metric.measure is not None:
        yield ("filter",), "the metric", (metric.filter,)


@rule(
    "NS802",
    "filter-can-match",
    E,
    "fix the filter: its conditions contradict each other, so no row can ever pass it",
)
def filter_can_match(ctx: LintContext) -> Iterator[Finding]:
    """A metric's filters can match a row.

    Why: a filter that contradicts itself (`event_type = 'a' AND event_type =
    'b'`, `1 = 0`, `amount > 5 AND amount < 3`) matches no row, whatever the
    data: the metric is always 0, and a ratio whose denominator can match
    nothing never has a value. Only certain contradictions are found here;
    `northstar validate --warehouse` also finds a denominator that is zero in
    every recent period (NS905).

    Bad:

        ratio:
          numerator: {measure: {aggregate: count}, filter: "event_type = 'invite_accepted'"}
          denominator: {measure: {aggregate: count}, filter: "event_type = 'invite_sent' AND event_type = 'sent'"}

    Good:

        ratio:
          numerator: {measure: {aggregate: count}, filter: "event_type = 'invite_accepted'"}
          denominator: {measure: {aggregate: count}, filter: "event_type = 'invite_sent'"}
    """
    for spec in ctx.specs:
        for metric in spec.computable:
            for where, what, filters in _filtered(metric):
                if any(filters) and never_true(*filters):
                    then = ", so the ratio never has a value" if what == "the denominator" else ""
                    yield Finding(
                        spec.document,
                        metric.path + where,
                        f"metric {metric.id!r}: no row can pass the filters of {what}; it aggregates nothing "
                        f"in any period{then}",
                    )


RULES = [value_possible, filter_can_match]
