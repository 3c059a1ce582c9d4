"""What drove the North Star's change: `northstar explain`, and the digest's paragraph.

The change between a period and the one before is explained three ways:

- Is it real? stats.move: the change against the same change in earlier
  periods (robust z on the median and MAD); "normal variation" needs no
  story.
- Which segments? For each dimension its source declares, the North Star
  per segment in both periods (one pushed-down query per dimension). A
  count or a sum adds up over segments, so each segment's contribution is
  its own change and the contributions sum to the total change exactly. A
  distinct count adds up when each unit sits in one segment; what the
  segments do not account for (units in several) is reported as overlap.
  A ratio N/D is the share-weighted average of the segments' ratios,
  R = sum(w_i r_i) with w_i = D_i / D; its change splits exactly into a
  rate effect (segments' ratios moved: mean(w_i) * delta(r_i)) and a mix
  effect (the weights moved: mean(r_i) * delta(w_i)). Any other aggregate
  (avg, min, max, raw SQL) does not add up: segments are shown, without
  contributions.
- Which inputs? Each input's backtested lead on the North Star (the lag
  with the best correlation of changes, direction-adjusted) over the
  history window; the North Star change it accounts for is the regression
  slope at that lag times the input's change `lag` periods earlier. An
  input explains the move when its lead is significant and that expected
  change goes the way the North Star went and is at least MATERIAL (a
  fifth) of it; the driver is the one that accounts for most.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from northstar_spec.spec import formatting
from northstar_spec.spec.model import Input, Metric, Project, Role, Spec
from northstar_spec.spec.sql import FragmentError, column_expression, metric_expression, ratio_expressions
from northstar_spec.warehouse import backtest, stats
from northstar_spec.warehouse import periods as calendar
from northstar_spec.warehouse.engines import WarehouseError, Warehouses
from northstar_spec.warehouse.evaluate import QueryRun, Series, evaluate
from northstar_spec.warehouse.pushdown import Query, as_number, period_key

#: Periods of history behind the explained one: the inputs' leads and the move's baseline.
DEFAULT_HISTORY = 26
DEFAULT_MAX_LAG = 4
#: An input explains a move when what it accounts for is at least this share of it (same direction).
MATERIAL = 0.2
#: Segments shown per dimension.
DEFAULT_TOP = 3
NONE_SEGMENT = "(none)"
ADDITIVE = "additive"
MIX_RATE = "mix and rate"
NOT_ADDITIVE = "not additive"


@dataclass(frozen=True)
class Segment:
    value: str
    before: float | None
    after: float | None
    contribution: float | None = None
    rate: float | None = None
    mix: float | None = None


@dataclass(frozen=True)
class Breakdown:
    """The North Star's change split over the segments of one dimension."""

    source: str
    dimension: str
    method: str
    #: Every segment, largest contribution (or move) first.
    segments: tuple[Segment, ...]
    delta: float | None
    #: What the segments do not account for (units counted in several segments).
    overlap: float | None = None

    @property
    def rate(self) -> float | None:
        return sum(s.rate or 0.0 for s in self.segments) if self.method == MIX_RATE else None

    @property
    def mix(self) -> float | None:
        return sum(s.mix or 0.0 for s in self.segments) if self.method == MIX_RATE else None

    def share(self, segment: Segment) -> float | None:
        if segment.contribution is None or not self.delta:
            return None
        return segment.contribution / self.delta


@dataclass(frozen=True)
class InputEffect:
    metric: Metric
    lag: int | None
    correlation: stats.Correlation
    #: The input's relative change `lag` periods before the explained one (inverted for `decrease`).
    change: float | None
    #: The North Star's relative change it accounts for.
    expected: float | None
    explains: bool
    #: The input's own last move against its history (stats.move).
    move: stats.Move


@dataclass(frozen=True)
class Explanation:
    spec: Spec
    grain: str
    before_period: dt.date
    period: dt.date
    before: float | None
    after: float | None
    move: stats.Move
    breakdowns: tuple[Breakdown, ...]
    inputs: tuple[InputEffect, ...]
    history: int
    notes: tuple[str, ...] = field(default=())

    @property
    def delta(self) -> float | None:
        return None if self.before is None or self.after is None else self.after - self.before

    @property
    def change(self) -> float | None:
        return formatting.change(self.before, self.after)

    @property
    def driver(self) -> InputEffect | None:
        explaining = [e for e in self.inputs if e.explains and e.expected is not None]
        return max(explaining, key=lambda e: abs(e.expected or 0.0)) if explaining else None


# --- segments ------------------------------------------------------------------


