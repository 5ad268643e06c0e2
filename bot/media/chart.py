"""The /progress chart: pain before and after over the last days, the days a routine was done
or rested, and the streak, as a PNG for a phone (matplotlib, non-interactive Agg backend).

Large type, two colours colour-blind people can tell apart (Okabe-Ito blue and orange, with
different markers and line styles too), a legend. Every word comes from the language file.
Pure apart from matplotlib: call it from a worker thread (it takes a few hundred ms).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from bot.core.history import Report

if TYPE_CHECKING:
    pass

# 1000 x 700 px: wide enough for 30 days, large type for a phone.
WIDTH_IN, HEIGHT_IN, DPI = 10.0, 7.0, 100
BEFORE = "#0072B2"  # Okabe-Ito blue
AFTER = "#E69F00"  # Okabe-Ito orange
DONE = "#009E73"  # Okabe-Ito bluish green
REST = "#999999"


@dataclass(frozen=True)
class Labels:
    title: str
    before: str
    after: str
    done: str
    rest: str
    pain_axis: str


def draw(report: Report, labels: Labels) -> bytes:
    """The chart as PNG bytes (1000 x 700).

    matplotlib is imported here, at the first chart: it takes about a second to import, which
    the bot's start-up should not pay."""
    import matplotlib

    matplotlib.use("Agg")  # no display, no GUI toolkit
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    axes = figure.add_subplot()
    days = [d.day for d in report.days]
    x = dict(zip(days, _numbers(days), strict=True))  # matplotlib's date numbers
    for series, colour, marker, style, label in (
        ([d.pain_before for d in report.days], BEFORE, "o", "-", labels.before),
        ([d.pain_after for d in report.days], AFTER, "s", "--", labels.after),
    ):
        points = [(x[day], v) for day, v in zip(days, series, strict=True) if v is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            axes.plot(
                xs, ys, color=colour, marker=marker, linestyle=style, linewidth=3,
                markersize=10, label=label,
            )  # fmt: skip
    done = [x[d.day] for d in report.days if d.done]
    rest = [x[d.day] for d in report.days if d.rest and not d.done]
    if done:
        axes.scatter(done, [-0.6] * len(done), marker="^", s=160, color=DONE, label=labels.done)
    if rest:
        axes.scatter(rest, [-0.6] * len(rest), marker="D", s=110, color=REST, label=labels.rest)
    axes.set_ylim(-1.2, 10.5)
    axes.set_yticks(range(0, 11, 2))
    axes.set_xlim(x[days[0]] - 0.7, x[days[-1]] + 0.7)
    axes.xaxis.set_major_locator(mdates.DayLocator(interval=7))  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))  # type: ignore[no-untyped-call]
    axes.set_ylabel(labels.pain_axis, fontsize=20)
    axes.set_title(labels.title, fontsize=24, pad=16)
    axes.tick_params(labelsize=17)
    axes.grid(axis="y", alpha=0.3)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    if axes.get_legend_handles_labels()[0]:
        # Below the plot, where it never covers a point.
        axes.legend(
            fontsize=17, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, frameon=False
        )
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def _numbers(days: list[date]) -> list[float]:
    import matplotlib.dates as mdates

    return [float(n) for n in mdates.date2num(days)]  # type: ignore[no-untyped-call]


def sample() -> Report:
    """Four weeks of made-up routines, for the README's picture and for looking at a change."""
    import random
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from bot.core.history import Routine, report

    now = 1_795_000_000.0  # 2026-11-18
    rng = random.Random(4)
    routines = []
    for day in range(30):
        if rng.random() < 0.7:
            before = max(0, 7 - day // 5 + rng.randint(-1, 1))
            after = max(0, before - rng.randint(0, 3))
            routines.append(Routine(now - (29 - day) * 86400 - 3600, True, before, after))
    rests = [date(2026, 11, 16) - timedelta(days=d) for d in range(2)]
    return report(routines, rests, now, ZoneInfo("Europe/London"))


if __name__ == "__main__":  # python -m bot.media.chart out.png: the chart of sample()
    import sys
    from pathlib import Path

    from bot.core.content import load_content

    words = load_content().texts("en").report
    shown = sample()
    labels = Labels(
        words.title.format(days=30, streak=shown.streak), words.before, words.after,
        words.done, words.rest, words.pain_axis,
    )  # fmt: skip
    Path(sys.argv[1] if len(sys.argv) > 1 else "chart.png").write_bytes(draw(shown, labels))
