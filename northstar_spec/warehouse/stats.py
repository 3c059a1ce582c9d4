"""The statistics behind backtest, explain and candidates, on small per-period series.

Everything here runs in Python on series of a few dozen numbers (the
warehouse has already aggregated the rows), so it is plain arithmetic with
no dependency. Three questions, each answered with how sure it is and with
"not enough data" below a documented minimum, never a verdict:

- Does x foretell y? Pearson's r of period-over-period changes, with the
  number of pairs, a 95 % confidence interval and a two-sided p-value, both
  from Fisher's z transformation (z = atanh r has standard error
  1 / sqrt(n - 3)). Below MIN_PAIRS pairs there is no verdict.
- Is the last move real? The change of the last period against the same
  period one season earlier (the previous week for weekly metrics, last
  Monday for a Monday), judged against the same change in the HISTORY
  seasons before: a robust z = (change - median) / (1.4826 * MAD). Growth
  moves the median, not the verdict; a Monday bump is compared with earlier
  Monday bumps. |z| >= SIGNIFICANT_Z (3.5, Iglewicz and Hoaglin's cut-off
  for outliers) is "significant"; fewer than MIN_HISTORY earlier changes is
  "not enough data".
- Does an action separate two groups? A two-proportion z-test.

A metric's series starts at its first row: `started` turns the periods
before it into None, so a product launched mid-window is not read as weeks
of zero (lint cannot tell "no rows yet" from "no activity"; a metric that
truly had zero activity at the start of the window and rows before it is
rare, and is better left out than invented).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

#: Fewer (change, change) pairs than this and a correlation gets no verdict.
MIN_PAIRS = 8
#: Fewer earlier seasonal changes than this and a move gets no verdict.
MIN_HISTORY = 6
#: How many earlier seasons a move is compared with.
HISTORY = 8
#: A robust z from this size up is a significant move.
SIGNIFICANT_Z = 3.5
#: The significance level of every verdict.
ALPHA = 0.05
#: The period that repeats, per grain: a daily metric's Monday is compared with earlier Mondays.
SEASON = {"day": 7, "week": 1, "month": 1, "quarter": 1}
#: MAD times this estimates the standard deviation of normal data.
MAD_SCALE = 1.4826

NOT_ENOUGH = "not enough data"
NORMAL = "normal variation"
SIGNIFICANT = "significant"


def started(values: Sequence[float | None]) -> tuple[float | None, ...]:
    """The series with the periods before its first non-zero value as None (not zero-filled)."""
    out = list(values)
    for i, value in enumerate(out):
        if value is not None and value != 0:
            break
        out[i] = None
    return tuple(out)


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2))


@dataclass(frozen=True)
class Correlation:
    """Pearson's r over `n` pairs, with its 95 % interval and p-value (None without a verdict)."""

    r: float | None
    n: int
    low: float | None = None
    high: float | None = None
    p: float | None = None

    @property
    def enough(self) -> bool:
        return self.r is not None and self.n >= MIN_PAIRS

    def significant(self) -> bool:
        return self.enough and self.p is not None and self.p < ALPHA

    def text(self) -> str:
        if self.r is None and self.n >= 3:
            return f"no correlation: one of the series never changed (n = {self.n})"
        if self.r is None:
            return f"{NOT_ENOUGH} (n = {self.n})"
        if not self.enough:
            return f"r = {self.r:.2f}, n = {self.n}: {NOT_ENOUGH} (at least {MIN_PAIRS} pairs)"
        return f"r = {self.r:.2f}, n = {self.n}, 95% CI {self.low:.2f} to {self.high:.2f}, {_p(self.p)}"

    def as_json(self) -> dict:
        return {"r": self.r, "n": self.n, "ci95": [self.low, self.high], "p": self.p, "enough": self.enough}


def _p(p: float | None) -> str:
    return "p unknown" if p is None else "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def correlate(xs: Sequence[float | None], ys: Sequence[float | None]) -> Correlation:
    """r over the pairs where both are known; the interval and p-value from Fisher's z."""
    pairs = [(x, y) for x, y in zip(xs, ys) if x is not None and y is not None]
    n = len(pairs)
    if n < 3:
        return Correlation(None, n)
    mean_x = sum(x for x, _ in pairs) / n
    mean_y = sum(y for _, y in pairs) / n
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in pairs)
    sxx = sum((x - mean_x) ** 2 for x, _ in pairs)
    syy = sum((y - mean_y) ** 2 for _, y in pairs)
    if sxx <= 0 or syy <= 0:
        return Correlation(None, n)
    r = max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))
    if n < 4:
        return Correlation(r, n)
    z = math.atanh(max(-0.999999, min(0.999999, r)))
    se = 1 / math.sqrt(n - 3)
    p = min(1.0, 2 * normal_sf(abs(z) / se))
    return Correlation(r, n, math.tanh(z - 1.96 * se), math.tanh(z + 1.96 * se), p)


