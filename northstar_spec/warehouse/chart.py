"""The backtest as a picture: the North Star against its outcome and inputs.

Each series is divided by its own average over the window, so metrics in
different units (counts, hours, rates) share one axis and a lead shows as
the same wiggle a little later. matplotlib is an optional extra
(`pip install 'northstar-spec[plot]'`); the CLI does not need it otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from northstar_spec.warehouse.backtest import Backtest
from northstar_spec.warehouse.evaluate import Series

INSTALL = "pip install 'northstar-spec[plot]'"


class PlotUnavailable(Exception):
    """matplotlib is not installed."""


def normalised(series: Series) -> list[float | None]:
    known = [v for v in series.values if v is not None]
    mean = sum(known) / len(known) if known else 0
    return [v / mean if v is not None and mean else None for v in series.values]


def require() -> None:
    """Fail before the queries run, not after."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise PlotUnavailable(f"--png needs matplotlib: {INSTALL}") from None


def _pyplot():
    require()
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def write_png(backtests: Sequence[Backtest], path: Path) -> Path:
    """One panel per spec, stacked; raises PlotUnavailable or OSError."""
    plt = _pyplot()
    figure, axes = plt.subplots(len(backtests), 1, figsize=(11, 3.6 * len(backtests)), squeeze=False)
    try:
        for axis, b in zip(axes[:, 0], backtests):
            x = list(b.periods)
            for series in b.inputs:
                arrow = " (↓ better)" if getattr(series.metric, "direction", None) == "decrease" else ""
                axis.plot(x, normalised(series), linewidth=1, alpha=0.6, label=f"input: {series.metric.name}{arrow}")
            if b.outcome is not None:
                best = b.outcome_lead.best if b.outcome_lead else None
                lag = f", best lag {best.lag}" if best else ""
                axis.plot(
                    x,
                    normalised(b.outcome),
                    linewidth=2,
                    linestyle="--",
                    color="#2a9d8f",
                    label=f"outcome: {b.outcome.metric.name}{lag}",
                )
            axis.plot(
                x,
                normalised(b.north_star),
                linewidth=2.6,
                color="#1d3557",
                label=f"North Star: {b.north_star.metric.name}",
            )
            for flag in b.red_flags:
                if flag.period is not None:
                    axis.axvline(flag.period, color="#e63946", linewidth=0.8, linestyle=":")
            axis.axhline(1.0, color="#999999", linewidth=0.6)
            axis.set_title(f"{b.spec.product.name}: North Star, outcome and inputs per {b.grain}", loc="left")
            axis.set_ylabel("÷ own average")
            axis.legend(fontsize=7, loc="upper left", ncol=2, frameon=False)
            axis.grid(alpha=0.2)
        figure.tight_layout()
        figure.savefig(path, format="png", dpi=100)
    finally:
        plt.close(figure)
    return path
