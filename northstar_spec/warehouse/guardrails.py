"""Counter-metrics against their thresholds in the last complete period.

What `northstar guardrails` reports for CI or cron: a guardrail that crossed
its threshold is a finding (exit 1) naming the metric, its value, the
threshold and the team that acts on it. The running period is never judged:
half a week of churn is not a breach.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from northstar_spec.spec import formatting
from northstar_spec.spec.model import CounterMetric, Project, Role, Spec, Threshold, guardrail_status
from northstar_spec.warehouse import periods
from northstar_spec.warehouse.evaluate import Number, QueryRun, evaluate


@dataclass(frozen=True)
class Guardrail:
    spec: Spec
    metric: CounterMetric
    period: dt.date
    grain: str
    value: Number
    team: str | None

    @property
    def threshold(self) -> Threshold | None:
        return self.metric.threshold

    @property
    def status(self) -> str:
        return guardrail_status(self.threshold, self.value)

    @property
    def breached(self) -> bool:
        return self.status == "breached"


def team_text(guardrail: Guardrail) -> str:
    owner = guardrail.metric.owner
    if not owner:
        return "no owner"
    return f"{owner} ({guardrail.team})" if guardrail.team else owner


def check(
    specs: Sequence[Spec],
    project: Project,
    *,
    end: dt.date | None = None,
    environ: Mapping[str, str] | None = None,
    progress: Callable[[QueryRun], None] | None = None,
) -> list[Guardrail]:
    """Every counter-metric's value in its last complete period. Raises WarehouseError."""
    evaluation = evaluate(
        specs,
        project,
        periods=1,
        end=end,
        environ=environ,
        progress=progress,
        select=lambda spec, metric: metric.role is Role.COUNTER,
    )
    found = []
    for series in evaluation.series:
        metric = series.metric
        assert isinstance(metric, CounterMetric)  # selected by role above
        team = project.teams.get(metric.owner) if metric.owner else None
        found.append(
            Guardrail(series.spec, metric, series.periods[-1], series.grain, series.last, team.name if team else None)
        )
    return found


def _line(g: Guardrail) -> str:
    where = f"{g.spec.product.id}: {g.metric.id}"
    when = periods.phrase(g.period, g.grain)
    if g.status == "breached":
        above = g.threshold is not None and g.threshold.max is not None and (g.value or 0) > g.threshold.max
        side = "above" if above else "below"
        return (
            f"{where} crossed its threshold: {formatting.value_text(g.metric, g.value)} {when}, {side} "
            f"{formatting.threshold_text(g.threshold, formatting.shown(g.metric))}; owner {team_text(g)}"
        )
    if g.status == "ok":
        threshold = formatting.threshold_text(g.threshold, formatting.shown(g.metric))
        return f"{where} ok: {formatting.value_text(g.metric, g.value)} {when} (threshold {threshold})"
    return f"{where}: {g.status} {when}"


def as_text(guardrails: list[Guardrail]) -> str:
    breached = [g for g in guardrails if g.breached]
    lines = [_line(g) for g in breached] + [_line(g) for g in guardrails if not g.breached]
    count = len(guardrails)
    if breached:
        lines.append(
            f"{len(breached)} of {count} guardrail{'s' * (count != 1)} crossed "
            f"{'its threshold' if len(breached) == 1 else 'their thresholds'}"
        )
    else:
        lines.append(f"{count} guardrail{'s' * (count != 1)}, none crossed its threshold")
    return "\n".join(lines)


def as_json(guardrails: list[Guardrail]) -> str:
    return json.dumps(
        [
            {
                "spec": g.spec.product.id,
                "file": g.spec.file,
                "metric": g.metric.id,
                "guards": g.metric.guards,
                "grain": g.grain,
                "period_start": g.period.isoformat(),
                "value": g.value,
                "min": g.threshold.min if g.threshold else None,
                "max": g.threshold.max if g.threshold else None,
                "status": g.status,
                "owner": g.metric.owner,
                "team": g.team,
            }
            for g in guardrails
        ],
        indent=2,
    )


FORMATS: dict[str, Callable[[list[Guardrail]], str]] = {"text": as_text, "json": as_json}
