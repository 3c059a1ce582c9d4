"""The framework checked against history: does it behave as the spec claims?

A spec claims that its inputs move the North Star and that the North Star
leads its outcome (revenue, paid conversions). History can support or
contradict both claims. For each pair the backtest correlates period-over-
period relative changes at lags 0..N: the driver's change in one period
against the follower's change `lag` periods later. Changes, not levels,
because two series that both grow correlate at every lag and say nothing
about which moves first. An input declared to `decrease` is inverted first,
so a positive correlation always means "works as the spec says".

It also looks for the red flags of the method's checklist that data can show:

- spike-then-drop: a sharp rise followed at once by a fall (a campaign, a
  bug, a gamed metric), in the North Star or an input;
- input-moved-north-star-flat: an input moved a lot over the window while
  the North Star did not;
- north-star-does-not-lead: the North Star's best correlation with its
  outcome is weak, or comes at lag 0 (they move together: the North Star
  brings no early warning).

Honest about what it does not know: each series starts at its metric's
first row (periods before it are not zero-filled, stats.started), every
correlation comes with its number of pairs, a 95 % interval and a p-value
(stats.correlate), and a best correlation over fewer than stats.MIN_PAIRS
pairs is "not enough data", never a verdict.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from northstar_spec.spec import formatting
from northstar_spec.spec.model import Metric, Project, Role, Spec
from northstar_spec.warehouse import periods as calendar
from northstar_spec.warehouse import stats
from northstar_spec.warehouse.evaluate import Number, QueryRun, Series, evaluate

DEFAULT_PERIODS = 52
DEFAULT_MAX_LAG = 4
#: Fewer (change, change) pairs than this and a correlation means nothing.
MIN_PAIRS = 4
#: A spike is measured from the median of this many periods before it.
BASELINE = 4


@dataclass(frozen=True)
class Thresholds:
    #: A lead is believed from this correlation up.
    min_correlation: float = 0.5
    #: A spike: a rise of at least this much over the previous period, and at least
    #: `sharpness` times the series' median period-over-period move (noisy series
    #: rise by 30 % now and then without anything happening) …
    spike: float = 0.3
    sharpness: float = 4.0
    #: … that gives back at least this share of the rise …
    gives_back: float = 0.5
    #: … within this many periods.
    drop_within: int = 2
    #: An input "moved" when its level changed this much between the first and the last quarter of the window …
    moved: float = 0.2
    #: … and the North Star "did not" when its level changed less than this.
    flat: float = 0.05


@dataclass(frozen=True)
class LagCorrelation:
    lag: int
    r: float | None
    pairs: int
    fit: stats.Correlation


@dataclass(frozen=True)
class BestLag:
    """The lag with the strongest correlation, when any could be computed."""

    lag: int
    r: float
    pairs: int
    fit: stats.Correlation

    @property
    def enough(self) -> bool:
        """Whether there are pairs enough for a verdict (stats.MIN_PAIRS)."""
        return self.fit.enough


@dataclass(frozen=True)
class Lead:
    """How well the driver's changes foretell the follower's, lag by lag."""

    driver: Metric
    follower: Metric
    inverted: bool
    correlations: tuple[LagCorrelation, ...]

    @property
    def best(self) -> BestLag | None:
        known = [BestLag(c.lag, c.r, c.pairs, c.fit) for c in self.correlations if c.r is not None]
        return max(known, key=lambda c: (c.r, -c.lag)) if known else None


@dataclass(frozen=True)
class RedFlag:
    kind: str
    metric: str
    message: str
    period: dt.date | None = None


@dataclass(frozen=True)
class Backtest:
    spec: Spec
    grain: str
    periods: tuple[dt.date, ...]
    max_lag: int
    thresholds: Thresholds
    north_star: Series
    inputs: tuple[Series, ...]
    outcome: Series | None
    input_leads: tuple[Lead, ...]
    outcome_lead: Lead | None
    red_flags: tuple[RedFlag, ...]
    notes: tuple[str, ...] = field(default=())


# --- the arithmetic -----------------------------------------------------------


def changes(values: Sequence[Number]) -> list[float | None]:
    """Relative change of each period over the one before (the first has none)."""
    return [None, *(formatting.change(a, b) for a, b in itertools.pairwise(values))]


def correlation(xs: Sequence[float | None], ys: Sequence[float | None]) -> tuple[float | None, int]:
    """Pearson's r over the pairs where both are known, and how many pairs there were."""
    pairs = [(x, y) for x, y in zip(xs, ys) if x is not None and y is not None]
    if len(pairs) < MIN_PAIRS:
        return None, len(pairs)
    mean_x = sum(x for x, _ in pairs) / len(pairs)
    mean_y = sum(y for _, y in pairs) / len(pairs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in pairs)
    sxx = sum((x - mean_x) ** 2 for x, _ in pairs)
    syy = sum((y - mean_y) ** 2 for _, y in pairs)
    if sxx <= 0 or syy <= 0:
        return None, len(pairs)
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy))), len(pairs)


