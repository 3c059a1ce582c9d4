"""`northstar candidates`: choosing a North Star on data built so that the answer is known.

Thirty teams over twenty weeks. Completed projects are the candidate built
to win: the number of teams completing one leads the paid seats by exactly
two weeks, and the teams that completed one are the teams still active at
the end. Clicks are inflated: two teams click thirty times a week, ten
others once. Visits are what everyone does every week. The current North
Star counts visits too. Checked on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
import sqlalchemy as sa
from helpers import run_cli
from shop import database

pytestmark = pytest.mark.sqlalchemy

URI_ENV = "NORTHSTAR_TEST_TEAMS_URI"
START = dt.date(2026, 1, 5)  # a Monday
WEEKS = 20
WITHIN = 4
#: Teams completing a project each week (t0 … t{n-1}); seats follow two weeks later.
PROJECTS = [6, 9, 7, 11, 8, 13, 10, 9, 12, 15, 11, 10, 14, 12, 9, 13, 11, 15, 12, 14]
SEATS = [6, 6, *PROJECTS[:-2]]
#: Projects started each week: a week ahead of those completed (the input that moves the winner).
STARTS = [*PROJECTS[1:], 12]
TEAMS = 30
HEAVY = ("t20", "t21")
END = START + dt.timedelta(weeks=WEEKS, days=2)

SPEC = f"""\
apiVersion: northstar/v1
kind: NorthStar
product:
  id: teamwork
  name: Teamwork
  category: productivity
  value_moment: A team completes a project together.
sources:
  work:
    database: warehouse
    table: work_events
    time_column: occurred_at
    unit: team_id
north_star:
  id: weekly_visits
  name: Weekly visits
  definition: Visits to the workspace in the week.
  source: work
  measure: {{aggregate: count}}
  filter: "event_type = 'visit'"
  grain: week
  owner: leadership
  leads_revenue_because: Teams that come back buy seats.
inputs:
  - id: clicking_teams
    name: Clicking teams
    source: work
    measure: {{aggregate: count_distinct, column: team_id}}
    filter: "event_type = 'click'"
    lever: breadth
    direction: increase
    owner: growth
  - id: weekly_logins
    name: Logins
    source: work
    measure: {{aggregate: count}}
    filter: "event_type = 'login'"
    lever: frequency
    direction: increase
    owner: growth
  - id: projects_started
    name: Projects started
    source: work
    measure: {{aggregate: count}}
    filter: "event_type = 'start'"
    lever: activation
    direction: increase
    owner: growth
counter_metrics:
  - id: weekly_complaints
    name: Complaints
    guards: weekly_visits
    source: work
    measure: {{aggregate: count}}
    filter: "event_type = 'complaint'"
    threshold: {{max: 100}}
    owner: growth
outcome:
  id: seats_added
  name: Seats added
  source: work
  measure: {{aggregate: count}}
  filter: "event_type = 'seat'"
candidates:
  - id: teams_completing_projects
    name: Teams completing projects
    source: work
    measure: {{aggregate: count_distinct, column: team_id}}
    filter: "event_type = 'project'"
  - id: weekly_clicks
    name: Clicks
    source: work
    measure: {{aggregate: count}}
    filter: "event_type = 'click'"
  - id: weekly_visitors
    name: Visitors
    source: work
    sql: "COUNT(DISTINCT CASE WHEN event_type = 'visit' THEN team_id END)"
retained:
  source: work
  filter: "event_type = 'login'"
  within: {WITHIN}
review:
  inputs: {{cadence: weekly, day: wednesday, owner: growth}}
  north_star: {{cadence: monthly, last: 2026-05-01, owner: leadership}}
  revalidation: {{cadence: annually, last: 2026-03-01, owner: leadership}}
"""

PROJECT = f"""\
apiVersion: northstar/v1
kind: Project
specs: [specs]
teams:
  leadership: {{name: Leadership}}
  growth: {{name: Growth squad}}
databases:
  warehouse: {{uri_env: {URI_ENV}}}