def additive(metric: Metric) -> str:
    if metric.ratio is not None:
        parts = (metric.ratio.numerator.measure.aggregate, metric.ratio.denominator.measure.aggregate)
        return MIX_RATE if all(a in ("count", "sum", "count_distinct") for a in parts) else NOT_ADDITIVE
    if metric.measure is not None and metric.measure.aggregate in ("count", "sum", "count_distinct"):
        return ADDITIVE
    return NOT_ADDITIVE


def _sorted(segments: list[Segment]) -> tuple[Segment, ...]:
    def size(s: Segment) -> float:
        if s.contribution is not None:
            return abs(s.contribution)
        return abs((s.after or 0.0) - (s.before or 0.0))

    return tuple(sorted(segments, key=lambda s: (-size(s), s.value)))


def split_additive(
    dimension: str, source: str, values: Mapping[str, tuple[float, float]], before: float | None, after: float | None
) -> Breakdown:
    """Contributions of segments to a count or a sum: each segment's own change."""
    segments = [Segment(v, b, a, a - b) for v, (b, a) in values.items()]
    delta = None if before is None or after is None else after - before
    overlap = None
    if delta is not None:
        left = delta - sum(s.contribution or 0.0 for s in segments)
        overlap = left if abs(left) > 1e-9 else 0.0
    return Breakdown(source, dimension, ADDITIVE, _sorted(segments), delta, overlap)


def split_ratio(dimension: str, source: str, parts: Mapping[str, tuple[float, float, float, float]]) -> Breakdown:
    """Mix and rate effects of a ratio's segments; `parts` maps a segment to (N0, D0, N1, D1).

    Midpoint weights make the split exact: sum(rate + mix) = R1 - R0, with
    R = sum(N) / sum(D). A segment without a denominator in one period keeps
    the ratio of the other (it only enters or leaves the mix).
    """
    d0 = sum(p[1] for p in parts.values())
    d1 = sum(p[3] for p in parts.values())
    n0 = sum(p[0] for p in parts.values())
    n1 = sum(p[2] for p in parts.values())
    segments = []
    for value, (a0, b0, a1, b1) in parts.items():
        w0 = b0 / d0 if d0 else 0.0
        w1 = b1 / d1 if d1 else 0.0
        r0 = a0 / b0 if b0 else None
        r1 = a1 / b1 if b1 else None
        if r0 is None and r1 is None:
            continue
        r0_, r1_ = (r0 if r0 is not None else r1), (r1 if r1 is not None else r0)
        assert r0_ is not None and r1_ is not None
        rate = (w0 + w1) / 2 * (r1_ - r0_)
        mix = (r0_ + r1_) / 2 * (w1 - w0)
        segments.append(Segment(value, r0, r1, rate + mix, rate, mix))
    delta = (n1 / d1 - n0 / d0) if d0 and d1 else None
    return Breakdown(source, dimension, MIX_RATE, _sorted(segments), delta, 0.0 if delta is not None else None)


def _segment(raw) -> str:
    return NONE_SEGMENT if raw is None else str(raw)


def breakdowns(warehouses: Warehouses, spec: Spec, ns: Series) -> list[Breakdown]:
    """The North Star's last two periods of `ns`, per segment of each dimension of its source (one query each)."""
    metric = spec.north_star
    source = spec.sources.get(metric.source)
    if source is None or not source.dimensions:
        return []
    query = Query(warehouses, spec, metric.source, metric)
    starts = ns.periods[-2:]
    method = additive(metric)
    found = []
    for i, dimension in enumerate(source.dimensions):
        rows = query.rows(ns.grain, starts)
        try:
            segment = column_expression(spec, source.path + ("dimensions", i), dimension, query.dialect)
            if metric.ratio is not None and method == MIX_RATE:
                aggregates = list(ratio_expressions(spec, metric, query.dialect))
            else:
                aggregates = [metric_expression(spec, metric, query.dialect)]
        except FragmentError as exc:
            raise WarehouseError(str(exc)) from None
        period = query.period(rows)
        statement = (
            sa.select(period, segment.label("northstar_segment"), *(a.label(f"m{j}") for j, a in enumerate(aggregates)))
            .select_from(rows)
            .group_by(period, segment)
        )
        result = query.fetch(
            statement, f"the breakdown of {metric.id!r} by {dimension!r}", source.path + ("dimensions", i)
        )
        cells: dict[str, list[float | None]] = {}
        for row in result:
            when = period_key(row[0], ns.grain, starts)
            if when is None:
                continue
            slot = starts.index(when)
            values = cells.setdefault(_segment(row[1]), [None] * (2 * len(aggregates)))
            for j in range(len(aggregates)):
                values[slot * len(aggregates) + j] = as_number(row[2 + j])
        if method == MIX_RATE:
            parts = {v: tuple(float(x or 0) for x in c) for v, c in cells.items()}
            found.append(split_ratio(dimension, source.id, parts))  # type: ignore[arg-type]
        elif method == ADDITIVE:
            pairs = {v: (float(c[0] or 0), float(c[1] or 0)) for v, c in cells.items()}
            found.append(split_additive(dimension, source.id, pairs, ns.previous, ns.last))
        else:
            segments = [Segment(v, c[0], c[1]) for v, c in cells.items()]
            delta = None if ns.previous is None or ns.last is None else ns.last - ns.previous
            found.append(Breakdown(source.id, dimension, NOT_ADDITIVE, _sorted(segments), delta))
    return found