def lead(driver: Series, follower: Series, max_lag: int, invert: bool = False) -> Lead:
    """Correlations of the driver's change in period t with the follower's in t + lag."""
    x = changes(stats.started(driver.values))
    if invert:
        x = [-v if v is not None else None for v in x]
    y = changes(stats.started(follower.values))
    found = []
    for lag in range(0, max_lag + 1):
        xs, ys = x[: len(x) - lag], y[lag:]
        r, pairs = correlation(xs, ys)
        found.append(LagCorrelation(lag, r, pairs, stats.correlate(xs, ys)))
    return Lead(driver.metric, follower.metric, invert, tuple(found))


def spikes(series: Series, thresholds: Thresholds) -> list[RedFlag]:
    """Sharp rises that are given back at once: the peak of each.

    A rise is measured from the median of the few periods before it, so that
    a noisy low week does not make an ordinary one look like a spike.
    """
    values, flags = series.values, []
    moves = [abs(c) for c in changes(values) if c is not None]
    typical = statistics.median(moves) if moves else 0.0
    sharp = max(thresholds.spike, thresholds.sharpness * typical)
    resumes = 1  # a spike's own drop is not the next spike
    for t in range(1, len(values) - 1):
        if t < resumes:
            continue
        earlier = [v for v in values[max(0, t - BASELINE) : t] if v is not None]
        peak = values[t]
        if not earlier or peak is None:
            continue
        before = statistics.median(earlier)
        if before <= 0 or peak / before - 1 < sharp:
            continue
        following = values[t + 1]
        if following is not None and following > peak:
            continue  # still rising: the peak comes later
        for k in range(1, thresholds.drop_within + 1):
            after = values[t + k] if t + k < len(values) else None
            if after is not None and peak - after >= thresholds.gives_back * (peak - before):
                grain = series.grain
                flags.append(
                    RedFlag(
                        "spike-then-drop",
                        series.metric.id,
                        f"{series.metric.id} jumped {formatting.percent(peak / before - 1, signed=False)} "
                        f"{calendar.phrase(series.periods[t], grain)}, then fell "
                        f"{formatting.percent(1 - after / peak, signed=False)} "
                        f"within {k} {grain}{'s' * (k != 1)}",
                        series.periods[t],
                    )
                )
                resumes = t + k + 1
                break
    return flags