def slope(xs: Sequence[float | None], ys: Sequence[float | None]) -> float | None:
    """The least-squares slope of y on x over the known pairs (None without variance in x)."""
    pairs = [(x, y) for x, y in zip(xs, ys) if x is not None and y is not None]
    if len(pairs) < 3:
        return None
    mean_x = sum(x for x, _ in pairs) / len(pairs)
    mean_y = sum(y for _, y in pairs) / len(pairs)
    sxx = sum((x - mean_x) ** 2 for x, _ in pairs)
    if sxx <= 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in pairs) / sxx


@dataclass(frozen=True)
class Move:
    """The last period's change against its season, judged against earlier seasons."""

    verdict: str
    change: float | None
    #: The change the history makes typical (the median), and how surprising this one is.
    typical: float | None = None
    z: float | None = None
    history: int = 0

    def text(self) -> str:
        if self.verdict == NOT_ENOUGH:
            return f"{NOT_ENOUGH} to judge the move ({self.history} earlier periods, at least {MIN_HISTORY} needed)"
        size = "" if self.z is None or math.isinf(self.z) else f", {abs(self.z):.1f} typical deviations"
        typical = 0.0 if self.typical is None else self.typical
        return f"{self.verdict} (typical change {typical * 100:+.1f}%{size} from it)"

    def as_json(self) -> dict:
        z = None if self.z is None or math.isinf(self.z) else self.z
        return {"verdict": self.verdict, "change": self.change, "typical": self.typical, "z": z, "n": self.history}


def _relative(old: float | None, new: float | None) -> float | None:
    if old is None or new is None or old == 0:
        return None
    return (new - old) / abs(old)


def move(values: Sequence[float | None], grain: str) -> Move:
    """Is the last value's change against its season normal variation or significant?"""
    season = SEASON.get(grain, 1)
    values = started(values)
    changes = [_relative(values[t - season], values[t]) if t >= season else None for t in range(len(values))]
    last = changes[-1] if changes else None
    # Only the same phase of the season: the Mondays for a Monday.
    earlier = [c for i, c in enumerate(changes[:-1][::-1]) if c is not None and (i + 1) % season == 0][:HISTORY]
    if last is None or len(earlier) < MIN_HISTORY:
        return Move(NOT_ENOUGH, last, history=len(earlier))
    typical = statistics.median(earlier)
    mad = statistics.median(abs(c - typical) for c in earlier) * MAD_SCALE
    if mad <= 0:
        mad = statistics.fmean(abs(c - typical) for c in earlier) * 1.2533
    if mad <= 0:
        z = 0.0 if last == typical else math.copysign(math.inf, last - typical)
    else:
        z = (last - typical) / mad
    verdict = SIGNIFICANT if abs(z) >= SIGNIFICANT_Z else NORMAL
    return Move(verdict, last, typical, z, len(earlier))


@dataclass(frozen=True)
class Separation:
    """How much more often the units that did an action were retained than those that did not."""

    did: int
    did_kept: int
    did_not: int
    did_not_kept: int

    @property
    def rates(self) -> tuple[float | None, float | None]:
        a = self.did_kept / self.did if self.did else None
        b = self.did_not_kept / self.did_not if self.did_not else None
        return a, b

    @property
    def lift(self) -> float | None:
        a, b = self.rates
        return None if a is None or b is None else a - b

    @property
    def p(self) -> float | None:
        """Two-sided p-value of the two-proportion z-test (pooled)."""
        if not self.did or not self.did_not:
            return None
        pooled = (self.did_kept + self.did_not_kept) / (self.did + self.did_not)
        se = math.sqrt(pooled * (1 - pooled) * (1 / self.did + 1 / self.did_not))
        lift = self.lift
        if se == 0 or lift is None:
            return None
        return min(1.0, 2 * normal_sf(abs(lift) / se))


def top_share(contributions: Sequence[float], share: float = 0.1) -> float | None:
    """The part of the total that the largest `share` of the units produce (at least one unit)."""
    values = sorted((v for v in contributions if v is not None and v > 0), reverse=True)
    total = sum(values)
    if not values or total <= 0:
        return None
    top = max(1, math.ceil(len(values) * share))
    return sum(values[:top]) / total
