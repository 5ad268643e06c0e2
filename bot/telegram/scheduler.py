"""Sending with a priority, not only a rate: what a person is waiting for goes first.

Telegram allows about 30 messages a second per bot. When more are due than that (hundreds of
people holding at once), a first-in-first-out limiter makes a release wait behind countdown
edits. Here every send waits for a slot in the order of its priority: step messages and cues,
then reminders, then countdown edits. A countdown edit that has waited too long is dropped
(shed): the next one shows the newer number anyway.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from enum import IntEnum


class Priority(IntEnum):
    STEP = 0  # what the person is waiting for: a step, a cue, an answer, a redrawn choice
    REMINDER = 1
    COUNTDOWN = 2  # cosmetic: shed first


# Below Telegram's ~30 a second, leaving room for answers to button presses.
RATE = 25.0
# A countdown edit not sent within this many seconds is dropped.
SHED_AFTER = 2.0


class SendScheduler:
    def __init__(
        self, rate: float = RATE, shed_after: float = SHED_AFTER, burst: float | None = None
    ) -> None:
        self.rate = rate
        self.shed_after = shed_after
        self.burst = rate if burst is None else burst  # sends at once (a second's worth)
        self.shed = 0  # countdown edits dropped so far
        self._waiting: list[tuple[int, int, float, asyncio.Future[bool]]] = []
        self._order = itertools.count()
        self._tokens = self.burst
        self._refilled = time.monotonic()
        self._pump: asyncio.Task[None] | None = None

    async def slot(self, priority: Priority) -> bool:
        """Wait for a turn to send; False when a countdown edit is shed instead."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (int(priority), next(self._order), time.monotonic(), future))
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._run(), name="stretchbot-send-scheduler")
        return await future

    async def _run(self) -> None:
        while self._waiting:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._refilled) * self.rate)
            self._refilled = now
            if self._tokens < 1:
                await asyncio.sleep((1 - self._tokens) / self.rate)
                continue
            priority, _, since, future = heapq.heappop(self._waiting)
            if future.done():  # its sender gave up (shutdown)
                continue
            if priority == Priority.COUNTDOWN and now - since > self.shed_after:
                self.shed += 1
                future.set_result(False)
                continue
            self._tokens -= 1
            future.set_result(True)
