"""The timer loops: each sleeps until the earliest due row of its source, then runs it.

The database is the source of truth for every timer (see storage), so there is nothing to
re-arm at start-up beyond starting these loops: overdue rows run at once, and the routine decides
what a late timer means. python-telegram-bot's JobQueue is not used: its jobs live in memory
only, and its scheduler runs on wall time, which a test's fake clock cannot move.

Knows nothing of Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.runtime.clock import Clock

log = logging.getLogger(__name__)

# Even with nothing due, look again this often (a safety net for clock jumps and other
# processes writing timers into the same database).
MAX_SLEEP = 30.0
# On shutdown, timers already running get this long to finish before they are cancelled.
STOP_GRACE = 10.0


@dataclass(frozen=True)
class TimerSource:
    """Something with timers: when its next one is due, and how to run all that are due.

    `clock`: the clock its due times are on (the routine's are steady, reminders' are wall
    time); None for the loop's own."""

    next_at: Callable[[], Awaitable[float | None]]
    run_due: Callable[[], Awaitable[int]]
    clock: Clock | None = None


class TimerLoop:
    """One loop per source, so a long burst in one (reminders) never delays another (holds)."""

    def __init__(self, clock: Clock, sources: list[TimerSource]) -> None:
        self.clock = clock
        self.sources = sources
        self._wakeups = [asyncio.Event() for _ in sources]
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    def poke(self) -> None:
        """A timer was added or moved: every loop looks again at when to wake."""
        for event in self._wakeups:
            event.set()

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._run(source, wakeup), name=f"stretchbot-timers-{i}")
                for i, (source, wakeup) in enumerate(zip(self.sources, self._wakeups, strict=True))
            ]

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Let the timers being run finish (up to `grace` seconds), then stop the loops."""
        if not self._tasks:
            return
        self._stopping = True
        self.poke()
        _, unfinished = await asyncio.wait(self._tasks, timeout=grace)
        for task in unfinished:
            task.cancel()
        for task in unfinished:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self._stopping = False

    async def run_due(self) -> int:
        """Run everything due now in every source, side by side; return how many timers ran."""
        return sum(await asyncio.gather(*(source.run_due() for source in self.sources)))

    async def next_at(self) -> float | None:
        """The earliest due time of any source, or None when no timer is set (meaningful when
        every source is on the loop's clock; see `next_in` otherwise)."""
        dues = [d for d in [await s.next_at() for s in self.sources] if d is not None]
        return min(dues) if dues else None

    async def next_in(self) -> float | None:
        """Seconds until the earliest timer of any source is due (<= 0: due now), each source
        on its own clock; None when no timer is set."""
        waits = [w for w in [await self._wait(s) for s in self.sources] if w is not None]
        return min(waits) if waits else None

    async def _wait(self, source: TimerSource) -> float | None:
        due = await source.next_at()
        return None if due is None else due - (source.clock or self.clock).now()

    async def _run(self, source: TimerSource, wakeup: asyncio.Event) -> None:
        while not self._stopping:
            wakeup.clear()
            try:
                await source.run_due()
                wait = await self._wait(source)
                delay = MAX_SLEEP if wait is None else min(MAX_SLEEP, max(0.0, wait))
            except Exception:
                log.exception("a timer loop failed; trying again shortly")
                delay = 1.0
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
            # that comes as the wake-up is set, and the loop would never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await wakeup.wait()
