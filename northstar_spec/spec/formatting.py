"""Numbers, thresholds and targets as every report shows them.

Counts read as counts (1,277), shares and rates as decimals (0.413), other
values with one decimal (13.9); a change reads as a signed percentage; a
threshold as "min 0.2, max 0.5"; a target as "1,200 by 2027-06-30".
"""

from __future__ import annotations

from collections.abc import Callable

from northstar_spec.spec.model import Target, Threshold

MISSING = "–"


def number(value: float | None) -> str:
    if value is None:
        return MISSING
    if float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) < 10:
        return f"{value:,.3f}" if abs(value) < 1 else f"{value:,.2f}"
    return f"{value:,.1f}"


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
