"""Dashboard `position`: Superset's flat map of layout nodes, built row by row.

Node ids are derived from chart keys, not counters of our own making, so the
layout of a spec does not change when a chart elsewhere is added.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

GRID_WIDTH = 12
CHART_HEIGHT = 50  # 8 px units: 400 px


@dataclass
class Layout:
    rows: list[list[dict]] = field(default_factory=list)
    chart_ids: dict[str, int] = field(default_factory=dict)  # chart uuid -> local chartId

    def _node_id(self, prefix: str, key: str) -> str:
        return f"{prefix}-{re.sub(r'[^A-Za-z0-9_-]+', '_', key)}"

    def header(self, key: str, text: str) -> None:
        self.rows.append(
            [
                {
                    "type": "HEADER",
                    "id": self._node_id("HEADER", key),
                    "children": [],
                    "meta": {"text": text, "headerSize": "MEDIUM_HEADER", "background": "BACKGROUND_TRANSPARENT"},
                }
            ]
        )

    def row(self, items: list[dict]) -> None:
        """A row of chart/markdown nodes made by `chart()` and `markdown()`; widths must fit the grid."""
        assert sum(i["meta"]["width"] for i in items) <= GRID_WIDTH, "row wider than the grid"
        self.rows.append(items)

    def chart(self, key: str, uuid: str, name: str, width: int, height: int = CHART_HEIGHT) -> dict:
        chart_id = self.chart_ids.setdefault(uuid, len(self.chart_ids) + 1)
        return {
            "type": "CHART",
            "id": self._node_id("CHART", key),
            "children": [],
            "meta": {"width": width, "height": height, "chartId": chart_id, "uuid": uuid, "sliceName": name},
        }

    def markdown(self, key: str, code: str, width: int, height: int) -> dict:
        return {
            "type": "MARKDOWN",
            "id": self._node_id("MARKDOWN", key),
            "children": [],
            "meta": {"width": width, "height": height, "code": code},
        }

    def position(self) -> dict:
        nodes: dict = {
            "DASHBOARD_VERSION_KEY": "v2",
            "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
            "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": []},
        }
        for index, items in enumerate(self.rows, start=1):
            if len(items) == 1 and items[0]["type"] == "HEADER":
                node = items[0]
                nodes["GRID_ID"]["children"].append(node["id"])
                nodes[node["id"]] = node
                continue
            row_id = f"ROW-{index}"
            nodes["GRID_ID"]["children"].append(row_id)
            nodes[row_id] = {
                "type": "ROW",
                "id": row_id,
                "children": [i["id"] for i in items],
                "meta": {"background": "BACKGROUND_TRANSPARENT"},
            }
            for item in items:
                nodes[item["id"]] = item
        return nodes


def split_widths(count: int, per_row: int) -> list[list[int]]:
    """Widths for `count` tiles, at most `per_row` to a row, each row filling the grid."""
    rows = []
    while count > 0:
        n = min(count, per_row)
        base, extra = divmod(GRID_WIDTH, n)
        rows.append([base + (1 if i >= n - extra else 0) for i in range(n)])
        count -= n
    return rows


def time_filter(product_id: str) -> dict:
    """A time-range filter with no default: charts keep their complete-period windows
    until a reader picks a range, and their SQL cut-off holds whatever is picked."""
    return {
        "id": f"NATIVE_FILTER-northstar-time-{product_id}",
        "type": "NATIVE_FILTER",
        "filterType": "filter_time",
        "name": "Time range",
        "targets": [{}],
        "controlValues": {"enableEmptyFilter": False},
        "cascadeParentIds": [],
        "description": "Periods shown; the unfinished current period is always left out.",
        "scope": {"rootPath": ["ROOT_ID"], "excluded": []},
        "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
    }


def dashboard_metadata(dashboard_id: str) -> dict:
    """A generated dashboard's `metadata`: no cross filters, one time-range filter (`time_filter`)."""
    return {
        "color_scheme": "supersetColors",
        "cross_filters_enabled": False,
        "expanded_slices": {},
        "label_colors": {},
        "refresh_frequency": 0,
        "shared_label_colors": [],
        "timed_refresh_immune_slices": [],
        "native_filter_configuration": [time_filter(dashboard_id)],
    }