def level_change(values: Sequence[Number]) -> tuple[float | None, int]:
    """The change between the average of the window's first quarter and its last quarter."""
    part = max(1, len(values) // 4)
    first = [v for v in values[:part] if v is not None]
    last = [v for v in values[-part:] if v is not None]
    if not first or not last:
        return None, part
    return formatting.change(sum(first) / len(first), sum(last) / len(last)), part


def moved_alone(ns: Series, inputs: Sequence[Series], thresholds: Thresholds) -> list[RedFlag]:
    ns_change, part = level_change(ns.values)
    if ns_change is None or abs(ns_change) >= thresholds.flat:
        return []
    flags = []
    for series in inputs:
        moved, _ = level_change(series.values)
        if moved is not None and abs(moved) >= thresholds.moved:
            span = f"{part} {ns.grain}{'s' * (part != 1)}"
            flags.append(
                RedFlag(
                    "input-moved-north-star-flat",
                    series.metric.id,
                    f"{series.metric.id} {'rose' if moved > 0 else 'fell'} {formatting.percent(moved)} "
                    f"(first {span} of "
                    f"the window against the last {span}) while the North Star changed {formatting.percent(ns_change)}",
                )
            )
    return flags


def leads_outcome(found: Lead, thresholds: Thresholds, grain: str) -> list[RedFlag]:
    best = found.best
    if best is None or not best.enough:
        return []
    r = f"r = {best.r:.2f}"
    if best.r < thresholds.min_correlation:
        return [
            RedFlag(
                "north-star-does-not-lead",
                found.driver.id,
                f"{found.driver.id} does not lead {found.follower.id}: its best correlation ({r} at lag "
                f"{best.lag}) is below {thresholds.min_correlation:g}",
            )
        ]
    if best.lag <= 0:
        return [
            RedFlag(
                "north-star-does-not-lead",
                found.driver.id,
                f"{found.driver.id} moves with {found.follower.id} instead of ahead of it (best lag 0 {grain}s, {r})",
            )
        ]
    return []


def analyse(
    spec: Spec,
    ns: Series,
    inputs: Sequence[Series],
    outcome: Series | None,
    max_lag: int,
    thresholds: Thresholds = Thresholds(),
) -> Backtest:
    """The backtest of one spec from its series (all at the North Star's grain)."""
    ns, inputs = _started(ns), [_started(s) for s in inputs]
    outcome = _started(outcome) if outcome is not None else None
    input_leads = tuple(lead(s, ns, max_lag, invert=getattr(s.metric, "direction", None) == "decrease") for s in inputs)
    flags = spikes(ns, thresholds)
    for series in inputs:
        flags += spikes(series, thresholds)
    flags += moved_alone(ns, inputs, thresholds)
    notes = []
    outcome_lead = None
    if outcome is None:
        notes.append("no outcome declared: add `outcome:` to check that the North Star leads it")
    else:
        outcome_lead = lead(ns, outcome, max_lag)
        best = outcome_lead.best
        if best is None or not best.enough:
            pairs = best.pairs if best else max(c.pairs for c in outcome_lead.correlations)
            notes.append(
                f"not enough data to say whether {ns.metric.id} leads {outcome.metric.id}: {pairs} pairs of "
                f"changes, at least {stats.MIN_PAIRS} needed"
            )
        flags += leads_outcome(outcome_lead, thresholds, ns.grain)
    return Backtest(
        spec,
        ns.grain,
        ns.periods,
        max_lag,
        thresholds,
        ns,
        tuple(inputs),
        outcome,
        input_leads,
        outcome_lead,
        tuple(flags),
        tuple(notes),
    )


def _started(series: Series) -> Series:
    """The series without the periods before its metric's first row (stats.started)."""
    return dataclasses.replace(series, values=stats.started(series.values))


def run(
    specs: Sequence[Spec],
    project: Project,
    *,
    periods: int = DEFAULT_PERIODS,
    end: dt.date | None = None,
    max_lag: int = DEFAULT_MAX_LAG,
    thresholds: Thresholds = Thresholds(),
    environ: Mapping[str, str] | None = None,
    progress: Callable[[QueryRun], None] | None = None,
) -> list[Backtest]:
    """Backtest every spec over `periods` complete periods of its North Star's grain. Raises WarehouseError."""
    evaluation = evaluate(
        specs,
        project,
        periods=periods,
        end=end,
        environ=environ,
        progress=progress,
        select=lambda spec, metric: metric.role is not Role.COUNTER,
        grain_of=lambda spec, metric: spec.north_star.grain,
    )
    found = []
    for spec in specs:
        ns = evaluation.of(spec, spec.north_star)
        inputs = [evaluation.of(spec, m) for m in spec.inputs]
        found.append(analyse(spec, ns, inputs, evaluation.outcome_of(spec), max_lag, thresholds))
    return found


# --- reports ------------------------------------------------------------------


def _r(value: float | None) -> str:
    return formatting.MISSING if value is None else f"{value:.2f}"


def _best(found: Lead, grain: str) -> str:
    best = found.best
    if best is None:
        return "not enough data"
    if not best.enough:
        return f"lag {best.lag} ({_r(best.r)}), n = {best.pairs}: not enough data"
    p = best.fit.p
    return f"lag {best.lag} ({_r(best.r)}, n = {best.pairs}, " + (
        "p < 0.001)" if p is not None and p < 0.001 else f"p = {p:.3f})"
    )


def _title(b: Backtest) -> str:
    count = len(b.periods)
    return (
        f"{b.spec.product.name} ({b.spec.product.id}): {count} {b.grain}{'s' * (count != 1)}, "
        f"{b.periods[0]} to {calendar.last_day(b.periods[-1], b.grain)}; lags 0 to {b.max_lag} {b.grain}s"
    )


def _verdict(b: Backtest) -> str:
    if b.outcome_lead is None:
        return f"North Star {b.north_star.metric.id}: no outcome declared"
    best = b.outcome_lead.best
    target = f"North Star {b.north_star.metric.id} -> outcome {b.outcome_lead.follower.id}"
    if best is None or not best.enough:
        return f"{target}: not enough data ({best.fit.text() if best else 'no pair of changes'})"
    if best.lag > 0 and best.r >= b.thresholds.min_correlation:
        return f"{target}: leads by {best.lag} {b.grain}{'s' * (best.lag != 1)} ({best.fit.text()})"
    return f"{target}: does not lead (best lag {best.lag}, {best.fit.text()})"


def _lag_rows(b: Backtest) -> list[list[str]]:
    rows = []
    leads = [*b.input_leads, *([b.outcome_lead] if b.outcome_lead else [])]
    for found in leads:
        if found is b.outcome_lead:
            name = f"{found.driver.id} -> {found.follower.id} (outcome)"
        else:
            arrow = "↓" if found.inverted else "↑"
            name = f"{found.driver.id} {arrow} -> {found.follower.id}"
        rows.append([name, *(_r(c.r) for c in found.correlations), _best(found, b.grain)])
    return rows


def as_text(backtests: Sequence[Backtest]) -> str:
    out = []
    for b in backtests:
        header = ["driver -> follower", *(f"lag {lag}" for lag in range(b.max_lag + 1)), "best"]
        lines = [
            _title(b),
            _verdict(b),
            "Correlation of period-over-period changes (inputs that should decrease are inverted):",
            formatting.table(header, _lag_rows(b), right=set(range(1, b.max_lag + 2))),
        ]
        lines += [f"note: {n}" for n in b.notes]
        if b.red_flags:
            lines.append(f"Red flags ({len(b.red_flags)}):")
            lines += [f"  ! {f.kind}: {f.message}" for f in b.red_flags]
        else:
            lines.append("No red flags.")
        out.append("\n".join(lines))
    return "\n\n".join(out)


def as_markdown(backtests: Sequence[Backtest]) -> str:
    out = []
    for b in backtests:
        header = ["driver → follower", *(f"lag {lag}" for lag in range(b.max_lag + 1)), "best"]
        rows = [[r[0].replace(" -> ", " → "), *r[1:]] for r in _lag_rows(b)]
        parts = [
            f"## Backtest: {_title(b)}",
            f"**{_verdict(b).replace(' -> ', ' → ')}**",
            "Correlation of period-over-period changes; inputs that should decrease are inverted.",
            formatting.markdown_table(header, rows, right=set(range(1, b.max_lag + 2))),
        ]
        parts += [f"_Note: {n}._" for n in b.notes]
        if b.red_flags:
            parts.append("### Red flags\n\n" + "\n".join(f"- **{f.kind}**: {f.message}" for f in b.red_flags))
        else:
            parts.append("No red flags.")
        out.append("\n\n".join(parts))
    return "\n\n".join(out) + "\n"


def _lead_json(found: Lead | None) -> dict | None:
    if found is None:
        return None
    best = found.best
    return {
        "driver": found.driver.id,
        "follower": found.follower.id,
        "inverted": found.inverted,
        "correlations": [{"lag": c.lag, "r": c.r, "pairs": c.pairs, **c.fit.as_json()} for c in found.correlations],
        "best_lag": best.lag if best else None,
        "best_r": best.r if best else None,
        "best_n": best.pairs if best else None,
        "best_p": best.fit.p if best else None,
        "best_ci95": [best.fit.low, best.fit.high] if best else None,
        "enough_data": bool(best and best.enough),
    }


def as_json(backtests: Sequence[Backtest]) -> str:
    return json.dumps(
        [
            {
                "spec": b.spec.product.id,
                "file": b.spec.file,
                "grain": b.grain,
                "periods": [p.isoformat() for p in b.periods],
                "max_lag": b.max_lag,
                "series": {s.metric.id: list(s.values) for s in [b.north_star, *b.inputs, *filter(None, [b.outcome])]},
                "inputs": [_lead_json(found) for found in b.input_leads],
                "outcome": _lead_json(b.outcome_lead),
                "red_flags": [
                    {
                        "kind": f.kind,
                        "metric": f.metric,
                        "message": f.message,
                        "period_start": f.period.isoformat() if f.period else None,
                    }
                    for f in b.red_flags
                ],
                "notes": list(b.notes),
            }
            for b in backtests
        ],
        indent=2,
    )


FORMATS: dict[str, Callable[[Sequence[Backtest]], str]] = {"text": as_text, "markdown": as_markdown, "json": as_json}