# --- inputs --------------------------------------------------------------------


def _before_last(series: Series) -> Series:
    return dataclasses.replace(series, periods=series.periods[:-1], values=series.values[:-1])


def input_effect(series: Series, ns: Series, max_lag: int) -> InputEffect:
    """How much of the North Star's last change the input's earlier change accounts for.

    The lead is backtested on the history before the explained period, so
    that the move being explained does not vouch for its own explanation.
    """
    metric = series.metric
    invert = isinstance(metric, Input) and metric.direction == "decrease"
    found = backtest.lead(_before_last(series), _before_last(ns), max_lag, invert=invert)
    judged = [c for c in found.correlations if c.fit.enough and c.r is not None]
    if not judged:
        best_stats = max((c.fit for c in found.correlations), key=lambda c: c.n, default=stats.Correlation(None, 0))
        return InputEffect(metric, None, best_stats, None, None, False, stats.move(series.values, series.grain))
    best = max(judged, key=lambda c: (c.r or -2.0, -c.lag))
    x = backtest.changes(stats.started(series.values))
    if invert:
        x = [-v if v is not None else None for v in x]
    y = backtest.changes(stats.started(ns.values))
    lag = best.lag
    slope = stats.slope(x[: len(x) - 1 - lag], y[lag:-1])
    moved = x[len(x) - 1 - lag] if len(x) > lag else None
    expected = slope * moved if slope is not None and moved is not None else None
    actual = y[-1] if y else None
    explains = bool(
        best.fit.significant()
        and (best.r or 0) > 0
        and expected is not None
        and actual is not None
        and expected * actual > 0
        and abs(expected) >= MATERIAL * abs(actual)
    )
    return InputEffect(metric, lag, best.fit, moved, expected, explains, stats.move(series.values, series.grain))


# --- running -------------------------------------------------------------------


def analyse(spec: Spec, ns: Series, inputs: Sequence[Series], found: Sequence[Breakdown], max_lag: int) -> Explanation:
    """The explanation of the last period of `ns` from series and breakdowns already computed."""
    notes = []
    source = spec.sources.get(spec.north_star.source)
    if source is not None and not source.dimensions:
        notes.append(f"source {source.id!r} declares no `dimensions:`: no breakdown by segment")
    if any(b.method == NOT_ADDITIVE for b in found):
        notes.append(
            f"{spec.north_star.id} is not a count, a sum or a ratio of them: its segments do not add up to it, "
            "so they are shown without contributions"
        )
    effects = tuple(input_effect(s, ns, max_lag) for s in inputs)
    return Explanation(
        spec,
        ns.grain,
        ns.periods[-2],
        ns.periods[-1],
        ns.previous,
        ns.last,
        stats.move(ns.values, ns.grain),
        tuple(found),
        effects,
        len(ns.periods),
        tuple(notes),
    )


def run(
    specs: Sequence[Spec],
    project: Project,
    *,
    period: dt.date | None = None,
    end: dt.date | None = None,
    history: int = DEFAULT_HISTORY,
    max_lag: int = DEFAULT_MAX_LAG,
    environ: Mapping[str, str] | None = None,
    progress: Callable[[QueryRun], None] | None = None,
) -> list[Explanation]:
    """Explain each spec's North Star change in `period` (a day in it; default the last complete one
    before `end`, itself today by default) against the period before. Raises WarehouseError."""
    explained = []
    for spec in specs:
        grain = spec.north_star.grain
        if period is not None:
            until = calendar.shift(calendar.period_start(period, grain), grain, 1)
        else:
            until = end or dt.date.today()
        evaluation = evaluate(
            [spec],
            project,
            periods=max(history, 2),
            end=until,
            environ=environ,
            progress=progress,
            select=lambda s, m: m.role in (Role.NORTH_STAR, Role.INPUT),
            grain_of=lambda s, m, grain=grain: grain,  # type: ignore[misc]
        )
        ns = evaluation.of(spec, spec.north_star)
        inputs = [evaluation.of(spec, m) for m in spec.inputs]
        with Warehouses(project, os.environ if environ is None else environ) as warehouses:
            found = breakdowns(warehouses, spec, ns)
        explained.append(analyse(spec, ns, inputs, found, max_lag))
    return explained


