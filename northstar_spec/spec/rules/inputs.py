"""NS2xx: the input metrics, the levers squads move."""

from __future__ import annotations

from collections.abc import Iterator

from northstar_spec.spec.computation import computation
from northstar_spec.spec.diagnostics import Severity
from northstar_spec.spec.lint import Finding, LintContext
from northstar_spec.spec.rule import rule

E = Severity.ERROR
MIN_INPUTS, MAX_INPUTS = 3, 5


@rule("NS201", "input-count", E, "keep 3 to 5 inputs: enough to cover the levers, few enough to focus")
def input_count(ctx: LintContext) -> Iterator[Finding]:
    """The North Star has 3 to 5 input metrics.

    Why: inputs are what squads can move this week; the North Star is what
    they add up to. Fewer than 3 leaves levers unowned; more than 5 spreads
    attention until nothing is a priority.

    Bad:

        inputs:
          - id: new_team_activation

    Good:

        inputs:
          - id: new_team_activation
          - id: projects_per_active_team
          - id: invites_accepted
    """
    for spec in ctx.specs:
        count = len(spec.inputs)
        if not MIN_INPUTS <= count <= MAX_INPUTS:
            path = ("inputs",) if "inputs" in spec.document.data else ()
            yield Finding(
                spec.document, path, f"{count} input metric{'s' * (count != 1)}; the method asks for 3 to 5", key=True
            )


@rule(
    "NS202",
    "input-lever",
    E,
    "add `lever:` (breadth, depth, frequency, activation, retention, efficiency, acquisition, quality)",
)
def input_lever(ctx: LintContext) -> Iterator[Finding]:
    """Each input names the lever it pulls.

    Why: the inputs should cover different levers of growth (more users, more
    use per user, new users reaching value, users staying); naming the lever
    shows which ones the framework covers and which it leaves out.

    Bad:

        - id: new_team_activation
          owner: activation-squad

    Good:

        - id: new_team_activation
          owner: activation-squad
          lever: activation
    """
    for spec in ctx.specs:
        for metric in spec.inputs:
            if not metric.lever:
                yield Finding(spec.document, metric.path, f"input {metric.id!r} names no lever", key=True)


@rule("NS203", "input-direction", E, "add `direction: increase` or `direction: decrease`")
def input_direction(ctx: LintContext) -> Iterator[Finding]:
    """Each input says which way it should move to grow the North Star.

    Why: most inputs should go up, but some should go down (time to first
    value, failed payments); without a direction a dashboard cannot tell good
    news from bad, and a backtest cannot check the claim.

    Bad:

        - id: time_to_first_project
          lever: activation

    Good:

        - id: time_to_first_project
          lever: activation
          direction: decrease
    """
    for spec in ctx.specs:
        for metric in spec.inputs:
            if not metric.direction:
                yield Finding(spec.document, metric.path, f"input {metric.id!r} names no direction", key=True)


@rule(
    "NS204",
    "input-not-north-star",
    E,
    "an input is a lever that moves the North Star: measure what a squad changes, not the North Star again",
)
def input_not_north_star(ctx: LintContext) -> Iterator[Finding]:
    """An input does not compute what the North Star computes.

    Why: an input is a lever a squad moves so that the North Star grows; the
    North Star again, under another id (or at another grain), is no lever,
    and it makes the framework look broader than it is. Compared by what is
    computed: the same table, aggregate, filters and SQL, however they are
    spelled. (An input with the North Star's id is NS405.)

    Bad:

        north_star:
          id: weekly_active_teams
          measure: {aggregate: count_distinct, column: team_id}
          filter: "event_type = 'project_completed'"
        inputs:
          - id: teams_completing_projects
            measure: {aggregate: count_distinct, column: team_id}
            filter: "event_type='project_completed'"

    Good:

        inputs:
          - id: invites_accepted
            measure: {aggregate: count}
            filter: "event_type = 'invite_accepted'"
    """
    for spec in ctx.specs:
        north_star = computation(spec, spec.north_star)
        for metric in spec.inputs:
            if metric.id != spec.north_star.id and computation(spec, metric) == north_star:
                yield Finding(
                    spec.document,
                    metric.path + (metric.kind,),
                    f"input {metric.id!r} computes exactly what the North Star {spec.north_star.id!r} computes",
                    key=True,
                )


RULES = [input_count, input_lever, input_direction, input_not_north_star]
