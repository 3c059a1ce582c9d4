"""NS6xx: the history of earlier North Stars."""

from __future__ import annotations

from collections.abc import Iterator

from northstar_spec.spec.diagnostics import Severity
from northstar_spec.spec.lint import Finding, LintContext
from northstar_spec.spec.model import change_recorded, north_star_changes
from northstar_spec.spec.rule import rule

E, W = Severity.ERROR, Severity.WARNING


@rule(
    "NS601",
    "north-star-change-recorded",
    E,
    "add a `history:` entry for the previous North Star with `until:` and `reason:`",
)
def north_star_change_recorded(ctx: LintContext) -> Iterator[Finding]:
    """A changed North Star has a history entry.

    Why: the North Star evolves, but every change breaks the trend everybody
    watches. The spec keeps the earlier North Star with the date and reason
    of the change, so the dashboard can show it and nobody compares apples
    with oranges. Checked when validating against a base revision
    (`northstar validate --base REF`): a new id, or a new computation
    (source, measure, filter, ratio, sql, grain) for the same id, needs a new
    history entry naming the previous id.

    Bad:

        # was weekly_active_users at the base revision
        north_star:
          id: weekly_active_teams

    Good:

        north_star:
          id: weekly_active_teams
        history:
          - north_star: weekly_active_users
            until: 2025-12-31
            reason: Logins counted accounts, not value delivered.
    """
    if ctx.previous is None:
        return
    for spec in ctx.specs:
        before = ctx.previous.get(spec.product.id)
        if before is None or not north_star_changes(before, spec) or change_recorded(before, spec):
            continue
        old, new = before.north_star, spec.north_star
        change = f"changed from {old.id!r}" if old.id != new.id else "changed its computation"
        yield Finding(spec.document, ("north_star",), f"the North Star {change} without a new history entry", key=True)


@rule("NS602", "history-ordered", W, "list history entries oldest first")
def history_ordered(ctx: LintContext) -> Iterator[Finding]:
    """History entries are in chronological order, oldest first.

    Why: the history is read as a timeline, on the dashboard and in review.

    Bad:

        history:
          - {north_star: weekly_active_users, until: 2025-12-31, reason: …}
          - {north_star: daily_logins, until: 2024-06-30, reason: …}

    Good:

        history:
          - {north_star: daily_logins, until: 2024-06-30, reason: …}
          - {north_star: weekly_active_users, until: 2025-12-31, reason: …}
    """
    for spec in ctx.specs:
        for earlier, later in zip(spec.history, spec.history[1:]):
            if later.until < earlier.until:
                yield Finding(
                    spec.document,
                    later.path + ("until",),
                    f"history entry {later.north_star!r} ({later.until}) comes after one that ended later "
                    f"({earlier.until})",
                )


@rule(
    "NS603",
    "history-not-current",
    E,
    "remove the entry, or, if the North Star kept its id but changed what it computes, write what it "
    "computed before in the entry's `definition:`",
)
def history_not_current(ctx: LintContext) -> Iterator[Finding]:
    """The history does not retire the current North Star.

    Why: the history lists earlier North Stars; an entry that names the
    current one says it was retired, while every dashboard still leads with
    it. A North Star that keeps its id but changes its computation (NS601)
    does get an entry with that id: it records, in `definition:`, what the
    earlier version computed, which must differ from today's definition.

    Bad:

        north_star:
          id: weekly_active_teams
          definition: Teams that completed at least one project in the week.
        history:
          - north_star: weekly_active_teams
            until: 2025-12-31
            reason: Retired.

    Good:

        north_star:
          id: weekly_active_teams
          definition: Teams of two or more that completed a project in the week.
        history:
          - north_star: weekly_active_teams
            definition: Teams that completed at least one project in the week.
            until: 2025-12-31
            reason: A team of one completing a project is a person, not a team.
    """
    for spec in ctx.specs:
        current = spec.north_star
        for entry in spec.history:
            if entry.north_star != current.id:
                continue
            if entry.definition is None:
                yield Finding(
                    spec.document,
                    entry.path + ("north_star",),
                    f"history entry retires {current.id!r}, which is still the North Star, and does not say "
                    "what it computed before (`definition:`)",
                )
            elif _words(entry.definition) == _words(current.definition):
                yield Finding(
                    spec.document,
                    entry.path + ("definition",),
                    f"history entry retires {current.id!r} with the definition it still has: it is the current "
                    "North Star, not an earlier one",
                )


def _words(text: str | None) -> str:
    return " ".join((text or "").lower().split())


RULES = [north_star_change_recorded, history_ordered, history_not_current]
