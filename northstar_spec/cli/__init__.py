"""The `northstar` command: a thin click layer over the library.

Commands are registered here, explicitly, one module per group: spec
(validate, tree, rules, init), review (diff, codeowners), warehouse
(evaluate, guardrails, digest, backtest, explain, candidates,
demo-data) and completion. Other
packages plug in theirs under the `northstar.commands` entry point
(superset_plugin: compile, deploy, drift).

Starting is cheap: `--version`, `--help` and shell completion of a command
name import no command module (benchmarks/startup.py measures it). The
listing of `--help` reads each command's one-line help from the tables
below, and a test holds them equal to the commands' own.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys

import click

from northstar_spec import __version__

#: Every command, by name: where it lives and its one-line help. Loaded when
#: called, so that `northstar validate` never imports the warehouse or the
#: Superset compiler, and `northstar --help` imports no command at all.
COMMANDS = {
    "validate": (
        "northstar_spec.cli.spec:validate",
        "Check specs against the schema and the method's rules, and compile them.",
    ),
    "tree": (
        "northstar_spec.cli.spec:tree_command",
        "Show the metric tree of each spec: North Star, inputs, guardrails and owners.",
    ),
    "rules": (
        "northstar_spec.cli.spec:rules_command",
        "List every rule with its code, default severity and purpose.",
    ),
    "init": (
        "northstar_spec.cli.spec:init_command",
        "Scaffold a spec repository in DIRECTORY.",
    ),
    "diff": (
        "northstar_spec.cli.review:diff_command",
        "Show what a change does to the North Star frameworks, product by product.",
    ),
    "codeowners": (
        "northstar_spec.cli.review:codeowners_command",
        "Make the team that owns a metric review changes to its spec.",
    ),
    "evaluate": (
        "northstar_spec.cli.warehouse:evaluate_command",
        "Compute every metric of every spec per period on the warehouse.",
    ),
    "guardrails": (
        "northstar_spec.cli.warehouse:guardrails_command",
        "Check every counter-metric against its threshold in the last complete period.",
    ),
    "digest": (
        "northstar_spec.cli.warehouse:digest_command",
        "Write the weekly digest: markdown, plain text or JSON.",
    ),
    "backtest": (
        "northstar_spec.cli.warehouse:backtest_command",
        "Check the framework against history.",
    ),
    "explain": (
        "northstar_spec.cli.warehouse:explain_command",
        "Say what drove the North Star's change: segments, inputs, and whether it is noise.",
    ),
    "candidates": (
        "northstar_spec.cli.warehouse:candidates_command",
        "Score the candidate North Stars on the data and recommend one.",
    ),
    "demo-data": (
        "northstar_spec.cli.warehouse:demo_data_command",
        "Generate the demo warehouse for the example specs.",
    ),
    "completion": (
        "northstar_spec.cli.completion:completion_command",
        "Print the shell completion script for SHELL.",
    ),
}
#: Plugged-in commands: each entry point of this group is a table like COMMANDS.
PLUGINS = "northstar.commands"
EXIT_USAGE = 2


@functools.cache
def plugged_commands() -> dict[str, tuple[str, str]]:
    """name -> (where, one-line help) of every command other packages plug in (read once per run)."""
    from importlib.metadata import entry_points

    found: dict[str, tuple[str, str]] = {}
    for entry in sorted(entry_points(group=PLUGINS), key=lambda e: e.name):
        found.update(entry.load())
    return found


class _Commands(click.Group):
    """COMMANDS, plus those other packages (the Superset target) register
    under the `northstar.commands` entry point, each imported when called."""

    def _places(self) -> dict[str, tuple[str, str]]:
        return {**plugged_commands(), **COMMANDS}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self._places())

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        place = self._places().get(name)
        if place is None:
            return None
        module, _, attribute = place[0].partition(":")
        return getattr(importlib.import_module(module), attribute)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list:
        """Command names with their help from the tables (no command imported), then the options."""
        from click.shell_completion import CompletionItem

        names = [
            CompletionItem(name, help=short)
            for name, (_, short) in sorted(self._places().items())
            if name.startswith(incomplete)
        ]
        return names + click.Command.shell_complete(self, ctx, incomplete)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The listing from the tables, so that `--help` imports no command."""
        rows = sorted((name, short) for name, (_, short) in self._places().items())
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="northstar")
@click.option(
    "--color/--no-color",
    "colour",
    default=None,
    help="Colour the output (default: on a terminal, unless NO_COLOR is set).",
)
@click.pass_context
def cli(ctx: click.Context, colour: bool | None) -> None:
    """North Star Metric frameworks as code.

    Specs are YAML files, one per product, declaring the North Star, its 3-5
    input metrics, counter-metrics, owners and review rituals. northstar.yaml
    at the root of the spec repository declares the teams and databases.

    Exit codes: 0 clean, 1 findings, 2 usage or configuration error.
    """
    from northstar_spec.cli.terminal import colour_setting

    ctx.color = colour_setting(colour)


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