# --- reports -------------------------------------------------------------------


def _num(value: float | None) -> str:
    return formatting.number(value)


def _signed(value: float | None) -> str:
    if value is None:
        return formatting.MISSING
    text = formatting.number(abs(value))
    return ("+" if value > 0 else "-" if value < 0 else "") + text


def _lags(lag: int, grain: str) -> str:
    return "at once" if lag == 0 else f"{lag} {grain}{'s' * (lag != 1)} earlier"


def headline(e: Explanation) -> str:
    """The move, and whether it is more than noise."""
    ns = e.spec.north_star
    moved = f"{ns.name} (`{ns.id}`) moved from {_num(e.before)} to {_num(e.after)}"
    change = e.change
    if change is not None:
        moved += f" ({formatting.percent(change)})"
    return f"{moved} {calendar.phrase(e.period, e.grain)}: {e.move.text()}."


def segment_sentence(b: Breakdown, top: int = DEFAULT_TOP) -> str:
    shown = [s for s in b.segments if s.contribution is not None][:top]
    if b.method == NOT_ADDITIVE or not shown:
        moved = ", ".join(f"{s.value} {_num(s.before)} → {_num(s.after)}" for s in b.segments[:top])
        return f"By {b.dimension}: {moved or 'no rows'} (not additive)."
    parts = []
    for s in shown:
        share = b.share(s)
        text = f"{s.value} {_signed(s.contribution)}"
        if share is not None:
            text += f" ({formatting.percent(share, signed=False)} of the change)"
        if b.method == MIX_RATE:
            text += f" [rate {_signed(s.rate)}, mix {_signed(s.mix)}]"
        parts.append(text)
    sentence = f"By {b.dimension}: " + ", ".join(parts)
    if b.method == MIX_RATE and b.delta:
        kind = "mix" if abs(b.mix or 0) > abs(b.rate or 0) else "rate"
        sentence += f"; overall rate {_signed(b.rate)}, mix {_signed(b.mix)}: mostly {kind} " + (
            "(segments' shares moved, not their ratios)" if kind == "mix" else "(segments' ratios moved)"
        )
    if b.overlap:
        sentence += f"; {_signed(b.overlap)} not attributed (units in several segments)"
    return sentence + "."


def verdict(move: stats.Move) -> str:
    """A move's verdict in a few words: the size of the surprise when it can be judged."""
    if move.verdict == stats.NOT_ENOUGH or move.z is None:
        return move.verdict
    return f"{move.verdict} (z {move.z:+.1f})" if abs(move.z) != float("inf") else move.verdict


def input_sentence(effect: InputEffect, grain: str) -> str:
    metric = effect.metric
    own = f"; its last move: {verdict(effect.move)}"
    if effect.lag is None:
        return f"{metric.id}: {effect.correlation.text()}{own}"
    lead = f"{metric.id} (best lag {effect.lag}, {effect.correlation.text()})"
    if effect.expected is None:
        return f"{lead}: no change to carry over{own}"
    text = (
        f"{lead}: moved {formatting.percent(effect.change)} {_lags(effect.lag, grain)}, "
        f"worth {formatting.percent(effect.expected)} of the North Star"
    )
    return text + ("" if effect.explains else " (does not explain this move)") + own


def summary(e: Explanation, top: int = 1, *, with_headline: bool = True) -> str:
    """The digest's paragraph: is the move real, which segment, which input."""
    if with_headline:
        parts = [headline(e)]
    elif e.move.verdict == stats.NOT_ENOUGH:
        parts = [f"There is {e.move.text()}."]
    else:
        parts = [f"Against its own history the move is {e.move.text()}."]
    for b in e.breakdowns:
        # The segment that moved most the way the North Star went.
        best = [s for s in b.segments if s.contribution is not None and s.contribution * (b.delta or 0) > 0][:top]
        if best and b.delta:
            s = best[0]
            share = b.share(s)
            piece = f"By {b.dimension}, {s.value} contributed {_signed(s.contribution)}"
            if share is not None:
                piece += f" ({formatting.percent(share, signed=False)} of the change)"
            if b.method == MIX_RATE:
                kind = "mix" if abs(b.mix or 0) > abs(b.rate or 0) else "rate"
                piece += f"; the move is mostly {kind}"
            parts.append(piece + ".")
    driver = e.driver
    if driver is not None and driver.lag is not None:
        parts.append(
            f"The input that explains it best: {driver.metric.name} (`{driver.metric.id}`), which moved "
            f"{formatting.percent(driver.change)} {_lags(driver.lag, e.grain)} "
            f"(worth {formatting.percent(driver.expected)} of the North Star; {driver.correlation.text()})."
        )
    elif e.inputs and all(x.lag is None for x in e.inputs):
        parts.append("The inputs have too little history to test their leads.")
    elif e.inputs:
        parts.append("No input's backtested lead explains this move.")
    return " ".join(parts)


