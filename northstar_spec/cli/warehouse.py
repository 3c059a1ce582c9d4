"""The commands that read the warehouse: evaluate, guardrails, digest,
backtest, explain, candidates, and demo-data, which writes one.

A thin click layer over northstar_spec.warehouse. They run on valid specs
only (like compile), connect to the databases northstar.yaml declares (URIs
from the environment) and exit 2, with a message that names the spec file,
the metric and the cause, when a database or a query fails.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

import click
import sqlalchemy as sa

from northstar_spec import demo_data
from northstar_spec.cli import terminal
from northstar_spec.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    Date,
    fail,
    paths_argument,
    project_option,
    validated,
)
from northstar_spec.spec.bidi import escape_bidi
from northstar_spec.warehouse import (
    backtest,
    candidates,
    chart,
    digest,
    digest_delivery,
    digest_formats,
    explain,
    guardrails,
    report,
)
from northstar_spec.warehouse.engines import WarehouseError
from northstar_spec.warehouse.evaluate import evaluate

end_option = click.option(
    "--end",
    type=Date(),
    help="Evaluate as of this day (default: today); the period containing it is still running and left out.",
)
progress_option = click.option(
    "--progress/--no-progress",
    default=None,
    help="Each query with its time on stderr, live on a terminal (default: when stderr is a terminal).",
)


def _progress(show, what: str = "querying the warehouse"):
    return terminal.steps(what, show)


@click.command("evaluate")
@paths_argument
@click.option(
    "--periods",
    type=click.IntRange(1, 10_000),
    default=12,
    show_default=True,
    help="How many complete periods (of each metric's grain) to compute.",
)
@end_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="table for people; json and csv have one row per spec, metric and period.",
)
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

    result = validated(paths, project_file)
    try:
        evaluation = evaluate(result.specs, result.project, periods=periods, end=end, progress=_progress(progress))
    except WarehouseError as exc:
        fail(exc)
    terminal.finish()
    click.echo(escape_bidi(report.FORMATS[fmt](evaluation)))


@click.command("guardrails")
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

    result = validated(paths, project_file)
    try:
        found = guardrails.check(result.specs, result.project, end=end, progress=_progress(progress))
    except WarehouseError as exc:
        fail(exc)
    terminal.finish()
    click.echo(escape_bidi(guardrails.FORMATS[fmt](found)))
    sys.exit(EXIT_FINDINGS if any(g.breached for g in found) else EXIT_OK)


@click.command("digest")
@paths_argument
@click.option("--today", type=Date(), help="Write the digest as of this day (default: today).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(digest_formats.FORMATS),
    default="markdown",
    show_default=True,
    help="markdown for a chat or a wiki, text for a terminal or an e-mail, json for tools.",
)
@click.option(
    "--post",
    "post_url",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[URL]",
    help="Also post the digest to a Slack-compatible webhook: this URL, or without one the URL in "
    f"{digest_delivery.WEBHOOK_ENV} (better: it keeps the token out of shell history and CI logs).",
)
@click.option(
    "--email",
    "email_to",
    multiple=True,
    metavar="ADDRESS",
    help="Also mail the digest (plain text) to this address (repeatable), through the SMTP server of "
    "NORTHSTAR_SMTP_HOST, _PORT, _USER, _PASSWORD, _FROM, _STARTTLS, _SSL.",
)
@project_option
@progress_option
def digest_command(paths, today, fmt, post_url, email_to, project_file, progress) -> None:
    """Write the weekly digest: markdown, plain text or JSON.

    For each spec: how the North Star moved in the last complete period and
    against its target, what drove the change (whether it is noise, the
    segments and the input behind it, as `northstar explain` says), the
    inputs that moved most, the guardrails, and the reviews that are due or
    overdue. With --post and --email it is also delivered, so a cron job or
    CI schedule can send the Friday digest.
    """
    if post_url == "":
        post_url = os.environ.get(digest_delivery.WEBHOOK_ENV)
        if not post_url:
            raise click.UsageError(f"--post without a URL reads {digest_delivery.WEBHOOK_ENV}, which is not set")
    if (post_url or email_to) and fmt == "json":
        raise click.UsageError("--post and --email deliver the digest as text: use --format markdown or text")

    result = validated(paths, project_file)
    try:
        if fmt == "json":
            day = today or dt.date.today()
            evaluation = evaluate(result.specs, result.project, periods=2, end=day, progress=_progress(progress))
            explained = explain.run(result.specs, result.project, end=day, progress=_progress(progress))
            text = json.dumps(digest_formats.as_json(result.specs, evaluation, day, explained), indent=2) + "\n"
        else:
            markdown = digest.digest(result.specs, result.project, today=today, progress=_progress(progress))
            text = digest_formats.as_text(markdown) if fmt == "text" else markdown
    except WarehouseError as exc:
        fail(exc)
    terminal.finish()
    click.echo(escape_bidi(text), nl=False)
    if post_url or email_to:
        _deliver(escape_bidi(digest_formats.as_text(markdown)), post_url, email_to)


def _deliver(plain: str, post_url: str | None, email_to: tuple[str, ...]) -> None:
    """Post and mail the digest (plain text); a failure names what to check (never the URL or a password), exit 2."""
    try:
        if post_url:
            click.echo(f"posted the digest to the webhook at {digest_delivery.post(post_url, plain)}", err=True)
        if email_to:
            subject = "North Star digest: " + plain.splitlines()[0].strip() if plain.strip() else "North Star digest"
            where = digest_delivery.send_email(email_to, subject[:200], plain, os.environ)
            click.echo(f"mailed the digest to {', '.join(email_to)} through {where}", err=True)
    except digest_delivery.DeliveryError as exc:
        click.echo(f"northstar: {exc}", err=True)
        sys.exit(EXIT_USAGE)


@click.command("backtest")
@paths_argument
@click.option(
    "--periods",
    type=click.IntRange(3, 10_000),
    default=52,
    show_default=True,
    help="How many complete periods of the North Star's grain to look back on.",
)
@end_option
@click.option(
    "--max-lag",
    type=click.IntRange(0, 52),
    default=4,
    show_default=True,
    help="Correlate with lags of 0 to this many periods.",
)
@click.option(
    "--min-correlation",
    type=click.FloatRange(-1, 1),
    default=0.5,
    show_default=True,
    help="A weaker best correlation with the outcome is a red flag.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
@click.option(
    "--png",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also draw the North Star against its outcome and inputs (needs the [plot] extra).",
)
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

    if png is not None:
        try:
            chart.require()
        except chart.PlotUnavailable as exc:
            fail(exc)
    result = validated(paths, project_file)
    thresholds = backtest.Thresholds(min_correlation=min_correlation)
    try:
        found = backtest.run(
            result.specs,
            result.project,
            periods=periods,
            end=end,
            max_lag=max_lag,
            thresholds=thresholds,
            progress=_progress(progress),
        )
    except WarehouseError as exc:
        fail(exc)
    terminal.finish()
    click.echo(escape_bidi(backtest.FORMATS[fmt](found)), nl=fmt != "markdown")
    if png is not None:
        try:
            chart.write_png(found, png)
        except OSError as exc:
            fail(f"cannot write {png}: {exc.strerror or exc}")
        click.echo(f"wrote {png}", err=True)
    sys.exit(EXIT_FINDINGS if any(b.red_flags for b in found) else EXIT_OK)


@click.command("explain")
@paths_argument
@click.option(
    "--period",
    type=Date(),
    help="Explain the period containing this day (default: the last complete one before --end).",
)
@end_option
@click.option(
    "--history",
    type=click.IntRange(3, 10_000),
    default=explain.DEFAULT_HISTORY,
    show_default=True,
    help="Periods of history behind it: the baseline of the move and the inputs' backtested leads.",
)
@click.option(
    "--max-lag",
    type=click.IntRange(0, 52),
    default=explain.DEFAULT_MAX_LAG,
    show_default=True,
    help="Inputs may lead the North Star by 0 to this many periods.",
)
@click.option(
    "--top",
    type=click.IntRange(1, 100),
    default=explain.DEFAULT_TOP,
    show_default=True,
    help="Segments shown per dimension.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
@project_option
@progress_option
def explain_command(paths, period, end, history, max_lag, top, fmt, project_file, progress) -> None:
    """Say what drove the North Star's change: segments, inputs, and whether it is noise.

    Compares the North Star in a period with the one before: whether the move
    is normal variation or significant against its own history; each declared
    dimension's segments and their contribution to the change (mix and rate
    effects for a ratio); and the inputs whose backtested lead explains it.
    """

    result = validated(paths, project_file)
    try:
        found = explain.run(
            result.specs,
            result.project,
            period=period,
            end=end,
            history=history,
            max_lag=max_lag,
            progress=_progress(progress),
        )
    except WarehouseError as exc:
        fail(exc)
    terminal.finish()
    click.echo(escape_bidi(explain.FORMATS[fmt](found, top)), nl=fmt != "markdown")


@click.command("candidates")
@paths_argument
@click.option(
    "--periods",
    type=click.IntRange(3, 10_000),
    default=candidates.DEFAULT_PERIODS,
    show_default=True,
    help="How many complete periods of the North Star's grain to score on.",
)
@end_option
@click.option(
    "--max-lag",
    type=click.IntRange(0, 52),
    default=candidates.DEFAULT_MAX_LAG,
    show_default=True,
    help="A candidate may lead the outcome (and inputs lead it) by up to this many periods.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
@project_option
@progress_option
def candidates_command(paths, periods, end, max_lag, fmt, project_file, progress) -> None:
    """Score the candidate North Stars on the data and recommend one.

    Each metric under `candidates:`, and the current North Star, gets one
    column per criterion of the method: leads the outcome, separates retained
    from churned units, headroom, sensitivity to the inputs, inflatability and
    stability. The recommendation gives its reasons; what data cannot judge
    (customer value, criteria without the data they need) is listed.
    """

    result = validated(paths, project_file)
    try:
        found = candidates.run(
            result.specs, result.project, periods=periods, end=end, max_lag=max_lag, progress=_progress(progress)
        )
    except WarehouseError as exc:
        fail(exc)
    terminal.finish()
    click.echo(escape_bidi(candidates.FORMATS[fmt](found)), nl=fmt != "markdown")


@click.command("demo-data")
@click.option(
    "--uri",
    envvar="NORTHSTAR_WAREHOUSE_URI",
    default="sqlite:///.demo/warehouse.db",
    show_default=True,
    help="SQLAlchemy URI of the warehouse to write (env NORTHSTAR_WAREHOUSE_URI).",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Same seed and end date, same rows.")
@click.option("--end", type=Date(), help="Last day of data (default: today).")
@click.option(
    "--scale",
    type=click.FloatRange(0.01, 10),
    default=1.0,
    show_default=True,
    help="Multiplies every volume; tests use less.",
)
def demo_data_command(uri, seed, end, scale) -> None:
    """Generate the demo warehouse for the example specs.

    About 18 months of synthetic events for each example product, ending on
    END: growth, weekly seasonality, a launch spike and its drop, activation
    and churn, a recent guardrail breach, and an outcome (payouts, seats,
    stays, upgrades) two weeks behind each North Star. Writes SQLite by default,
    PostgreSQL (or any SQLAlchemy database) given a URI. Replaces only tables
    demo-data created itself.
    """
    try:
        url = sa.engine.make_url(uri)
        if url.get_backend_name() == "sqlite" and url.database:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url)
        counts = demo_data.write(engine, demo_data.generate(seed, end, scale))
    except demo_data.DemoDataError as exc:
        raise click.UsageError(str(exc)) from None
    except (sa.exc.SQLAlchemyError, ImportError, ValueError, OSError) as exc:
        raise click.UsageError(f"cannot write the demo warehouse: {_without_secrets(exc, uri)}") from None
    for table, rows in counts.items():
        click.echo(f"{table}: {rows:,} rows")
    click.echo(f"wrote {sum(counts.values()):,} rows to {sa.engine.make_url(uri).render_as_string(hide_password=True)}")


def _without_secrets(exc: Exception, uri: str) -> str:
    """An error message with the URI's password taken out, whatever the driver put in it."""
    message = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    try:
        password = sa.engine.make_url(uri).password
    except Exception:
        password = None
    if password:
        message = message.replace(str(password), "***")
    return f"{type(exc).__name__}: {message}"