"""


def rows() -> list[dict]:
    out = []

    def add(at: dt.datetime, kind: str, team: str) -> None:
        out.append({"occurred_at": at, "event_type": kind, "team_id": team})

    for week in range(WEEKS):
        monday = dt.datetime.combine(START + dt.timedelta(weeks=week), dt.time(9))
        for i in range(TEAMS):  # every team visits every week; one of them twice
            add(monday + dt.timedelta(minutes=i), "visit", f"t{i}")
        add(monday + dt.timedelta(hours=1), "visit", f"t{week % TEAMS}")
        for i in range(PROJECTS[week]):  # teams t0 … t14 complete projects
            add(monday + dt.timedelta(days=1, minutes=i), "project", f"t{i}")
        for i in range(STARTS[week]):
            add(monday + dt.timedelta(minutes=40 + i), "start", "t0")
        for i in range(SEATS[week]):
            add(monday + dt.timedelta(days=2, minutes=i), "seat", "t0")
        for team in HEAVY:
            for i in range(30 + week % 3):
                add(monday + dt.timedelta(days=3, minutes=i), "click", team)
        for i in range(10):
            add(monday + dt.timedelta(days=3, hours=2, minutes=i), "click", f"t{i}")
        if week >= WEEKS - WITHIN:  # the project teams are the ones still logging in at the end
            for i in range(15):
                add(monday + dt.timedelta(days=4, minutes=i), "login", f"t{i}")
    return out


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def teams(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("teams")
    uri = database(request.param, folder, "northstar_test_candidates")
    engine = sa.create_engine(uri)
    table = sa.Table(
        "work_events",
        sa.MetaData(),
        sa.Column("occurred_at", sa.DateTime()),
        sa.Column("event_type", sa.String(16)),
        sa.Column("team_id", sa.String(8)),
    )
    try:
        with engine.begin() as conn:
            table.drop(conn, checkfirst=True)
            table.create(conn)
            conn.execute(table.insert(), rows())
    finally:
        engine.dispose()
    (folder / "specs").mkdir()
    (folder / "northstar.yaml").write_text(PROJECT)
    (folder / "specs" / "teamwork.yaml").write_text(SPEC)
    return folder, {**os.environ, URI_ENV: uri}


def _run(teams, *args: str):
    folder, env = teams
    return run_cli("candidates", "--periods", str(WEEKS), "--end", END.isoformat(), *args, cwd=folder, env=env)


def test_the_candidate_built_to_lead_and_separate_wins(teams):
    done = _run(teams, "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    (found,) = json.loads(done.stdout)
    assert found["recommended"] == "teams_completing_projects"
    scored = {c["id"]: c for c in found["candidates"]}
    assert set(scored) == {"weekly_visits", "teams_completing_projects", "weekly_clicks", "weekly_visitors"}
    assert scored["weekly_visits"]["current"] is True
    winner = scored["teams_completing_projects"]["criteria"]
    assert winner["leads"]["score"] == pytest.approx(1.0) and winner["leads"]["text"].startswith("lag 2, r = 1.00")
    # t0 … t14 completed a project and log in at the end; t15 … t29 did neither.
    assert winner["separates"]["score"] == pytest.approx(1.0)
    assert winner["separates"]["text"].startswith("retained 100.0% of 15 units that did it against 0.0% of 15")
    assert winner["headroom"]["score"] == pytest.approx(1 - 14 / 30)  # 14 of 30 teams completed one last week
    assert winner["inflatability"]["flag"] is False
    assert winner["sensitivity"]["score"] == pytest.approx(1 / 3)
    assert winner["sensitivity"]["text"] == "1 of 3 inputs lead it (projects_started)"
    assert "repeating the action does not raise it" in winner["inflatability"]["text"]


def test_a_candidate_inflated_by_a_few_heavy_units_is_flagged(teams):
    done = _run(teams, "--format", "json")
    (found,) = json.loads(done.stdout)
    clicks = next(c for c in found["candidates"] if c["id"] == "weekly_clicks")
    assert clicks["inflatable"] is True
    total = sum(2 * (30 + w % 3) + 10 for w in range(WEEKS))
    heavy = sum(30 + w % 3 for w in range(WEEKS)) * 2
    # 12 teams click: the top 10 % is 2 teams, the two heavy ones.
    assert clicks["criteria"]["inflatability"]["score"] == pytest.approx(1 - heavy / total)
    assert "a few heavy units can inflate it" in clicks["criteria"]["inflatability"]["text"]
    assert found["candidates"][-1]["id"] == "weekly_clicks"  # ranked last, never recommended


def test_what_the_data_cannot_judge_is_said(teams):
    done = _run(teams, "--format", "json")
    (found,) = json.loads(done.stdout)
    visitors = next(c for c in found["candidates"] if c["id"] == "weekly_visitors")["criteria"]
    assert visitors["separates"] == {
        "score": None,
        "judged": False,
        "flag": False,
        "text": "a raw SQL aggregate names no action to follow per unit",
    }
    visits = next(c for c in found["candidates"] if c["id"] == "weekly_visits")["criteria"]
    assert visits["separates"]["text"] == "every active unit did it: nothing to compare"
    assert found["cannot_judge"][-1].startswith("customer value")


def test_candidates_text_and_markdown(teams):
    done = _run(teams)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (
        "Teamwork (teamwork): 4 candidates over 20 weeks, 2026-01-05 to 2026-05-24; outcome seats_added"
    )
    assert lines[2].startswith("teams_completing_projects ")
    verdict = next(line for line in lines if line.startswith("Recommended: "))
    assert verdict.startswith("Recommended: teams_completing_projects, because leads: lag 2, r = 1.00")
    assert any(line.startswith("  ! inflatable: weekly_clicks: the top 10.0% of units produce") for line in lines)
    markdown = _run(teams, "--format", "markdown")
    assert markdown.stdout.startswith("## Candidates: Teamwork (teamwork)")
    assert "### Data cannot judge" in markdown.stdout
