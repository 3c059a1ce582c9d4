"""One formatter for every surface: formats a spec declares, changes in points for percents, good or bad by
direction, guardrail chips, progress and pace to a target, and the one notion of a review being due."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import ROOT

from northstar_spec.spec import formatting
from northstar_spec.spec.formatting import Format, value_text
from northstar_spec.spec.model import (
    CounterMetric,
    Input,
    Measure,
    NorthStar,
    Ratio,
    RatioPart,
    Ritual,
    Role,
    Target,
    Threshold,
    review_state,
)
from northstar_spec.spec.pipeline import check

COUNT = Measure("count")


def metric(cls=Input, **fields):
    role = {Input: Role.INPUT, NorthStar: Role.NORTH_STAR, CounterMetric: Role.COUNTER}[cls]
    return cls(
        **{"role": role, "id": "m", "name": "M", "source": "s", "grain": "week", "path": (), "measure": COUNT, **fields}
    )


@pytest.mark.parametrize(
    ("fmt", "value", "text"),
    [
        (Format(), 1272, "1,272"),
        (Format(), 1272.0, "1,272"),
        (Format(), 13.034, "13.0"),
        (Format(), 2.374, "2.37"),
        (Format(), 0.4132, "0.413"),
        (Format(decimals=2, unit="projects"), 2.374, "2.37 projects"),
        (Format(unit="teams"), 1272, "1,272 teams"),
        (Format("percent"), 0.4132, "41.3%"),
        (Format("percent", decimals=0), 0.4162, "42%"),
        (Format("currency", currency="EUR"), 1272.5, "€1,272.50"),
        (Format("currency", currency="CHF", decimals=0), -12, "-CHF 12"),
        (Format("duration"), 45, "45s"),
        (Format("duration"), 245, "4m 05s"),
        (Format("duration"), 7500, "2h 05m"),
        (Format("duration"), 3 * 86400, "3.0d"),
        (Format(), None, "–"),
        (Format(), float("nan"), "–"),
    ],
)
def test_values_read_in_their_format(fmt, value, text):
    assert value_text(fmt, value) == text


def test_a_ratio_defaults_to_percent_and_its_change_reads_in_points():
    ratio = metric(measure=None, ratio=Ratio(RatioPart(COUNT), RatioPart(COUNT)))
    assert value_text(ratio, 0.137) == "13.7%"
    assert formatting.change_text(ratio, 0.125, 0.137) == "+1.2 pts"
    assert formatting.change_text(ratio, 0.137, 0.137) == "0.0 pts"
    assert formatting.change_text(metric(), 100, 112) == "+12.0%"
    assert formatting.d3_format(ratio) == ",.1%"
    assert formatting.d3_format(metric()) == ",d"
    assert formatting.d3_format(metric(decimals=2)) == ",.2f"


def test_a_change_is_good_or_bad_by_the_metrics_direction():
    assert formatting.judged(metric(NorthStar), 10, 12) == "better"
    assert formatting.judged(metric(direction="increase"), 10, 9) == "worse"
    assert formatting.judged(metric(direction="decrease"), 10, 9) == "better"
    assert formatting.judged(metric(direction="decrease"), 10, 10) == "flat"
    assert formatting.judged(metric(CounterMetric, threshold=Threshold(max=40)), 30, 35) == "worse"
    assert formatting.judged(metric(CounterMetric, threshold=Threshold(min=0.3)), 0.4, 0.5) == "better"
    assert formatting.judged(metric(direction=None), 1, 2) is None


@pytest.mark.parametrize(
    ("threshold", "value", "chip"),
    [
        (Threshold(max=40), 41, "breached"),
        (Threshold(max=40), 37, "close"),  # within 10% of the maximum
        (Threshold(max=40), 35.9, "within"),
        (Threshold(min=0.3), 0.32, "close"),
        (Threshold(min=0.3), 0.29, "breached"),
        (Threshold(min=0.3, max=0.5), 0.4, "within"),
        (None, 3, None),
        (Threshold(max=40), None, None),
    ],
)
def test_guardrail_chips(threshold, value, chip):
    assert formatting.guardrail_chip(threshold, value) == chip


def test_breaches_count_the_recent_periods_over_the_threshold():
    assert formatting.breaches(Threshold(max=40), [41, 39, None, 50]) == 2


def test_progress_and_pace_follow_the_straight_line_from_the_start():
    target = Target(700, dt.date(2027, 6, 30), dt.date(2026, 6, 30))
    halfway = dt.date(2026, 6, 30) + (dt.date(2027, 6, 30) - dt.date(2026, 6, 30)) / 2
    p = formatting.progress(target, 610, 500, halfway)
    assert p.share == pytest.approx(610 / 700)
    assert p.expected == pytest.approx(500 + 200 * 182 / 365)  # 182 of 365 days along the line
    assert p.on_pace is True
    assert formatting.progress(target, 590, 500, halfway).on_pace is False
    # A target below its start (fewer complaints): on pace when at or below the line.
    falling = Target(20, dt.date(2027, 6, 30), dt.date(2026, 6, 30))
    assert formatting.progress(falling, 55, 100, halfway).on_pace is True
    # Without `start`, the line starts a year before `by`.
    assert Target(700, dt.date(2027, 6, 30)).starts == dt.date(2026, 6, 30)
    assert formatting.progress(Target(700), 350, 100, halfway) == formatting.Progress(0.5, None, None)


@pytest.mark.parametrize(
    ("ritual", "state"),
    [
        (Ritual("weekly", (), "monday"), "due today"),  # 2026-11-30 is a Monday: digest says "due today"
        (Ritual("weekly", (), "wednesday"), "due soon"),
        (Ritual("monthly", (), last=dt.date(2026, 10, 2)), "overdue"),
        (Ritual("monthly", (), last=dt.date(2026, 11, 2)), "due soon"),
        (Ritual("annually", (), last=dt.date(2026, 3, 1)), "scheduled"),
        (Ritual("monthly", ()), "unrecorded"),
    ],
)
def test_one_notion_of_due(ritual, state):
    assert review_state(ritual, dt.date(2026, 11, 30)) == state


SPEC_WITH_FORMATS = (ROOT / "specs" / "teamspace.yaml").read_text()


def test_the_spec_declares_formats_and_a_currency_needs_its_code(tmp_path):
    def findings(text: str) -> list[str]:
        path = tmp_path / "teamspace.yaml"
        path.write_text(text)
        result = check([path], project_file=ROOT / "northstar.yaml", today=dt.date(2026, 11, 30))
        return [f"{d.code} {d.location.line}" for d in result.diagnostics if d.severity.value == "error"]

    assert findings(SPEC_WITH_FORMATS) == []
    spec = check(
        [ROOT / "specs" / "teamspace.yaml"], project_file=ROOT / "northstar.yaml", today=dt.date(2026, 11, 30)
    ).specs[0]
    assert value_text(spec.north_star, 1272) == "1,272 teams"
    assert spec.north_star.target.start == dt.date(2026, 6, 29)
    currency_without_code = SPEC_WITH_FORMATS.replace("  unit: teams\n", "  format: currency\n")
    assert findings(currency_without_code), "a currency format without its code must be an error"
    code_without_currency = SPEC_WITH_FORMATS.replace("  unit: teams\n", "  currency: EUR\n")
    assert findings(code_without_currency)
    assert findings(SPEC_WITH_FORMATS.replace("  unit: teams\n", "  format: currency\n  currency: EUR\n")) == []
    assert findings(SPEC_WITH_FORMATS.replace("  unit: teams\n", "  format: speed\n"))
