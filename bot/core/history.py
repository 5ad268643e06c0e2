"""A user's history, day by day in their own time zone: what /progress draws and sums up.

Pure: routine records and rest days in, days and figures out. A day counts as done when a
routine was finished on it; a streak is the run of days done or declared rest days that ends
today (or yesterday, while today is still to come).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import mean
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Routine:
    """What /progress needs of one routine of the history."""

    begun_at: float
    finished: bool
    pain_before: int | None
    pain_after: int | None


@dataclass(frozen=True)
class Day:
    day: date
    done: bool = False
    rest: bool = False
    pain_before: float | None = None  # the day's average, when scores were given
    pain_after: float | None = None


@dataclass(frozen=True)
class Report:
    days: tuple[Day, ...]  # the window, oldest first, ending today
    routines: int  # finished in the window
    streak: int
    change: float | None  # average (after - before) over routines with both scores

    @property
    def empty(self) -> bool:
        return not any(d.done or d.rest or d.pain_before is not None for d in self.days)


def local_day(at: float, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(at, zone).date()


def report(
    routines: Sequence[Routine],
    rest_days: Sequence[date],
    now: float,
    zone: ZoneInfo,
    window: int = 30,
) -> Report:
    today = local_day(now, zone)
    first = today - timedelta(days=window - 1)
    by_day: dict[date, list[Routine]] = {}
    for routine in routines:
        by_day.setdefault(local_day(routine.begun_at, zone), []).append(routine)
    rests = set(rest_days)
    days = []
    for offset in range(window):
        day = first + timedelta(days=offset)
        those = by_day.get(day, [])
        befores = [r.pain_before for r in those if r.pain_before is not None]
        afters = [r.pain_after for r in those if r.pain_after is not None]
        days.append(
            Day(
                day,
                done=any(r.finished for r in those),
                rest=day in rests,
                pain_before=mean(befores) if befores else None,
                pain_after=mean(afters) if afters else None,
            )
        )
    in_window = [r for r in routines if first <= local_day(r.begun_at, zone) <= today]
    both = [
        r.pain_after - r.pain_before
        for r in in_window
        if r.pain_before is not None and r.pain_after is not None
    ]
    return Report(
        days=tuple(days),
        routines=sum(r.finished for r in in_window),
        streak=_streak(
            {local_day(r.begun_at, zone) for r in routines if r.finished} | rests, today
        ),
        change=mean(both) if both else None,
    )


def _streak(kept: set[date], today: date) -> int:
    """Days in a row, done or rested, up to today (or yesterday while today is to come)."""
    day = today if today in kept else today - timedelta(days=1)
    count = 0
    while day in kept:
        count += 1
        day -= timedelta(days=1)
    return count
