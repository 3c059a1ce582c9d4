"""The `northstar` command: a thin click layer over the library.

Commands are registered here, explicitly, one module per group: spec
(validate, tree, rules, init), review (diff, codeowners) and warehouse
(evaluate, guardrails, digest, backtest, demo-data). Other packages plug in
theirs under the `northstar.commands` entry point (superset_plugin: compile,
deploy, drift).
"""

from __future__ import annotations

import importlib
import os
import sys
from importlib.metadata import entry_points

import click

from northstar_spec import __version__
from northstar_spec.cli.common import EXIT_USAGE

#: Every command, by name: where it lives. Loaded when called, so that
#: `northstar validate` never imports the warehouse or the Superset compiler.
COMMANDS = {
    "validate": "northstar_spec.cli.spec:validate",
    "tree": "northstar_spec.cli.spec:tree_command",
    "rules": "northstar_spec.cli.spec:rules_command",
    "init": "northstar_spec.cli.spec:init_command",
    "diff": "northstar_spec.cli.review:diff_command",
    "codeowners": "northstar_spec.cli.review:codeowners_command",
    "evaluate": "northstar_spec.cli.warehouse:evaluate_command",
    "guardrails": "northstar_spec.cli.warehouse:guardrails_command",
    "digest": "northstar_spec.cli.warehouse:digest_command",
    "backtest": "northstar_spec.cli.warehouse:backtest_command",
    "demo-data": "northstar_spec.cli.warehouse:demo_data_command",
}


class _Commands(click.Group):
    """COMMANDS, plus those other packages (the Superset target) register
    under the `northstar.commands` entry point, each imported when called."""

    def _places(self) -> dict[str, str]:
        plugged = {e.name: e.value for e in entry_points(group="northstar.commands")}
        return {**plugged, **COMMANDS}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self._places())

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        place = self._places().get(name)
        if place is None:
            return None
        module, _, attribute = place.partition(":")
        return getattr(importlib.import_module(module), attribute)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="northstar")
def cli() -> None:
    """North Star Metric frameworks as code.

    Specs are YAML files, one per product, declaring the North Star, its 3-5
    input metrics, counter-metrics, owners and review rituals. northstar.yaml
    at the root of the spec repository declares the teams and databases.

    Exit codes: 0 clean, 1 findings, 2 usage or configuration error.
    """


def main() -> None:
    """Entry point: click's own errors exit 2; anything unforeseen is reported, not dumped."""
    try:
        cli.main(standalone_mode=True)
    except SystemExit:
        raise
    except Exception as exc:  # pragma: no cover - the hypothesis test hunts for these
        if os.environ.get("NORTHSTAR_DEBUG"):
            raise
        click.echo(
            f"northstar: internal error: {type(exc).__name__}: {exc}\n"
            "Please report this; set NORTHSTAR_DEBUG=1 for details.",
            err=True,
        )
        sys.exit(EXIT_USAGE)