def _title(e: Explanation) -> str:
    return (
        f"{e.spec.product.name} ({e.spec.product.id}): {e.spec.north_star.id}, {calendar.name(e.period, e.grain)} "
        f"against {calendar.name(e.before_period, e.grain)} ({e.history} {e.grain}s of history)"
    )


def as_text(explained: Sequence[Explanation], top: int = DEFAULT_TOP) -> str:
    out = []
    for e in explained:
        lines = [_title(e), headline(e).replace("`", "")]
        lines += [f"  {segment_sentence(b, top)}" for b in e.breakdowns]
        if e.inputs:
            lines.append("Inputs (lead on the North Star, and what their move is worth):")
            lines += [f"  {'*' if x is e.driver else '-'} {input_sentence(x, e.grain)}" for x in e.inputs]
            driver = e.driver
            lines.append(f"Driver: {driver.metric.id}" if driver else "Driver: none of the inputs explains this move")
        lines += [f"note: {n}" for n in e.notes]
        out.append("\n".join(lines))
    return "\n\n".join(out)


def as_markdown(explained: Sequence[Explanation], top: int = DEFAULT_TOP) -> str:
    out = []
    for e in explained:
        parts = [f"## What drove the change: {_title(e)}", headline(e)]
        for b in e.breakdowns:
            header = ["segment", "before", "now", "contribution", "share"]
            rows = []
            for s in b.segments[:top]:
                share = b.share(s)
                rows.append(
                    [
                        s.value,
                        _num(s.before),
                        _num(s.after),
                        _signed(s.contribution),
                        formatting.percent(share, signed=False) if share is not None else formatting.MISSING,
                    ]
                )
            parts.append(
                f"### By {b.dimension} ({b.method})\n\n"
                + formatting.markdown_table(header, rows, right={1, 2, 3, 4})
                + f"\n\n{segment_sentence(b, top)}"
            )
        if e.inputs:
            parts.append("### Inputs\n\n" + "\n".join(f"- {input_sentence(x, e.grain)}" for x in e.inputs))
        parts.append(summary(e))
        parts += [f"_Note: {n}._" for n in e.notes]
        out.append("\n\n".join(parts))
    return "\n\n".join(out) + "\n"


def to_json(e: Explanation) -> dict:
    return {
        "spec": e.spec.product.id,
        "file": e.spec.file,
        "north_star": e.spec.north_star.id,
        "grain": e.grain,
        "period_start": e.period.isoformat(),
        "before_start": e.before_period.isoformat(),
        "before": e.before,
        "after": e.after,
        "change": e.change,
        "move": e.move.as_json(),
        "breakdowns": [
            {
                "source": b.source,
                "dimension": b.dimension,
                "method": b.method,
                "delta": b.delta,
                "rate": b.rate,
                "mix": b.mix,
                "not_attributed": b.overlap,
                "segments": [
                    {
                        "value": s.value,
                        "before": s.before,
                        "after": s.after,
                        "contribution": s.contribution,
                        "share": b.share(s),
                        "rate": s.rate,
                        "mix": s.mix,
                    }
                    for s in b.segments
                ],
            }
            for b in e.breakdowns
        ],
        "inputs": [
            {
                "id": x.metric.id,
                "lag": x.lag,
                "correlation": x.correlation.as_json(),
                "change": x.change,
                "expected": x.expected,
                "explains": x.explains,
                "move": x.move.as_json(),
            }
            for x in e.inputs
        ],
        "driver": e.driver.metric.id if e.driver else None,
        "summary": summary(e),
        "notes": list(e.notes),
    }


def as_json(explained: Sequence[Explanation], top: int = DEFAULT_TOP) -> str:
    return json.dumps([to_json(e) for e in explained], indent=2)


FORMATS: dict[str, Callable[..., str]] = {"text": as_text, "markdown": as_markdown, "json": as_json}
