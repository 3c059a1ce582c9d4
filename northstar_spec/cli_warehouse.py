"""The commands that read the warehouse: evaluate, guardrails, digest, backtest.

A thin click layer over northstar_spec.evaluate and its readers. They run on
valid specs only (like compile), connect to the databases northstar.yaml
declares (URIs from the environment) and exit 2, with a message that names
the spec file, the metric and the cause, when a database or a query fails.
The library modules are imported when a command runs, so `northstar
validate` never pays for SQLAlchemy.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, _Date, cli, project_option, validated

paths_argument = click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
end_option = click.option("--end", type=_Date(),
                          help="Evaluate as of this day (default: today); the period containing it is still "
                               "running and left out.")
progress_option = click.option("--progress/--no-progress", default=None,
                               help="One line per query with its time on stderr (default: when stderr is a "
                                    "terminal).")


def _progress(show):
    if show is None:
        show = sys.stderr.isatty()
    return (lambda run: click.echo(f"· {run}", err=True)) if show else None


def _fail(exc: Exception) -> None:
    click.echo(f"northstar: {exc}", err=True)
    sys.exit(EXIT_USAGE)


@cli.command("evaluate")
@paths_argument
@click.option("--periods", type=click.IntRange(1, 10_000), default=12, show_default=True,
              help="How many complete periods (of each metric's grain) to compute.")
@end_option
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True,
              help="table for people; json and csv have one row per spec, metric and period.")
@project_option
@progress_option
def evaluate_command(paths, periods, end, fmt, project_file, progress) -> None:
    """Compute every metric of every spec per period on the warehouse.

    One query per source and grain computes all of that source's metrics in
    one scan. Database URIs come from the environment variables northstar.yaml
    names. PATHS are spec files or folders (default: `specs:` of northstar.yaml).

    \b
    Examples:
      northstar evaluate
      northstar evaluate specs/teamspace.yaml --periods 26 --format csv
    """
    from .evaluate import evaluate
    from .evaluation_report import FORMATS
    from .warehouse import WarehouseError

    result = validated(paths, project_file)
    try:
        evaluation = evaluate(result.specs, result.project, periods=periods, end=end, progress=_progress(progress))
    except WarehouseError as exc:
        _fail(exc)
    click.echo(FORMATS[fmt](evaluation))


@cli.command("guardrails")
@paths_argument
@end_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@project_option
@progress_option
def guardrails_command(paths, end, fmt, project_file, progress) -> None:
    """Check every counter-metric against its threshold in the last complete period.

    Exit 1 when one crossed it, naming the metric, its value, the threshold
    and the owning team; exit 0 otherwise. Made for CI and cron.
    """
    from . import guardrails
    from .warehouse import WarehouseError

    result = validated(paths, project_file)
    try:
        found = guardrails.check(result.specs, result.project, end=end, progress=_progress(progress))
    except WarehouseError as exc:
        _fail(exc)
    click.echo(guardrails.FORMATS[fmt](found))
    sys.exit(EXIT_FINDINGS if any(g.breached for g in found) else EXIT_OK)


@cli.command("digest")
@paths_argument
@click.option("--today", type=_Date(), help="Write the digest as of this day (default: today).")
@project_option
@progress_option
def digest_command(paths, today, project_file, progress) -> None:
    """Write the weekly digest in markdown.

    For each spec: how the North Star moved in the last complete period and
    against its target, the inputs that moved most, the guardrails, and the
    reviews that are due or overdue.
    """
    from .digest import digest
    from .warehouse import WarehouseError

    result = validated(paths, project_file)
    try:
        text = digest(result.specs, result.project, today=today, progress=_progress(progress))
    except WarehouseError as exc:
        _fail(exc)
    click.echo(text, nl=False)


@cli.command("backtest")
@paths_argument
@click.option("--periods", type=click.IntRange(3, 10_000), default=52, show_default=True,
              help="How many complete periods of the North Star's grain to look back on.")
@end_option
@click.option("--max-lag", type=click.IntRange(0, 52), default=4, show_default=True,
              help="Correlate with lags of 0 to this many periods.")
@click.option("--min-correlation", type=click.FloatRange(-1, 1), default=0.5, show_default=True,
              help="A weaker best correlation with the outcome is a red flag.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text",
              show_default=True)
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw the North Star against its outcome and inputs (needs the [plot] extra).")
@project_option
@progress_option
def backtest_command(paths, periods, end, max_lag, min_correlation, fmt, png, project_file, progress) -> None:
    """Check the framework against history.

    Correlates each input's period-over-period changes with the North Star's
    (lags 0..--max-lag, inputs that should decrease inverted) and the North
    Star's with its declared outcome, and reports the red flags data can
    show: spikes followed by immediate drops, an input that moved while the
    North Star did not, a North Star that does not lead its outcome.
    Exit 1 when it finds a red flag.
    """
    from . import backtest
    from .warehouse import WarehouseError

    if png is not None:
        from . import chart

        try:
            chart.require()
        except chart.PlotUnavailable as exc:
            _fail(exc)
    result = validated(paths, project_file)
    thresholds = backtest.Thresholds(min_correlation=min_correlation)
    try:
        found = backtest.run(result.specs, result.project, periods=periods, end=end, max_lag=max_lag,
                             thresholds=thresholds, progress=_progress(progress))
    except WarehouseError as exc:
        _fail(exc)
    click.echo(backtest.FORMATS[fmt](found), nl=fmt != "markdown")
    if png is not None:
        try:
            chart.write_png(found, png)
        except OSError as exc:
            _fail(f"cannot write {png}: {exc.strerror or exc}")
        click.echo(f"wrote {png}", err=True)
    sys.exit(EXIT_FINDINGS if any(b.red_flags for b in found) else EXIT_OK)
