"""Numbers, changes, thresholds and targets as every surface shows them.

One module for every place a value is read: the CLI (`evaluate`, `digest`,
`guardrails`, `tree`, `diff`), the dashboards (their d3 formats come from
`d3_format`) and the North Star page (which gets `page_format` in its model
and applies the same rules in the reader's browser).

A metric says how it reads with `format` (number, percent, currency,
duration), `decimals` and `unit`; a ratio defaults to percent. Without
`decimals` a number shows what it needs: counts as counts (1,277), other
values with three significant decimals below 1, two below 10, one above.
A change of a percent reads in points (+1.2 pts), of anything else as a
relative percentage (+3.4%). Whether a change is good follows the metric's
direction (`direction`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass

from northstar_spec.spec.model import CounterMetric, Input, Metric, Target, Threshold

MISSING = "–"
#: Symbols of the currencies written before the value; any other code is written out (CHF 12.00).
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CNY": "¥", "KRW": "₩"}
#: A guardrail is "close" when its value is within this share of its threshold (10 % below a max, above a min).
CLOSE_MARGIN = 0.1


@dataclass(frozen=True)
class Format:
    kind: str = "number"  # number | percent | currency | duration
    decimals: int | None = None
    unit: str | None = None
    currency: str | None = None


NUMBER = Format()


def format_of(metric: Metric) -> Format:
    """How a metric's values read: what it declares, else percent for a ratio and number for the rest."""
    kind = metric.format or ("percent" if metric.ratio is not None else "number")
    return Format(kind, metric.decimals, metric.unit, metric.currency)


def _plain(value: float, decimals: int | None) -> str:
    if decimals is not None:
        return f"{value:,.{decimals}f}"
    if float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) < 10:
        return f"{value:,.3f}" if abs(value) < 1 else f"{value:,.2f}"
    return f"{value:,.1f}"


