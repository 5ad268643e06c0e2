"""Time comes from clocks that tests can replace; nothing else reads the system time.

Two notions of time:

- Wall time (`SystemClock`): what the calendar says. Reminders are wall-time notions ("7:00 in
  Madrid"): they follow the wall clock, also when it is set.
- Steady time (`MonotonicClock`): for durations (a hold, a rest, a countdown, the warm-up guide).
  It reads wall time once, at start-up, and from then on advances with `time.monotonic()`, so a
  wall clock set back an hour (or forward) mid-hold neither freezes nor skips the hold. Its
  values are still epoch seconds, close to wall time, so the timers it arms survive a restart
  (a new process anchors again to the wall clock then).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (UTC)."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class MonotonicClock:
    """Epoch seconds that never jump: the wall time at start, then a monotonic count.

    `wall` and `monotonic` default to the system's; tests pass fakes of both."""

    def __init__(
        self, wall: Clock | None = None, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._monotonic = monotonic
        self._anchor_wall = (wall or SystemClock()).now()
        self._anchor_monotonic = monotonic()

    def now(self) -> float:
        return self._anchor_wall + (self._monotonic() - self._anchor_monotonic)


class FakeClock:
    """A clock that moves only when told to: tests advance it instead of sleeping.

    It never jumps by itself, so one FakeClock can serve as both the wall and the steady clock
    (see `steady`)."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        self._now += seconds
        return self._now

    def set(self, at: float) -> None:
        self._now = at


def steady(wall: Clock) -> Clock:
    """The clock for durations that goes with `wall`.

    A FakeClock serves as its own (a test moves it); any other wall clock gets a
    `MonotonicClock` anchored to it now."""
    return wall if isinstance(wall, FakeClock) else MonotonicClock(wall)
