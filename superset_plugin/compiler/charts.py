"""Chart definitions: Superset `params` (what Explore and dashboards render) and
a matching `query_context` (what the chart data API, CSV export and reports
need; Superset only saves one when somebody opens the chart in Explore).

Every chart reads the last complete periods and carries the SQL cut-off from
periods.py, so the unfinished current period never shows as a drop.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from northstar_spec.spec import formatting
from northstar_spec.spec.model import CounterMetric, Metric
from superset_plugin.compiler.periods import COMPARE_SUFFIX, complete_periods, complete_periods_only, time_grain

#: How many complete periods a chart shows, by grain: about half a year for
#: big numbers, a year for trends.
NUMBER_PERIODS = {"day": 28, "week": 26, "month": 12, "quarter": 8}
TREND_PERIODS = {"day": 90, "week": 52, "month": 24, "quarter": 12}
#: The target's own colour and dash: amber, far from every colour of Superset's default series palette.
TARGET_COLOR = "#D98C00"
THRESHOLD_COLOR = "#E04355"
#: Placeholder numeric ids: Superset's importer rewrites them to real ids.
DATASOURCE = "1__table"


@dataclass(frozen=True)
class Frame:
    """What a chart needs to know about the dataset it reads."""

    time_column: str  # quoted for the dialect where needed
    dialect: str


@dataclass(frozen=True)
class ChartSpec:
    key: str
    name: str
    viz_type: str
    params: dict
    query_context: dict
    description: str = ""


def number_format(metric: Metric) -> str:
    """The metric's d3 format (formatting.d3_format): the exact value, never an abbreviation such as 1.27k."""
    return formatting.d3_format(metric)


def currency(metric: Metric) -> dict:
    """Superset's currency setting for a `format: currency` metric (its symbol before the value)."""
    fmt = formatting.format_of(metric)
    if fmt.kind != "currency" or not fmt.currency:
        return {}
    return {"currency_format": {"symbol": fmt.currency, "symbolPosition": "prefix"}}


def _filters(metric: Metric, frame: Frame, periods: int) -> list[dict]:
    return [
        {
            "clause": "WHERE",
            "subject": frame.time_column,
            "operator": "TEMPORAL_RANGE",
            "comparator": complete_periods(metric.grain, periods),
            "expressionType": "SIMPLE",
            "filterOptionName": "northstar_time_range",
        },
        {
            "clause": "WHERE",
            "expressionType": "SQL",
            "sqlExpression": complete_periods_only(frame.time_column, metric.grain, frame.dialect),
            "filterOptionName": "northstar_complete_periods_only",
        },
    ]


def _query_context(params: dict, metric_id: str, frame: Frame, grain: str) -> dict:
    """The query the chart's own UI would save, with the same filters as its params."""
    time_range = next(f["comparator"] for f in params["adhoc_filters"] if f.get("operator") == "TEMPORAL_RANGE")
    where = " AND ".join(f"({f['sqlExpression']})" for f in params["adhoc_filters"] if f["expressionType"] == "SQL")
    query = {
        "filters": [{"col": frame.time_column, "op": "TEMPORAL_RANGE", "val": time_range}],
        "extras": {"time_grain_sqla": grain, "having": "", "where": where},
        "columns": [
            {
                "timeGrain": grain,
                "columnType": "BASE_AXIS",
                "sqlExpression": frame.time_column,
                "label": frame.time_column,
                "expressionType": "SQL",
                "isColumnReference": True,
            }
        ],
        "metrics": [metric_id],
        "orderby": [[metric_id, False]],
        "row_limit": 10000,
        "series_columns": [],
        "series_limit": 0,
        "order_desc": True,
        "annotation_layers": [],
        "post_processing": [
            {
                "operation": "pivot",
                "options": {
                    "index": [frame.time_column],
                    "columns": [],
                    "aggregates": {metric_id: {"operator": "mean"}},
                    "drop_missing_columns": True,
                },
            },
            {"operation": "flatten"},
        ],
    }
    return {
        "datasource": {"id": 0, "type": "table"},
        "force": False,
        "result_format": "json",
        "result_type": "full",
        "form_data": params,
        "queries": [query],
    }


