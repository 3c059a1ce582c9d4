"""Spec text that tries to run script on a dashboard, opened in headless
Chromium, must not. (That every generated dashboard renders every chart is
test_demo's: it opens each dashboard of the demo.)"""

from __future__ import annotations

import json

import pytest
from browser import browser_page, login, screenshot, wait_for_dashboard
from helpers import ROOT, TODAY
from warehouses import sqlite_warehouse

from northstar_spec.spec.pipeline import check
from superset_plugin.compiler import naming
from superset_plugin.compiler.assets import compile_bundle
from superset_plugin.deploy.client import SupersetClient

pytestmark = pytest.mark.superset


#: Words of chart titles broken over two lines (a title may wrap between words, never inside one).
TITLE_BREAKS = r"""() => {
    // A word broken over two lines has boxes on two lines.
    const broken = [];
    for (const title of document.querySelectorAll('[data-test="editable-title"], .header-title')) {
        const walker = document.createTreeWalker(title, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const word of node.textContent.matchAll(/\S+/g)) {
                const range = document.createRange();
                range.setStart(node, word.index);
                range.setEnd(node, word.index + word[0].length);
                const tops = [...range.getClientRects()].map(r => r.top);
                if (tops.length && Math.max(...tops) - Math.min(...tops) > 4) broken.push(word[0]);
            }
        }
    }
    return broken;
}"""

#: The x-axis tick labels of every drawn chart, read from ECharts' own scene (the charts draw on a canvas):
#: each label's box with its rotation, and the pairs whose boxes intersect (separating axis theorem).
X_AXIS_LABELS = """
() => {
  // Every drawn ECharts chart's x-axis tick labels (zrender text, rotated or not), as the corners of their boxes.
  function corners(t) {
    const r = t.getBoundingRect(), m = t.getComputedTransform() || [1, 0, 0, 1, 0, 0];
    return [[r.x, r.y], [r.x + r.width, r.y], [r.x + r.width, r.y + r.height], [r.x, r.y + r.height]]
      .map(([x, y]) => [m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]]);
  }
  function apart(p, q) {  // separating axis theorem for two convex quadrilaterals
    for (const poly of [p, q]) {
      for (let i = 0; i < 4; i++) {
        const [x1, y1] = poly[i], [x2, y2] = poly[(i + 1) % 4], nx = y1 - y2, ny = x2 - x1;
        const span = s => s.map(([x, y]) => x * nx + y * ny);
        const a = span(p), b = span(q);
        if (Math.max(...a) <= Math.min(...b) + 0.5 || Math.max(...b) <= Math.min(...a) + 0.5) return true;
      }
    }
    return false;
  }
  const found = [];
  for (const el of document.querySelectorAll('[_echarts_instance_]')) {
    const key = Object.keys(el).find(k => k.startsWith('__reactFiber'));
    let chart = null;
    for (let f = key && el[key]; f && !chart; f = f.return) {
      for (let h = f.memoizedState; h && typeof h === 'object' && !chart; h = h.next) {
        const v = h.memoizedState;
        if (v && v.current && typeof v.current.getZr === 'function') chart = v.current;
      }
    }
    if (!chart) continue;
    const axis = chart.getModel().getComponent('xAxis');
    if (!axis || !axis.axis || axis.get('show') === false) continue;
    const wanted = new Set(axis.axis.getViewLabels().map(l => l.formattedLabel));
    const labels = chart.getZr().storage.getDisplayList(true)
      .filter(e => e.style && wanted.has(e.style.text));
    const boxes = labels.map(corners), overlapping = [];
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++)
        if (!apart(boxes[i], boxes[j])) overlapping.push([labels[i].style.text, labels[j].style.text]);
    found.push({labels: labels.length, overlapping});
  }
  // The check itself can fail: a label box against itself moved by 2 px overlaps.
  const probe = [[0, 0], [40, 0], [40, 10], [0, 10]];
  const moved = dx => probe.map(([x, y]) => [x + dx, y]);
  return {found, selfCheck: !apart(probe, moved(2)) && apart(probe, moved(41))};
}
"""


