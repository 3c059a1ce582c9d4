"""Choosing a North Star with data: `northstar candidates`.

The method says: generate candidate metrics, score each against the
criteria, test the correlation of each with the business outcome, find the
action that best separates retained users from churned ones, and test
whether it can be inflated. Every candidate under `candidates:` (and the
current North Star, for comparison) is scored on the warehouse, one column
per criterion; what data cannot judge is said, never guessed:

- leads: the best correlation of its changes with the outcome's `lag`
  periods later, lag 1 or more (stats.correlate: n, 95 % interval, p);
  scores r when significant and positive, else 0.
- separates: units (the source's `unit:` column) active in the window
  before its last `retained.within` periods are split into those that did
  the candidate's action in that time (its filter, a ratio's numerator's)
  and those that did not; each group's share retained (a row matching
  `retained.filter` in the last `within` periods); scores the difference
  when a two-proportion z-test finds it significant.
- headroom: the share of the last period's active units that did not do
  the action: room to grow without new units.

The three criteria on units come from one query per source, grouped by
unit, for all candidates at once (Units): one row per unit comes back.
- sensitivity: the share of the inputs whose changes significantly lead
  the candidate's (the levers move it).
- inflatability: how much of the candidate the top 10 % of units produce
  over the window (one aggregate per unit; at least INFLATED is flagged),
  and whether one unit repeating the action raises it (a count or sum of
  actions does; a distinct count of units does not). A proxy: it cannot
  tell a valuable repeat from an empty one.
- stability: the median absolute period-over-period change, and spikes
  followed by drops (backtest.spikes).
- customer value: a human call; never scored.

The score that ranks them is documented in WEIGHTS; an inflatable candidate
is never recommended.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from northstar_spec.spec import formatting
from northstar_spec.spec.model import Metric, Project, Role, Spec
from northstar_spec.spec.sql import (
    FragmentError,
    action_condition,
    column_expression,
    condition_expression,
    metric_expression,
    ratio_expressions,
)
from northstar_spec.warehouse import backtest, stats
from northstar_spec.warehouse import periods as calendar
from northstar_spec.warehouse.engines import WarehouseError, Warehouses
from northstar_spec.warehouse.evaluate import QueryRun, Series, evaluate
from northstar_spec.warehouse.pushdown import Query, as_number

DEFAULT_PERIODS = 52
DEFAULT_MAX_LAG = 4
#: The share of units whose part of the total measures concentration …
TOP_UNITS = 0.1
#: … and the part from which a candidate is flagged as inflatable by a few heavy units.
INFLATED = 0.5
CRITERIA = ("leads", "separates", "headroom", "sensitivity", "inflatability", "stability")
#: How the criteria add up to the score that ranks candidates (each criterion's score is 0 to 1).
WEIGHTS = {"leads": 1.0, "separates": 1.0, "sensitivity": 0.5, "headroom": 0.25, "stability": 0.25}
HUMAN = "customer value: does it measure value the customer gets? A human call, not scored"


@dataclass(frozen=True)
class Criterion:
    """One criterion for one candidate: its 0..1 score when the data could judge it, and why."""

    score: float | None
    text: str
    flag: bool = False

    @property
    def judged(self) -> bool:
        return self.score is not None


@dataclass(frozen=True)
class Scored:
    metric: Metric
    current: bool
    criteria: dict[str, Criterion]

    @property
    def inflatable(self) -> bool:
        return self.criteria["inflatability"].flag

    @property
    def total(self) -> float:
        return sum(WEIGHTS[name] * (c.score or 0.0) for name, c in self.criteria.items() if name in WEIGHTS)


@dataclass(frozen=True)
class Choice:
    spec: Spec
    grain: str
    periods: tuple[dt.date, ...]
    scored: tuple[Scored, ...]
    notes: tuple[str, ...] = ()

    @property
    def ranked(self) -> list[Scored]:
        return sorted(self.scored, key=lambda s: (s.inflatable, -s.total, s.metric.id))

    @property
    def recommended(self) -> Scored | None:
        best = next((s for s in self.ranked if not s.inflatable and s.total > 0), None)
        return best

    def unjudged(self) -> list[str]:
        """Criteria the data could not judge, per candidate, and the one it never judges."""
        out = [
            f"{name} for {s.metric.id}: {c.text}" for s in self.scored for name, c in s.criteria.items() if not c.judged
        ]
        return [*out, HUMAN]


# --- the criteria on series ------------------------------------------------------


def leads(series: Series, outcome: Series | None, max_lag: int) -> Criterion:
    if outcome is None:
        return Criterion(None, "no outcome declared (`outcome:`)")
    found = backtest.lead(series, outcome, max_lag)
    judged = [c for c in found.correlations if c.lag >= 1 and c.fit.enough and c.r is not None]
    if not judged:
        return Criterion(None, _why_not(found))
    best = max(judged, key=lambda c: (c.r or -2.0, -c.lag))
    good = best.fit.significant() and (best.r or 0) > 0
    text = f"lag {best.lag}, {best.fit.text()}"
    return Criterion(max(0.0, best.r or 0.0) if good else 0.0, text if good else f"does not lead ({text})")


def _why_not(found: backtest.Lead) -> str:
    """Why no correlation of a lead could be judged: too few pairs, or a series that never changed."""
    pairs = max((c.pairs for c in found.correlations), default=0)
    if pairs >= stats.MIN_PAIRS:
        return f"no correlation: {found.driver.id} or {found.follower.id} never changed ({pairs} pairs of changes)"
    return f"{stats.NOT_ENOUGH} ({pairs} pairs of changes, at least {stats.MIN_PAIRS} needed)"


def sensitivity(series: Series, inputs: Sequence[Series], max_lag: int) -> Criterion:
    if not inputs:
        return Criterion(None, "no inputs")
    moving, judged, why = [], 0, ""
    for found in inputs:
        invert = getattr(found.metric, "direction", None) == "decrease"
        lead = backtest.lead(found, series, max_lag, invert=invert)
        ok = [c for c in lead.correlations if c.fit.enough and c.r is not None]
        why = why or _why_not(lead)
        if ok:
            judged += 1
            if any(c.fit.significant() and (c.r or 0) > 0 for c in ok):
                moving.append(found.metric.id)
    if not judged:
        return Criterion(None, f"no input could be correlated with it ({why})")
    text = f"{len(moving)} of {len(inputs)} inputs lead it" + (f" ({', '.join(moving)})" if moving else "")
    return Criterion(len(moving) / len(inputs), text)


def stability(series: Series) -> Criterion:
    changes = [abs(c) for c in backtest.changes(stats.started(series.values)) if c is not None]
    if len(changes) < stats.MIN_PAIRS:
        return Criterion(None, f"{stats.NOT_ENOUGH} ({len(changes)} changes, at least {stats.MIN_PAIRS} needed)")
    typical = statistics.median(changes)
    spikes = backtest.spikes(dataclasses.replace(series, values=stats.started(series.values)), backtest.Thresholds())
    text = f"typical move {formatting.percent(typical, signed=False)} a {series.grain}"
    if spikes:
        text += f", {len(spikes)} spike{'s' * (len(spikes) != 1)} then drop"
    score = max(0.0, 1.0 - typical / 0.5) * (0.5 if spikes else 1.0)
    return Criterion(score, text, flag=bool(spikes))


# --- the criteria on units, pushed down --------------------------------------------


@dataclass
class Units:
    """What one per-unit query found for one candidate: did it early, did it last period, its part."""

    separation: stats.Separation | None = None
    reach: tuple[int, int] | None = None
    parts: list[float] = dataclasses.field(default_factory=list)


def _unit_problem(spec: Spec, metric: Metric) -> str | None:
    """Why the criteria on units cannot be judged for a metric, or None."""
    source = spec.sources.get(metric.source)
    if source is None or not source.unit:
        return f"source {metric.source!r} declares no `unit:` column"
    if metric.sql is not None:
        return "a raw SQL aggregate names no action to follow per unit"
    return None


def _additive_measure(metric: Metric) -> bool:
    measure = metric.measure or (metric.ratio.numerator.measure if metric.ratio else None)
    return measure is not None and measure.aggregate in ("count", "sum", "count_distinct")


def units(
    warehouses: Warehouses, spec: Spec, source_id: str, metrics: Sequence[Metric], grain: str, starts: Sequence[dt.date]
) -> dict[str, Units]:
    """One query over the window, grouped by unit, for every candidate of one source.

    Per unit: active before the last `retained.within` periods, retained in
    them, active in the last period; and per candidate whether the unit did
    its action before the cut and in the last period, and its part of the
    candidate (for counts and sums). One row per unit comes back.
    """
    query = Query(warehouses, spec, source_id, metrics[0])
    source = query.source
    retained = spec.retained if spec.retained and spec.retained.source == source_id else None
    within = retained.within if retained else 1
    cut = starts[max(1, len(starts) - within)]
    last = starts[-1]
    try:
        unit = column_expression(spec, source.path + ("unit",), source.unit or "", query.dialect)
        time = column_expression(spec, source.path + ("time_column",), source.time_column, query.dialect)
        kept_rows = (
            condition_expression(spec, query.dialect, (retained.path + ("filter",), retained.filter))
            if retained
            else None
        )
        actions = [action_condition(spec, m, query.dialect) for m in metrics]
        values = [
            (ratio_expressions(spec, m, query.dialect)[0] if m.ratio else metric_expression(spec, m, query.dialect))
            if _additive_measure(m)
            else sa.literal(0)
            for m in metrics
        ]
    except FragmentError as exc:
        raise WarehouseError(str(exc)) from None

    def flag(condition) -> sa.ColumnElement:
        return sa.func.max(sa.case((condition, 1), else_=0))

    early = time < sa.literal(cut, sa.Date)
    late = time >= sa.literal(cut, sa.Date)
    recent = time >= sa.literal(last, sa.Date)
    columns = [flag(early), flag(sa.and_(late, kept_rows)) if kept_rows is not None else sa.literal(0), flag(recent)]
    for action, value in zip(actions, values):
        columns += [
            flag(sa.and_(early, action) if action is not None else early),
            flag(sa.and_(recent, action) if action is not None else recent),
            value,
        ]
    rows = query.rows(grain, starts)
    statement = (
        sa.select(*(c.label(f"c{i}") for i, c in enumerate(columns)))
        .select_from(rows)
        .where(unit.isnot(None))
        .group_by(unit)
    )
    found = query.fetch(
        statement,
        f"the per-unit facts ({source.unit!r}) of candidates {', '.join(m.id for m in metrics)}",
        source.path + ("unit",),
    )
    counts = [[0, 0, 0, 0] for _ in metrics]  # did, did and kept, active, active and kept
    reach = [[0, 0] for _ in metrics]
    parts: list[list[float]] = [[] for _ in metrics]
    for row in found:
        active, kept, now = (int(as_number(v) or 0) for v in row[:3])
        for i in range(len(metrics)):
            did, did_now, value = row[3 + 3 * i : 6 + 3 * i]
            did, did_now = int(as_number(did) or 0), int(as_number(did_now) or 0)
            if active:
                counts[i][0] += did
                counts[i][1] += did * kept
                counts[i][2] += 1
                counts[i][3] += kept
            if now:
                reach[i][0] += did_now
                reach[i][1] += 1
            number = as_number(value)
            if number:
                parts[i].append(float(number))
    out = {}
    for i, metric in enumerate(metrics):
        did, did_kept, active, active_kept = counts[i]
        separation = stats.Separation(did, did_kept, active - did, active_kept - did_kept) if retained else None
        out[metric.id] = Units(separation, (reach[i][0], reach[i][1]), parts[i])
    return out


def separation(spec: Spec, metric: Metric, starts: Sequence[dt.date], found: Units | None) -> Criterion:
    retained = spec.retained
    if retained is None:
        return Criterion(None, "the spec does not say what retained means (`retained:`)")
    if retained.source != metric.source:
        return Criterion(None, f"it reads source {metric.source!r}, `retained:` reads {retained.source!r}")
    if len(starts) <= retained.within + 1:
        return Criterion(None, f"{stats.NOT_ENOUGH}: the window is not longer than `retained.within`")
    problem = _unit_problem(spec, metric)
    if problem or found is None or found.separation is None:
        return Criterion(None, problem or "no unit to follow")
    split = found.separation
    a, b = split.rates
    if a is None or b is None:
        who = "no active unit did it" if a is None else "every active unit did it"
        return Criterion(None, f"{who}: nothing to compare")
    p = split.p
    text = (
        f"retained {formatting.percent(a, signed=False)} of {split.did} units that did it against "
        f"{formatting.percent(b, signed=False)} of {split.did_not} that did not"
        + (f", p {'< 0.001' if p < 0.001 else f'= {p:.3f}'}" if p is not None else "")
    )
    lift = split.lift or 0.0
    good = p is not None and p < stats.ALPHA and lift > 0
    return Criterion(min(1.0, lift) if good else 0.0, text)


def headroom(spec: Spec, metric: Metric, found: Units | None) -> Criterion:
    problem = _unit_problem(spec, metric)
    if problem or found is None or found.reach is None:
        return Criterion(None, problem or "no unit to follow")
    did, active = found.reach
    if not active:
        return Criterion(None, "no active unit in the last period")
    room = 1 - did / active
    return Criterion(room, f"{formatting.percent(room, signed=False)} of active units do not do it yet")


def inflatability(spec: Spec, metric: Metric, found: Units | None) -> Criterion:
    problem = _unit_problem(spec, metric)
    if problem or found is None:
        return Criterion(None, problem or "no unit to follow")
    measure = metric.measure or (metric.ratio.numerator.measure if metric.ratio else None)
    if measure is None or not _additive_measure(metric):
        return Criterion(None, "not a count or a sum: units' parts do not add up to it")
    share = stats.top_share(found.parts, TOP_UNITS)
    if share is None:
        return Criterion(None, "no unit did it in the window")
    source = spec.sources[metric.source]
    repeat_proof = (
        measure.aggregate == "count_distinct" and (measure.column or "").lower() == (source.unit or "").lower()
    )
    heavy = share >= INFLATED
    text = (
        f"the top {formatting.percent(TOP_UNITS, signed=False)} of units produce "
        f"{formatting.percent(share, signed=False)}"
        + ("; repeating the action does not raise it" if repeat_proof else "; repeating the action raises it")
    )
    if heavy:
        text += ": a few heavy units can inflate it"
    return Criterion(max(0.0, 1 - share), text, flag=heavy)


# --- running -----------------------------------------------------------------------


def score(
    spec: Spec,
    series: Series,
    outcome: Series | None,
    inputs: Sequence[Series],
    max_lag: int,
    found: Units | None,
) -> Scored:
    metric, starts = series.metric, series.periods
    criteria = {
        "leads": leads(series, outcome, max_lag),
        "separates": separation(spec, metric, starts, found),
        "headroom": headroom(spec, metric, found),
        "sensitivity": sensitivity(series, inputs, max_lag),
        "inflatability": inflatability(spec, metric, found),
        "stability": stability(series),
    }
    return Scored(metric, metric.role is Role.NORTH_STAR, criteria)


def run(
    specs: Sequence[Spec],
    project: Project,
    *,
    periods: int = DEFAULT_PERIODS,
    end: dt.date | None = None,
    max_lag: int = DEFAULT_MAX_LAG,
    environ: Mapping[str, str] | None = None,
    progress: Callable[[QueryRun], None] | None = None,
) -> list[Choice]:
    """Score the candidates (and the current North Star) of every spec that lists any. Raises WarehouseError."""
    chosen = []
    environ = os.environ if environ is None else environ
    for spec in specs:
        if not spec.candidates:
            continue
        grain = spec.north_star.grain
        evaluation = evaluate(
            [spec],
            project,
            periods=periods,
            end=end,
            environ=environ,
            progress=progress,
            select=lambda s, m: m.role is not Role.COUNTER,
            grain_of=lambda s, m, grain=grain: grain,  # type: ignore[misc]
            candidates=True,
        )
        outcome = evaluation.outcome_of(spec)
        inputs = [evaluation.of(spec, m) for m in spec.inputs]
        ns = evaluation.of(spec, spec.north_star)
        scored_metrics = (spec.north_star, *spec.candidates)
        by_source: dict[str, list[Metric]] = {}
        for metric in scored_metrics:
            if _unit_problem(spec, metric) is None:
                by_source.setdefault(metric.source, []).append(metric)
        facts: dict[str, Units] = {}
        with Warehouses(project, environ) as warehouses:
            for source_id, metrics in by_source.items():
                facts.update(units(warehouses, spec, source_id, metrics, grain, ns.periods))
        scored = tuple(
            score(spec, evaluation.of(spec, m), outcome, inputs, max_lag, facts.get(m.id)) for m in scored_metrics
        )
        notes = () if spec.retained else ("add `retained:` to judge which candidate separates retained units",)
        chosen.append(Choice(spec, grain, ns.periods, scored, notes))
    return chosen


# --- reports -----------------------------------------------------------------------


def _cell(c: Criterion) -> str:
    if not c.judged:
        return "cannot judge"
    return f"{c.score:.2f}" + (" !" if c.flag else "")


def _name(s: Scored) -> str:
    return s.metric.id + (" (current)" if s.current else "")


def reasons(s: Scored) -> str:
    said = [f"{name}: {c.text}" for name, c in s.criteria.items() if c.judged and (c.score or c.flag)]
    return "; ".join(said) or "no criterion the data could judge speaks for it"


def _title(c: Choice) -> str:
    count = len(c.periods)
    outcome = c.spec.outcome.id if c.spec.outcome else "no outcome"
    return (
        f"{c.spec.product.name} ({c.spec.product.id}): {len(c.scored)} candidates over {count} "
        f"{c.grain}{'s' * (count != 1)}, {c.periods[0]} to {calendar.last_day(c.periods[-1], c.grain)}; "
        f"outcome {outcome}"
    )


def _rows(c: Choice) -> list[list[str]]:
    return [[_name(s), *(_cell(s.criteria[k]) for k in CRITERIA), f"{s.total:.2f}"] for s in c.ranked]


def _verdict(c: Choice) -> str:
    best = c.recommended
    if best is None:
        return "No recommendation: no candidate scores on what the data can judge."
    return f"Recommended: {_name(best)}, because {reasons(best)}."


def _flags(c: Choice) -> list[str]:
    return [f"{s.metric.id}: {s.criteria['inflatability'].text}" for s in c.scored if s.inflatable]


def as_text(chosen: Sequence[Choice]) -> str:
    out = []
    for c in chosen:
        header = ["candidate", *CRITERIA, "score"]
        lines = [
            _title(c),
            formatting.table(header, _rows(c), right=set(range(1, len(CRITERIA) + 2))),
            _verdict(c),
        ]
        lines += [f"  ! inflatable: {f}" for f in _flags(c)]
        lines.append("Data cannot judge:")
        lines += [f"  - {u}" for u in c.unjudged()]
        lines += [f"note: {n}" for n in c.notes]
        out.append("\n".join(lines))
    return "\n\n".join(out) if out else "no spec lists `candidates:`"


def as_markdown(chosen: Sequence[Choice]) -> str:
    out = []
    for c in chosen:
        header = ["candidate", *CRITERIA, "score"]
        details = "\n".join(
            f"- **{_name(s)}**: " + "; ".join(f"{k}: {s.criteria[k].text}" for k in CRITERIA) for s in c.ranked
        )
        parts = [
            f"## Candidates: {_title(c)}",
            formatting.markdown_table(header, _rows(c), right=set(range(1, len(CRITERIA) + 2))),
            f"**{_verdict(c)}**",
            details,
        ]
        if _flags(c):
            parts.append("### Inflatable\n\n" + "\n".join(f"- {f}" for f in _flags(c)))
        parts.append("### Data cannot judge\n\n" + "\n".join(f"- {u}" for u in c.unjudged()))
        parts += [f"_Note: {n}._" for n in c.notes]
        out.append("\n\n".join(parts))
    return ("\n\n".join(out) if out else "no spec lists `candidates:`") + "\n"


def as_json(chosen: Sequence[Choice]) -> str:
    return json.dumps(
        [
            {
                "spec": c.spec.product.id,
                "file": c.spec.file,
                "grain": c.grain,
                "periods": [p.isoformat() for p in c.periods],
                "candidates": [
                    {
                        "id": s.metric.id,
                        "current": s.current,
                        "score": s.total,
                        "inflatable": s.inflatable,
                        "criteria": {
                            k: {"score": v.score, "judged": v.judged, "flag": v.flag, "text": v.text}
                            for k, v in s.criteria.items()
                        },
                    }
                    for s in c.ranked
                ],
                "recommended": c.recommended.metric.id if c.recommended else None,
                "reasons": reasons(c.recommended) if c.recommended else None,
                "cannot_judge": c.unjudged(),
                "notes": list(c.notes),
            }
            for c in chosen
        ],
        indent=2,
    )


FORMATS: dict[str, Callable[[Sequence[Choice]], str]] = {"text": as_text, "markdown": as_markdown, "json": as_json}