def big_number(
    key: str, name: str, metric: Metric, frame: Frame, description: str = "", *, hero: bool = False
) -> ChartSpec:
    """The latest complete period, the change against the previous one, and a trendline;
    the hero (the North Star) has the largest number on the dashboard."""
    grain = time_grain(metric.grain, frame.dialect)
    params = {
        "datasource": DATASOURCE,
        "viz_type": "big_number",
        "metric": metric.id,
        "x_axis": frame.time_column,
        "time_grain_sqla": grain,
        "adhoc_filters": _filters(metric, frame, NUMBER_PERIODS[metric.grain]),
        "compare_lag": 1,
        "compare_suffix": COMPARE_SUFFIX[metric.grain],
        "show_timestamp": True,
        "show_trend_line": True,
        "start_y_axis_at_zero": True,
        "y_axis_format": number_format(metric),
        **currency(metric),
        "header_font_size": 0.5 if hero else 0.3,
        "subheader_font_size": 0.15 if hero else 0.125,
        "rolling_type": "None",
    }
    return ChartSpec(key, name, "big_number", params, _query_context(params, metric.id, frame, grain), description)


#: Guardrail status colours on dashboards, as on the North Star page: breached, close, within.
STATUS_COLORS = {"breached": "#C2323F", "close": "#A86300", "within": "#1E7F55"}


def _status_formatting(metric: CounterMetric) -> list[dict]:
    """Superset conditional formatting that colours a guardrail's value by its status (formatting.guardrail_chip):
    red past a bound, amber within CLOSE_MARGIN of it, green inside."""
    t, margin = metric.threshold, formatting.CLOSE_MARGIN
    if t is None:
        return []
    rules = []

    def rule(operator: str, color: str, **values: float) -> None:
        rules.append({"column": metric.id, "operator": operator, "colorScheme": color, **values})

    low = t.min + margin * abs(t.min) if t.min is not None else None
    high = t.max - margin * abs(t.max) if t.max is not None else None
    if t.max is not None:
        rule(">", STATUS_COLORS["breached"], targetValue=t.max)
    if t.min is not None:
        rule("<", STATUS_COLORS["breached"], targetValue=t.min)
    if high is not None and t.max is not None:
        rule("≤ x ≤", STATUS_COLORS["close"], targetValueLeft=high, targetValueRight=t.max)
    if low is not None and t.min is not None:
        rule("≤ x ≤", STATUS_COLORS["close"], targetValueLeft=t.min, targetValueRight=low)
    inside_low = low if low is not None else -1e15
    inside_high = high if high is not None else 1e15
    if inside_low < inside_high:
        rule("< x <", STATUS_COLORS["within"], targetValueLeft=inside_low, targetValueRight=inside_high)
    return rules


def guardrail_now(key: str, name: str, metric: CounterMetric, frame: Frame, description: str = "") -> ChartSpec:
    """A guardrail's value in the last complete period, coloured by its status, its threshold beneath."""
    grain = time_grain(metric.grain, frame.dialect)
    bound = formatting.threshold_text(metric.threshold, formatting.shown(metric))
    params = {
        "datasource": DATASOURCE,
        "viz_type": "big_number_total",
        "metric": metric.id,
        "adhoc_filters": _filters(metric, frame, 1),
        "y_axis_format": number_format(metric),
        **currency(metric),
        "header_font_size": 0.25,
        "subtitle": f"{bound} · red breached, amber within {formatting.CLOSE_MARGIN:.0%} of it",
        "subheader": "",
        "subtitle_font_size": 0.2,
        "conditional_formatting": _status_formatting(metric),
    }
    context = _query_context(params, metric.id, frame, grain)
    query = context["queries"][0]
    query.update(columns=[], post_processing=[], orderby=[])
    return ChartSpec(key, name, "big_number_total", params, context, description)


