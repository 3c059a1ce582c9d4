"""NS3xx: counter-metrics, the guardrails against unhealthy growth."""

from __future__ import annotations

from collections.abc import Iterator

from northstar_spec.spec.diagnostics import Severity
from northstar_spec.spec.lint import Finding, LintContext
from northstar_spec.spec.rule import did_you_mean, rule

E = Severity.ERROR


@rule(
    "NS301",
    "counter-metric-present",
    E,
    "add a counter-metric (churn, refunds, complaints…) that would rise if growth were unhealthy",
)
def counter_metric_present(ctx: LintContext) -> Iterator[Finding]:
    """The framework has at least one counter-metric.

    Why: any metric can be gamed. A guardrail beside it (churn beside
    engagement, refunds beside bookings, NPS beside time spent) shows when
    the North Star grows for the wrong reasons.

    Bad:

        counter_metrics: []

    Good:

        counter_metrics:
          - id: weekly_churned_teams
            guards: weekly_active_teams
            threshold: {max: 40}
    """
    for spec in ctx.specs:
        if not spec.counter_metrics:
            path = ("counter_metrics",) if "counter_metrics" in spec.document.data else ()
            yield Finding(spec.document, path, "the framework has no counter-metric", key=True)


@rule("NS302", "counter-metric-threshold", E, "add `threshold:` with `max:` and/or `min:`")
def counter_metric_threshold(ctx: LintContext) -> Iterator[Finding]:
    """Each counter-metric has a threshold.

    Why: a guardrail without a threshold is a chart nobody acts on; the
    threshold is what turns it into an alert (`northstar guardrails`).

    Bad:

        - id: weekly_churned_teams
          guards: weekly_active_teams

    Good:

        - id: weekly_churned_teams
          guards: weekly_active_teams
          threshold: {max: 40}
    """
    for spec in ctx.specs:
        for metric in spec.counter_metrics:
            if metric.threshold is None:
                yield Finding(spec.document, metric.path, f"counter-metric {metric.id!r} has no threshold", key=True)


@rule("NS303", "counter-metric-guards", E, "set `guards:` to the id of the North Star or of an input of this spec")
def counter_metric_guards(ctx: LintContext) -> Iterator[Finding]:
    """Each counter-metric names a metric of the same spec that it guards.

    Why: a guardrail is read beside the metric it keeps honest; the dashboard
    and the metric tree place it there.

    Bad:

        - id: weekly_churned_teams
          guards: weekly_active_users   # not a metric of this spec

    Good:

        - id: weekly_churned_teams
          guards: weekly_active_teams
    """
    for spec in ctx.specs:
        guardable = [spec.north_star.id, *(m.id for m in spec.inputs)]
        for metric in spec.counter_metrics:
            if not metric.guards:
                yield Finding(spec.document, metric.path, f"counter-metric {metric.id!r} guards no metric", key=True)
            elif metric.guards not in guardable:
                yield Finding(
                    spec.document,
                    metric.path + ("guards",),
                    f"counter-metric {metric.id!r} guards {metric.guards!r}, which is not the North Star or an input",
                    hint=did_you_mean(metric.guards, guardable),
                )


@rule("NS304", "threshold-order", E, "swap the two bounds: `min` is the lowest acceptable value, `max` the highest")
def threshold_order(ctx: LintContext) -> Iterator[Finding]:
    """A threshold's `min` is not above its `max`.

    Why: a counter-metric breaches below `min` and above `max`; with `min`
    above `max` every value breaches, so the alert fires every period and
    is soon ignored.

    Bad:

        threshold: {min: 0.5, max: 0.2}

    Good:

        threshold: {min: 0.2, max: 0.5}
    """
    for spec in ctx.specs:
        for metric in spec.counter_metrics:
            threshold = metric.threshold
            if threshold and threshold.min is not None and threshold.max is not None and threshold.min > threshold.max:
                yield Finding(
                    spec.document,
                    metric.path + ("threshold", "min"),
                    f"counter-metric {metric.id!r} has min {threshold.min:g} above max {threshold.max:g}: "
                    "every value breaches",
                )


RULES = [counter_metric_present, counter_metric_threshold, counter_metric_guards, threshold_order]
