"""The timer loops on the real clock: what is due runs by itself; no source waits for another."""

from __future__ import annotations

import asyncio
import time

from bot.runtime.clock import FakeClock, MonotonicClock, SystemClock, steady
from bot.runtime.timers import TimerLoop, TimerSource


class Source:
    """A timer source with one due time; running it can be made to take as long as a test likes."""

    def __init__(self, due: float | None, hold: asyncio.Event | None = None) -> None:
        self.due = due
        self.hold = hold
        self.ran_at: list[float] = []

    async def next_due(self) -> float | None:
        return self.due

    async def run_due(self) -> int:
        if self.due is None or self.due > time.time():
            return 0
        self.due = None
        self.ran_at.append(time.time())
        if self.hold is not None:
            await self.hold.wait()
        return 1

    def source(self) -> TimerSource:
        return TimerSource(self.next_due, self.run_due)


async def test_a_long_burst_in_one_source_does_not_delay_another() -> None:
    """While reminders take their time, a hold's timer due meanwhile still runs on time."""
    burst_done = asyncio.Event()
    reminders = Source(time.time(), hold=burst_done)
    holds = Source(None)
    loop = TimerLoop(SystemClock(), [reminders.source(), holds.source()])
    loop.start()
    await asyncio.sleep(0.05)
    hold_due = holds.due = time.time() + 0.1
    loop.poke()
    await asyncio.sleep(0.3)
    assert len(reminders.ran_at) == 1 and len(holds.ran_at) == 1
    assert holds.ran_at[0] - hold_due < 0.1  # not after the burst, which has not even ended
    burst_done.set()
    await loop.stop(grace=1)


async def test_stop_lets_a_running_timer_finish() -> None:
    """Stopping waits for the timer being run, within the grace period."""
    finish = asyncio.Event()
    source = Source(time.time(), hold=finish)
    loop = TimerLoop(SystemClock(), [source.source()])
    loop.start()
    await asyncio.sleep(0.05)
    stopping = asyncio.create_task(loop.stop(grace=2))
    await asyncio.sleep(0.05)
    assert not stopping.done()
    finish.set()
    await asyncio.wait_for(stopping, timeout=1)


def test_the_steady_clock_starts_at_wall_time_and_ignores_the_wall_clock_being_set() -> None:
    """Anchored to the wall clock at start, then moved by the monotonic count only."""
    wall, ticks = FakeClock(), FakeClock(start=5.0)
    clock = MonotonicClock(wall, ticks.now)
    assert clock.now() == wall.now()
    wall.advance(-3600)
    ticks.advance(2.5)
    assert clock.now() == wall.now() + 3600 + 2.5
    assert steady(wall) is wall  # a fake clock serves as both
    assert isinstance(steady(SystemClock()), MonotonicClock)
