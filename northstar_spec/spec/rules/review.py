"""NS5xx: the review rituals that keep the framework alive."""

from __future__ import annotations

from collections.abc import Iterator

from northstar_spec.spec import rituals
from northstar_spec.spec.diagnostics import Severity
from northstar_spec.spec.lint import Finding, LintContext
from northstar_spec.spec.rule import rule

E, W = Severity.ERROR, Severity.WARNING
RITUAL_LABEL = {"inputs": "input", "north_star": "North Star", "revalidation": "revalidation"}
REVALIDATION_CADENCES = ("quarterly", "semiannually", "annually")
_WHAT = {
    "inputs": "input review (usually weekly, by the squads)",
    "north_star": "North Star review (weekly or monthly, by leadership)",
    "revalidation": "revalidation of the North Star (quarterly to annually)",
}


@rule("NS501", "review-cadence", E, "add the ritual under `review:` with its `cadence:`")
def review_cadence(ctx: LintContext) -> Iterator[Finding]:
    """The three review rituals are declared with their cadences.

    Why: a framework nobody reviews decays. Squads review their inputs,
    leadership reviews the North Star, and once in a while the North Star
    itself is revalidated: is it still the right one?

    Bad:

        review:
          inputs: {cadence: weekly}

    Good:

        review:
          inputs: {cadence: weekly, day: wednesday}
          north_star: {cadence: monthly, last: 2026-11-02}
          revalidation: {cadence: annually, last: 2026-03-01}
    """
    for spec in ctx.specs:
        for name, ritual in spec.review.rituals():
            if ritual is None:
                path = ("review",) if "review" in spec.document.data else ()
                yield Finding(spec.document, path, f"no {_WHAT[name]} is declared", key=True)


@rule("NS502", "review-overdue", W, "hold the review and update `last:`, or fix the date")
def review_overdue(ctx: LintContext) -> Iterator[Finding]:
    """No review is overdue.

    Why: a review date in the past is a framework drifting out of use. The
    next review is due one cadence after `last`. This rule depends on
    today's date, so it is a warning by default: a spec does not turn red by
    itself.

    Bad:

        review:
          north_star: {cadence: monthly, last: 2025-01-06}   # due 2025-02-06

    Good:

        review:
          north_star: {cadence: monthly, last: 2026-11-02}
    """
    for spec in ctx.specs:
        for name, ritual in spec.review.rituals():
            due = ritual.next_due if ritual else None
            if ritual is not None and due is not None and due < ctx.today:
                days = (ctx.today - due).days
                yield Finding(
                    spec.document,
                    ritual.path + ("last",),
                    f"the {RITUAL_LABEL[name]} review was due {due.isoformat()} ({days} day{'s' * (days != 1)} ago)",
                )


@rule("NS503", "revalidation-cadence", W, "revalidate quarterly, semiannually or annually")
def revalidation_cadence(ctx: LintContext) -> Iterator[Finding]:
    """The North Star is revalidated quarterly to annually.

    Why: a North Star needs time to prove itself; revalidating it every week
    or month invites churn, and never revalidating it keeps a stale one.

    Bad:

        revalidation: {cadence: monthly}

    Good:

        revalidation: {cadence: annually}
    """
    for spec in ctx.specs:
        ritual = spec.review.revalidation
        if ritual and ritual.cadence not in REVALIDATION_CADENCES:
            yield Finding(
                spec.document,
                ritual.path + ("cadence",),
                f"the North Star is revalidated {ritual.cadence}; the method asks for quarterly to annually",
            )