def _duration(seconds: float, decimals: int | None) -> str:
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    if seconds < 60:
        return f"{sign}{seconds:.{1 if decimals is None else decimals}f}s".replace(".0s", "s")
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{sign}{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{sign}{hours}h {minutes:02d}m"
    return f"{sign}{hours / 24:,.1f}d"


def value_text(fmt: Format | Metric, value: float | None, *, unit: bool = True) -> str:
    """A value as it reads (`unit=False` in tables whose header names the unit)."""
    if isinstance(fmt, Metric):
        fmt = format_of(fmt)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    if fmt.kind == "percent":
        text = f"{value * 100:,.{1 if fmt.decimals is None else fmt.decimals}f}%"
    elif fmt.kind == "currency":
        code = fmt.currency or ""
        amount = f"{abs(value):,.{2 if fmt.decimals is None else fmt.decimals}f}"
        symbol = CURRENCY_SYMBOLS.get(code)
        text = ("-" if value < 0 else "") + (f"{symbol}{amount}" if symbol else f"{code} {amount}")
    elif fmt.kind == "duration":
        text = _duration(value, fmt.decimals)
    else:
        text = _plain(value, fmt.decimals)
    return f"{text} {fmt.unit}" if unit and fmt.unit else text


def number(value: float | None) -> str:
    """A plain number (no metric's format applies)."""
    return value_text(NUMBER, value)


def shown(metric: Metric) -> Callable[[float | None], str]:
    """A metric's value formatter without its unit, for thresholds and targets."""
    fmt = format_of(metric)
    return lambda value: value_text(fmt, value, unit=False)


def threshold_text(threshold: Threshold | None, shown: Callable[[float], str] = number) -> str:
    if threshold is None:
        return "no threshold"
    parts = [f"min {shown(threshold.min)}"] if threshold.min is not None else []
    parts += [f"max {shown(threshold.max)}"] if threshold.max is not None else []
    return ", ".join(parts)


def target_text(target: Target, shown: Callable[[float], str] = number) -> str:
    return shown(target.value) + (f" by {target.by.isoformat()}" if target.by else "")


def change(old: float | None, new: float | None) -> float | None:
    """The relative change from old to new; None when it has no meaning (no value, or from 0)."""
    if old is None or new is None or old == 0:
        return None
    return (new - old) / abs(old)


def percent(relative: float | None, signed: bool = True) -> str:
    if relative is None:
        return MISSING
    text = f"{relative * 100:+.1f}%" if signed else f"{relative * 100:.1f}%"
    return text.replace("+0.0%", "0.0%").replace("-0.0%", "0.0%")


def change_text(fmt: Format | Metric, old: float | None, new: float | None) -> str:
    """The move from old to new: in points for a percent (+1.2 pts), else relative (+3.4%)."""
    if isinstance(fmt, Metric):
        fmt = format_of(fmt)
    if fmt.kind == "percent":
        if old is None or new is None:
            return MISSING
        points = f"{(new - old) * 100:+.{1 if fmt.decimals is None else fmt.decimals}f}"
        return ("0.0" if float(points) == 0 else points) + " pts"
    return percent(change(old, new))


def direction(metric: Metric) -> str | None:
    """Which way is good: the North Star grows; an input as declared; a guardrail away from its bound."""
    if isinstance(metric, Input):
        return metric.direction
    if isinstance(metric, CounterMetric):
        t = metric.threshold
        if t is None or (t.max is not None and t.min is not None):
            return None
        return "decrease" if t.max is not None else "increase"
    return "increase"


def judged(metric: Metric, old: float | None, new: float | None) -> str | None:
    """ "better", "worse" or "flat" for a move, by the metric's direction; None when it cannot tell."""
    way = direction(metric)
    if old is None or new is None or way is None:
        return None
    if new == old:
        return "flat"
    return "better" if (new > old) == (way == "increase") else "worse"


# --- guardrails and targets ---------------------------------------------------------------------


def guardrail_chip(threshold: Threshold | None, value: float | None) -> str | None:
    """breached, close (within CLOSE_MARGIN of a bound) or within; None without a threshold or value."""
    if threshold is None or value is None:
        return None
    if threshold.breached_by(value):
        return "breached"
    near_max = threshold.max is not None and value >= threshold.max - CLOSE_MARGIN * abs(threshold.max)
    near_min = threshold.min is not None and value <= threshold.min + CLOSE_MARGIN * abs(threshold.min)
    return "close" if near_max or near_min else "within"


def breaches(threshold: Threshold | None, values: list[float | None]) -> int:
    """How many of these periods' values crossed the threshold."""
    if threshold is None:
        return 0
    return sum(1 for v in values if v is not None and threshold.breached_by(v))


@dataclass(frozen=True)
class Progress:
    #: The share of the target reached: the value over the target.
    share: float | None
    #: Where the straight line from the start to the target stands on `on`.
    expected: float | None
    #: Whether the value is at or beyond that line (in the target's direction); None without a line.
    on_pace: bool | None


def progress(target: Target, value: float | None, start_value: float | None, on: dt.date) -> Progress:
    """How far a value is on its way to the target, and whether it keeps pace with a straight line
    from `start_value` at `target.starts` to `target.value` at `target.by`."""
    share = value / target.value if value is not None and target.value else None
    begin = target.starts
    if value is None or start_value is None or target.by is None or begin is None or target.by <= begin:
        return Progress(share, None, None)
    elapsed = min(max((on - begin).days / (target.by - begin).days, 0.0), 1.0)
    expected = start_value + (target.value - start_value) * elapsed
    rising = target.value >= start_value
    return Progress(share, expected, value >= expected if rising else value <= expected)


def progress_text(metric: Metric, p: Progress) -> str:
    """'83.1% of target, on pace (expected 640)' and the like."""
    if p.share is None:
        return MISSING
    text = f"{p.share * 100:.1f}% of target"
    if p.on_pace is not None and p.expected is not None:
        text += f", {'on pace' if p.on_pace else 'behind pace'} (line at {value_text(metric, p.expected)})"
    return text


# --- other surfaces -----------------------------------------------------------------------------


def d3_format(fmt: Format | Metric) -> str:
    """The d3 format Superset shows a metric's values with (no unit: d3 has no suffix)."""
    if isinstance(fmt, Metric):
        fmt = format_of(fmt)
    if fmt.kind == "percent":
        return f",.{1 if fmt.decimals is None else fmt.decimals}%"
    if fmt.kind == "currency":
        return f",.{2 if fmt.decimals is None else fmt.decimals}f"
    if fmt.kind == "duration":
        return "DURATION_SEC" if fmt.decimals is None else f",.{fmt.decimals}f"
    return ",d" if fmt.decimals in (None, 0) else f",.{fmt.decimals}f"


def page_format(metric: Metric) -> dict:
    """What the North Star page needs to format a metric as this module does (its script mirrors it)."""
    fmt = format_of(metric)
    symbol = CURRENCY_SYMBOLS.get(fmt.currency or "")
    return {
        "kind": fmt.kind,
        "decimals": fmt.decimals,
        "unit": fmt.unit,
        "currency": fmt.currency,
        "symbol": symbol,
    }


def table(header: list[str], rows: list[list[str]], right: set[int] | None = None) -> str:
    """A plain-text table with aligned columns (numbers right-aligned)."""
    right = right if right is not None else set(range(1, len(header)))
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ).rstrip()

    return "\n".join([line(header), *(line(r) for r in rows)])


def markdown_table(header: list[str], rows: list[list[str]], right: set[int] | None = None) -> str:
    right = right if right is not None else set()
    rule = ["---:" if i in right else "---" for i in range(len(header))]
    escape = lambda cell: str(cell).replace("|", "\\|")  # noqa: E731
    return "\n".join(
        "| " + " | ".join(escape(c) for c in r) + " |" if r is not rule else "|" + "|".join(r) + "|"
        for r in [header, rule, *rows]
    )
