"""The timer loop: sleeps until the earliest due row in the database, then runs what is due.

The database is the source of truth for every timer (see storage), so there is nothing to
re-arm at start-up beyond starting this loop: overdue rows run at once, and the routine decides
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

from bot.clock import Clock

log = logging.getLogger(__name__)

# Even with nothing due, look again this often (a safety net for clock jumps and other
# processes writing timers into the same database).
MAX_SLEEP = 30.0
# On shutdown, timers already running get this long to finish before they are cancelled.
STOP_GRACE = 10.0


@dataclass(frozen=True)
class TimerSource:
    """Something with timers: when its next one is due, and how to run all that are due."""

    next_due: Callable[[], Awaitable[float | None]]
    run_due: Callable[[], Awaitable[int]]


class TimerLoop:
    def __init__(self, clock: Clock, sources: list[TimerSource]) -> None:
        self.clock = clock
        self.sources = sources
        self.wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="stretchbot-timers")

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Let the timers being run finish (up to `grace` seconds), then stop the loop."""
        if self._task is None:
            return
        self._stopping = True
        self.wakeup.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=grace)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
        self._stopping = False

    async def run_due(self) -> int:
        """Run everything due now, every source side by side; return how many timers ran.

        Side by side, so a burst of reminders does not hold up the countdown of a hold.
        """
        return sum(await asyncio.gather(*(source.run_due() for source in self.sources)))

    async def next_due(self) -> float | None:
        """The earliest due time of any source, or None when no timer is set."""
        dues = [d for d in [await s.next_due() for s in self.sources] if d is not None]
        return min(dues) if dues else None

    async def _next_delay(self) -> float:
        due = await self.next_due()
        return MAX_SLEEP if due is None else min(MAX_SLEEP, max(0.0, due - self.clock.now()))

    async def _run(self) -> None:
        while not self._stopping:
            self.wakeup.clear()
            try:
                await self.run_due()
                delay = await self._next_delay()
            except Exception:
                log.exception("the timer loop failed; trying again shortly")
                delay = 1.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), timeout=delay)