@rule("NS504", "ritual-timezone", E, "use an IANA timezone name such as Europe/Berlin, America/New_York or UTC")
def ritual_timezone(ctx: LintContext) -> Iterator[Finding]:
    """A ritual's timezone is a timezone Superset knows.

    Why: each ritual becomes a Superset report scheduled in its timezone;
    Superset refuses a report whose timezone it does not know, and a review
    sent at 09:00 in the wrong place arrives in the middle of the night.

    Bad:

        north_star: {cadence: monthly, time: "09:00", timezone: CET+1}

    Good:

        north_star: {cadence: monthly, time: "09:00", timezone: Europe/Berlin}
    """
    project = ctx.project
    default = project.rituals.timezone
    if project.document is not None and not rituals.valid_timezone(default):
        yield Finding(project.document, ("rituals", "timezone"), f"unknown timezone {default!r}")
    for spec in ctx.specs:
        for _, ritual in rituals.rituals(spec):
            if ritual.timezone and not rituals.valid_timezone(ritual.timezone):
                yield Finding(spec.document, ritual.path + ("timezone",), f"unknown timezone {ritual.timezone!r}")


@rule(
    "NS505",
    "ritual-unreachable",
    W,
    "give the owning team an email in `contacts`, a `slack` channel or a `webhook_env` in northstar.yaml",
)
def ritual_unreachable(ctx: LintContext) -> Iterator[Finding]:
    """A ritual's report reaches someone.

    Why: `northstar deploy` makes each review ritual a scheduled Superset
    report of the product's dashboard. It goes to the ritual's owner team; the
    input review also to every input's owner, the North Star review and the
    revalidation also to the North Star's owner. A report whose teams have no
    email address, Slack channel or webhook goes nowhere, and the ritual
    silently stops. A project none of whose teams has any channel delivers
    nothing (no reports, no alerts) and is not checked.

    Bad:

        teams:
          growth: {name: Growth squad}

    Good:

        teams:
          growth: {name: Growth squad, contacts: [growth@acme.example], slack: "#growth"}
    """
    if not rituals.delivers(ctx.project):
        return
    for spec in ctx.specs:
        for name, ritual in rituals.rituals(spec):
            teams = rituals.ritual_teams(spec, name, ritual)
            if teams and not rituals.reachable(ctx.project, teams):
                yield Finding(
                    spec.document,
                    ritual.path + (("owner",) if ritual.owner else ()),
                    f"the {RITUAL_LABEL[name]} review's report reaches nobody: team(s) {', '.join(teams)} have no "
                    "email, Slack channel or webhook",
                    key=not ritual.owner,
                )


@rule(
    "NS506",
    "guardrail-unreachable",
    W,
    "give the guardrail's team an email in `contacts`, a `slack` channel or a `webhook_env` in northstar.yaml",
)
def guardrail_unreachable(ctx: LintContext) -> Iterator[Finding]:
    """A crossed guardrail reaches its owners at once.

    Why: each counter-metric with a threshold becomes a Superset alert, sent
    to the guardrail's owner and to the owner of the metric it guards. When
    neither team has an email address, Slack channel or webhook, a crossed
    guardrail alerts nobody. Checked only in a project that has channels.

    Bad:

        counter_metrics:
          - id: refund_rate
            owner: payments          # northstar.yaml: payments has no contacts

    Good:

        teams:
          payments: {name: Payments squad, contacts: [payments@acme.example]}
    """
    if not ctx.project.rituals.alerts or not rituals.delivers(ctx.project):
        return
    for spec in ctx.specs:
        for counter in spec.counter_metrics:
            if counter.threshold is None:
                continue
            teams = rituals.guardrail_teams(spec, counter.id)
            if teams and not rituals.reachable(ctx.project, teams):
                yield Finding(
                    spec.document,
                    counter.path + (("owner",) if counter.owner else ()),
                    f"the alert of guardrail {counter.id!r} reaches nobody: team(s) {', '.join(teams)} have no "
                    "email, Slack channel or webhook",
                    key=not counter.owner,
                )


RULES = [
    review_cadence,
    review_overdue,
    revalidation_cadence,
    ritual_timezone,
    ritual_unreachable,
    guardrail_unreachable,
]
