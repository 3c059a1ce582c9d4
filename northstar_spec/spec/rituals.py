"""When a review ritual is delivered, and to whom: the method's rituals as schedules.

Pure and BI-agnostic: a crontab and a timezone per ritual, and the teams a
ritual or a guardrail reaches. `superset_plugin.compiler.rituals` turns these
into Superset reports and alerts; lint rules NS504-NS506 check them.

Cadence to crontab (minute and hour from `time`, weekday D from `day`,
Monday by default; months counted from the month of `last`, January when
there is none):

    weekly        M H * * D            every D
    biweekly      M H * * D#1,D#3      the 1st and 3rd D of every month
    monthly       M H * * D#1          the 1st D of every month
    quarterly     M H * m,m+3,.. D#1   the 1st D of every third month
    semiannually  M H * m,m+6 D#1      the 1st D of every sixth month
    annually      M H * m D#1          the 1st D of one month a year

Cron cannot say "every other week": biweekly becomes the first and third D of
the month, which is 24 reviews a year instead of 26, and never two in a row.
`D#n` (the n-th weekday of the month) is the croniter extension Superset's
scheduler understands.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass

from northstar_spec.spec.model import Project, Ritual, RitualDefaults, Spec

WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
DEFAULT_DAY = "monday"
#: Months between two reviews, for the cadences that run on the first weekday of a month.
_EVERY_MONTHS = {"monthly": 1, "quarterly": 3, "semiannually": 6, "annually": 12}
#: Which ritual reviews what, in the words reports use.
RITUAL_TITLES = {"inputs": "input review", "north_star": "North Star review", "revalidation": "North Star revalidation"}


@dataclass(frozen=True)
class Schedule:
    crontab: str
    timezone: str
    #: What the crontab means, in words.
    meaning: str


def valid_timezone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def schedule(ritual: Ritual, defaults: RitualDefaults) -> Schedule:
    """The crontab and timezone of a ritual's report (see the module docstring for the mapping)."""
    hour, minute = (int(part) for part in (ritual.time or defaults.time).split(":"))
    day = ritual.day or DEFAULT_DAY
    weekday = WEEKDAYS.index(day)
    timezone = ritual.timezone or defaults.timezone
    at = f"{hour:02d}:{minute:02d} {timezone}"
    if ritual.cadence == "weekly":
        return Schedule(f"{minute} {hour} * * {weekday}", timezone, f"every {day.title()} at {at}")
    if ritual.cadence == "biweekly":
        return Schedule(
            f"{minute} {hour} * * {weekday}#1,{weekday}#3",
            timezone,
            f"the first and third {day.title()} of every month at {at}",
        )
    step = _EVERY_MONTHS[ritual.cadence]
    if step == 1:
        return Schedule(f"{minute} {hour} * * {weekday}#1", timezone, f"the first {day.title()} of every month at {at}")
    first = ritual.last.month if ritual.last else 1
    months = sorted((first - 1 + k) % 12 + 1 for k in range(0, 12, step))
    names = ", ".join(_MONTHS[m - 1] for m in months)
    return Schedule(
        f"{minute} {hour} * {','.join(map(str, months))} {weekday}#1",
        timezone,
        f"the first {day.title()} of {names} at {at}",
    )


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def ritual_teams(spec: Spec, name: str, ritual: Ritual) -> tuple[str, ...]:
    """The teams a ritual's report goes to, in order, without repeats.

    The ritual's owner always; the input review also every input's owner (the
    squads review their inputs); the North Star review and the revalidation
    also the North Star's owner.
    """
    teams = [ritual.owner]
    if name == "inputs":
        teams += [metric.owner for metric in spec.inputs]
    else:
        teams.append(spec.north_star.owner)
    return _unique(teams)


def guardrail_teams(spec: Spec, counter_id: str) -> tuple[str, ...]:
    """The teams a guardrail's alert goes to: its owner, and the owner of the metric it guards."""
    counter = next(c for c in spec.counter_metrics if c.id == counter_id)
    guarded = spec.metric(counter.guards) if counter.guards else None
    return _unique([counter.owner, guarded.owner if guarded else None])


def _unique(teams: list[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t for t in teams if t))


def reachable(project: Project, teams: tuple[str, ...]) -> bool:
    """Whether any of these teams has a channel Superset can deliver to (email, Slack, webhook)."""
    for team_id in teams:
        team = project.teams.get(team_id)
        if team and (team.emails or team.slack or team.webhook_env):
            return True
    return False


def delivers(project: Project) -> bool:
    """Whether the project has any channel at all: a project without one delivers nothing, and is not linted for it."""
    return reachable(project, tuple(project.teams))


def rituals(spec: Spec) -> Iterator[tuple[str, Ritual]]:
    """The spec's declared rituals."""
    for name, ritual in spec.review.rituals():
        if ritual is not None:
            yield name, ritual
