"""NS5xx: the review rituals that keep the framework alive."""

from __future__ import annotations

from collections.abc import Iterator

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


RULES = [review_cadence, review_overdue, revalidation_cadence]