def _chart_count(dashboard: dict) -> int:
    return sum(1 for n in dashboard["position"].values() if isinstance(n, dict) and n.get("type") == "CHART")


def test_spec_text_does_not_run_in_the_browser(superset, tmp_path):
    specs = tmp_path / "specs"
    specs.mkdir()
    (tmp_path / "northstar.yaml").write_text((ROOT / "northstar.yaml").read_text())
    text = (ROOT / "specs" / "teamspace.yaml").read_text().replace("id: teamspace\n", "id: evil-space\n")
    for metric_id in (
        "weekly_active_teams",
        "new_team_activation",
        "invites_accepted",
        "projects_per_active_team",
        "collaborating_members",
        "weekly_churned_teams",
    ):
        text = text.replace(f"id: {metric_id}\n", f"id: evil_{metric_id}\n").replace(
            f"guards: {metric_id}\n", f"guards: evil_{metric_id}\n"
        )
    payload = "<script>window.__pwned='script'</script><img src=x onerror=\"window.__pwned='img'\">"
    quoted = json.dumps(payload)  # a JSON string is a YAML double-quoted scalar
    text = text.replace("value_moment: A team completes a project together.", f"value_moment: {quoted}")
    text = text.replace("name: Invites accepted", f"name: {quoted}")
    (specs / "evil.yaml").write_text(text)
    result = check([specs], project_file=tmp_path / "northstar.yaml", today=TODAY)
    assert not result.failed(), result.diagnostics
    bundle = compile_bundle(result.specs, result.project, {"NORTHSTAR_WAREHOUSE_URI": sqlite_warehouse(tmp_path)})
    SupersetClient(superset.url, username=superset.username, password=superset.password).import_assets(
        bundle.to_zip(), bundle.passwords
    )
    dialogs = []
    with browser_page() as page:
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        login(page, superset.url, superset.username, superset.password)
        dashboard = bundle.files["dashboards/evil-space.yaml"]
        wait_for_dashboard(page, superset.url, naming.dashboard_slug("evil-space"), _chart_count(dashboard))
        screenshot(page, "xss-attempt")
        assert page.evaluate("window.__pwned") is None
        assert dialogs == []
        assert page.locator("img[src='x']").count() == 0
        # The text is shown as text, tags and all.
        assert page.get_by_text("<script>window.__pwned='script'</script>", exact=False).count() >= 1