def target_progress(key: str, name: str, metric: Metric, frame: Frame) -> ChartSpec:
    """The share of its target the metric reached in the last complete period (`<id>__target_share`,
    a dataset metric of its own), with the target beneath."""
    assert metric.target is not None
    grain = time_grain(metric.grain, frame.dialect)
    share = metric.id + "__target_share"
    target = formatting.target_text(metric.target, formatting.shown(metric))
    start = metric.target.starts
    params = {
        "datasource": DATASOURCE,
        "viz_type": "big_number_total",
        "metric": share,
        "adhoc_filters": _filters(metric, frame, 1),
        "y_axis_format": ",.1%",
        "header_font_size": 0.2,
        "subtitle": f"of {target}" + (f" (from {start.isoformat()})" if start else ""),
        "subheader": "",
        "subtitle_font_size": 0.1,
    }
    context = _query_context(params, share, frame, grain)
    context["queries"][0].update(columns=[], post_processing=[], orderby=[])
    return ChartSpec(key, name, "big_number_total", params, context, metric.definition or "")


def _from(start: dt.date | None, value: float) -> str:
    """A FORMULA annotation's value: `value` from `start` on, nothing before it.

    Superset evaluates the formula at each x (epoch milliseconds); `0 / (x >= start)` is 0/0, not a
    number, before the start, which the chart leaves out, so the line is drawn only over its span.
    """
    if start is None:
        return repr(float(value))
    since = int(dt.datetime.combine(start, dt.time(), dt.timezone.utc).timestamp() * 1000)
    return f"{float(value)!r} + 0 / (x >= {since})"


def _line(value: float, label: str, color: str, style: str, start: dt.date | None = None) -> dict:
    return {
        "name": label,
        "annotationType": "FORMULA",
        "sourceType": "",
        "value": _from(start, value),
        "show": True,
        "showLabel": True,
        "style": style,
        "width": 2,
        "color": color,
        "opacity": "",
        "overrides": {"time_range": None},
        "titleColumn": "",
        "descriptionColumns": [],
        "timeColumn": "",
        "intervalEndColumn": "",
        "showMarkers": False,
        "hideLine": False,
    }


def trend(key: str, name: str, metric: Metric, frame: Frame, description: str = "") -> ChartSpec:
    """A line over the last complete periods, against the target or the guardrail's bounds."""
    grain = time_grain(metric.grain, frame.dialect)
    layers: list[dict] = []
    if metric.target is not None:
        label = "Target" + (f" by {metric.target.by.isoformat()}" if metric.target.by else "")
        layers.append(_line(metric.target.value, label, TARGET_COLOR, "dashed", metric.target.starts))
    threshold = metric.threshold if isinstance(metric, CounterMetric) else None
    if threshold is not None:
        if threshold.max is not None:
            layers.append(_line(threshold.max, "Guardrail maximum", THRESHOLD_COLOR, "solid"))
        if threshold.min is not None:
            layers.append(_line(threshold.min, "Guardrail minimum", THRESHOLD_COLOR, "solid"))
    params = {
        "datasource": DATASOURCE,
        "viz_type": "echarts_timeseries_line",
        "metrics": [metric.id],
        "x_axis": frame.time_column,
        "time_grain_sqla": grain,
        "adhoc_filters": _filters(metric, frame, TREND_PERIODS[metric.grain]),
        "groupby": [],
        "annotation_layers": layers,
        "row_limit": 10000,
        "show_legend": True,
        "legendOrientation": "top",
        "rich_tooltip": True,
        "markerEnabled": True,
        "markerSize": 4,
        "y_axis_format": number_format(metric),
        **currency(metric),
        # Months as "Mar 2026", tilted: long month names from smart_date ran into each other.
        "x_axis_time_format": "%b %Y",
        "xAxisLabelRotation": 45,
        "truncateYAxis": False,
        "y_axis_bounds": [0, None],
    }
    return ChartSpec(
        key, name, "echarts_timeseries_line", params, _query_context(params, metric.id, frame, grain), description
    )


def encode_query_context(chart: ChartSpec) -> str | None:
    """Superset stores query_context as a JSON string; sorted keys keep it byte-stable."""
    return json.dumps(chart.query_context, sort_keys=True, separators=(",", ":"))
