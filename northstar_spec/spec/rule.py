"""What a rule is: a stable code, a readable name, a default severity, a hint,
documentation, and (for lint rules) a check over the whole set of specs.

It imports nothing but the diagnostics, so that the stages that report file
rules (loading, schema) do not depend on the model or the lint stage."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from northstar_spec.spec.diagnostics import Diagnostic, Location, Severity


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    default: Severity
    hint: str
    doc: str
    #: A lint rule's check: LintContext -> Findings (northstar_spec.spec.lint); None for stage rules.
    check: Callable[[Any], Iterable[Any]] | None = field(default=None, compare=False)

    @property
    def summary(self) -> str:
        """The first paragraph of the documentation, on one line."""
        return " ".join(self.doc.strip().split("\n\n")[0].split())

    def diagnostic(
        self,
        location: Location,
        message: str,
        *,
        hint: str | None = None,
        json_path: str = "",
        related: tuple[Location, ...] = (),
    ) -> Diagnostic:
        return Diagnostic(
            code=self.code,
            name=self.name,
            severity=self.default,
            message=message,
            location=location,
            hint=self.hint if hint is None else hint,
            json_path=json_path,
            related=related,
        )


def declare(code: str, name: str, default: Severity, hint: str, doc: str) -> Rule:
    """A rule whose findings come from a pipeline stage (loading, schema), not a check."""
    return Rule(code, name, default, hint, inspect.cleandoc(doc))


def rule(code: str, name: str, default: Severity, hint: str) -> Callable[[Callable], Rule]:
    """Turn a check function into a Rule; its docstring is the rule's documentation."""

    def wrap(check: Callable) -> Rule:
        return Rule(code, name, default, hint, inspect.cleandoc(check.__doc__ or ""), check)

    return wrap


def did_you_mean(value: str, choices: list[str], otherwise: str = "") -> str:
    """The hint for a name that resolves to nothing: the closest name, or the list."""
    guess = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    if guess:
        return f"did you mean {guess[0]!r}?"
    if otherwise:
        return otherwise
    return "choose one of: " + ", ".join(sorted(choices)) if choices else "none is declared"