def test_the_hero_shows_the_exact_value_and_titles_stay_whole(superset, tmp_path):
    """The North Star tile shows the exact value the chart data API returns (1,272, not 1.27k), in the largest
    number on the dashboard; its trend draws the target over its span; no chart title breaks inside a word."""
    result = check([ROOT / "specs"], project_file=ROOT / "northstar.yaml", today=TODAY)
    assert not result.failed(), result.diagnostics
    bundle = compile_bundle(result.specs, result.project, {"NORTHSTAR_WAREHOUSE_URI": sqlite_warehouse(tmp_path)})
    client = SupersetClient(superset.url, username=superset.username, password=superset.password)
    client.import_assets(bundle.to_zip(), bundle.passwords)
    spec = next(s for s in result.specs if s.product.id == "teamspace")
    ns = spec.north_star
    chart = client.find_by_uuid("chart", naming.chart_uuid("teamspace", naming.metric_chart_key(ns)))
    rows = client.chart_data(chart["id"])["result"][0]["data"]
    time_column = next(c for c in rows[0] if c != ns.id)
    last = max(rows, key=lambda r: r[time_column])[ns.id]
    with browser_page() as page:
        login(page, superset.url, superset.username, superset.password)
        dashboard = bundle.files["dashboards/teamspace.yaml"]
        wait_for_dashboard(page, superset.url, naming.dashboard_slug("teamspace"), _chart_count(dashboard))
        screenshot(page, "dashboard-teamspace-scorecards")
        holders = page.locator('[data-test="dashboard-component-chart-holder"]')
        hero = holders.filter(has_text=naming.chart_title(ns)).locator(".header-line")
        assert hero.inner_text().strip() == f"{last:,.0f}"
        # Progress to target beside it: the same last value over the target, computed here.
        progress = holders.filter(has_text="Progress to target").locator(".header-line")
        assert progress.inner_text().strip() == f"{last / ns.target.value:.1%}"
        sizes = [
            float(holders.nth(i).locator(".header-line").evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
            for i in range(holders.count())
            if holders.nth(i).locator(".header-line").count()
        ]
        hero_size = float(hero.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
        assert hero_size == max(sizes) and sizes.count(hero_size) == 1, sizes
        for slug in sorted(s.product.id for s in result.specs):
            board = bundle.files[f"dashboards/{slug}.yaml"]
            wait_for_dashboard(page, superset.url, naming.dashboard_slug(slug), _chart_count(board))
            ticks = page.evaluate(X_AXIS_LABELS)
            assert ticks["selfCheck"]
            trends = [chart for chart in ticks["found"] if chart["labels"]]
            assert len(trends) >= 2, (slug, ticks)  # the North Star's trend and a guardrail's at least
            assert [chart["overlapping"] for chart in trends] == [[] for _ in trends], slug
            assert page.evaluate(TITLE_BREAKS) == [], slug


STATUS_RGB = {"breached": "rgb(194, 50, 63)", "close": "rgb(168, 99, 0)", "within": "rgb(30, 127, 85)"}


def test_guardrail_values_are_coloured_by_status_on_crafted_thresholds(superset, tmp_path):
    """A guardrail's current value is red when breached, amber when close (within 10% of its bound), green
    within: thresholds are crafted around the real last value, read first from the chart data API."""
    warehouse = {"NORTHSTAR_WAREHOUSE_URI": sqlite_warehouse(tmp_path)}
    client = SupersetClient(superset.url, username=superset.username, password=superset.password)
    result = check([ROOT / "specs" / "teamspace.yaml"], project_file=ROOT / "northstar.yaml", today=TODAY)
    bundle = compile_bundle(result.specs, result.project, warehouse)
    client.import_assets(bundle.to_zip(), bundle.passwords)
    now = client.find_by_uuid("chart", naming.chart_uuid("teamspace", "counter_weekly_churned_teams_now"))
    value = client.chart_data(now["id"])["result"][0]["data"][0]["weekly_churned_teams"]
    assert value > 0
    text = (ROOT / "specs" / "teamspace.yaml").read_text().replace("id: teamspace\n", "id: chips\n")
    guard = text[text.index("  - id: weekly_churned_teams\n") : text.index("outcome:\n")]
    crafted = "".join(
        guard.replace("id: weekly_churned_teams\n", f"id: churn_{state}\n")
        .replace("name: Weekly churned teams\n", f"name: Churn {state}\n")
        .replace("threshold: {max: 40}", f"threshold: {{max: {value * factor}}}")
        for state, factor in (("breached", 0.5), ("close", 1.05), ("within", 3))
    )
    folder = tmp_path / "chips"
    folder.mkdir()
    (folder / "chips.yaml").write_text(text.replace(guard, crafted))
    result = check([folder], project_file=ROOT / "northstar.yaml", today=TODAY)
    assert not result.failed(), result.diagnostics
    bundle = compile_bundle(result.specs, result.project, warehouse)
    client.import_assets(bundle.to_zip(), bundle.passwords)
    with browser_page() as page:
        login(page, superset.url, superset.username, superset.password)
        dashboard = bundle.files["dashboards/chips.yaml"]
        wait_for_dashboard(page, superset.url, naming.dashboard_slug("chips"), _chart_count(dashboard))
        screenshot(page, "dashboard-guardrail-status")
        holders = page.locator('[data-test="dashboard-component-chart-holder"]')
        for state, rgb in STATUS_RGB.items():
            number = holders.filter(has_text=f"Churn {state} now").locator(".header-line")
            assert number.evaluate("e => getComputedStyle(e).color") == rgb, state
